"""Limits Gemini's web app cannot be told but the gateway can honour: ``stop`` sequences and the
token budget (``max_tokens`` / ``max_completion_tokens``), counted by the same estimate as usage
(about four characters a token). The answer is cut; serving stops the page once a cut is known."""

from __future__ import annotations

from dataclasses import dataclass

from service.errors import InvalidRequest

__all__ = ["CHARS_PER_TOKEN", "Cut", "Limits", "limits_of"]

CHARS_PER_TOKEN = 4
MAX_STOP_SEQUENCES = 4


@dataclass(frozen=True)
class Cut:
    text: str
    reason: str | None  # "stop" (a stop sequence), "length" (the budget), None (not cut)
    sequence: str | None = None  # the stop sequence that cut (reason "stop"), for the doors that name it


@dataclass(frozen=True)
class Limits:
    stop: tuple[str, ...] = ()
    max_tokens: int | None = None

    @property
    def active(self) -> bool:
        return bool(self.stop) or self.max_tokens is not None

    def cut(self, text: str) -> Cut:
        """``text`` cut before the first stop sequence, then at the budget."""
        reason: str | None = None
        sequence: str | None = None
        ends = [(index, s) for s in self.stop if (index := text.find(s)) >= 0]
        if ends:
            end, sequence = min(ends, key=lambda found: found[0])
            text, reason = text[:end], "stop"
        if self.max_tokens is not None and len(text) > self.max_tokens * CHARS_PER_TOKEN:
            text, reason, sequence = text[: self.max_tokens * CHARS_PER_TOKEN], "length", None
        return Cut(text, reason, sequence)

    def visible(self, text: str) -> str:
        """What of a growing answer may be streamed: cut, minus a tail that may start a stop sequence."""
        cut = self.cut(text)
        if cut.reason is not None:
            return cut.text
        hold = 0
        for sequence in self.stop:
            for size in range(min(len(sequence) - 1, len(text)), 0, -1):
                if text.endswith(sequence[:size]):
                    hold = max(hold, size)
                    break
        return text[: len(text) - hold]


def limits_of(
    stop: str | list[str] | None, max_tokens: int | None, max_completion_tokens: int | None
) -> Limits:
    sequences = (stop,) if isinstance(stop, str) else tuple(stop or ())
    if len(sequences) > MAX_STOP_SEQUENCES:
        raise InvalidRequest(f"At most {MAX_STOP_SEQUENCES} stop sequences.", param="stop")
    if any(not sequence for sequence in sequences):
        raise InvalidRequest("Stop sequences must not be empty.", param="stop")
    budget = max_completion_tokens if max_completion_tokens is not None else max_tokens
    if budget is not None and budget < 1:
        raise InvalidRequest("max_tokens must be at least 1.", param="max_tokens")
    return Limits(stop=sequences, max_tokens=budget)
