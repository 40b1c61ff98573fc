"""How thoughts reach clients (setting ``reasoning_format``): some clients read a
``reasoning_content`` field, some render only ``<think>…</think>`` at the start of ``content``."""

from __future__ import annotations

import re
from enum import StrEnum

from browser import ThinkingLevel

__all__ = ["EFFORTS", "ReasoningFormat", "ReasoningShaper", "ThinkTags", "strip_think", "thinking_level"]

# OpenAI's reasoning efforts and the page's thinking level each becomes (the page offers three at
# most: Low/Medium/High in October 2026, Standard/Extended before, where low and medium are Standard).
EFFORTS: dict[str, ThinkingLevel] = {
    "none": ThinkingLevel.LOW,
    "minimal": ThinkingLevel.LOW,
    "low": ThinkingLevel.LOW,
    "medium": ThinkingLevel.MEDIUM,
    "high": ThinkingLevel.HIGH,
    "xhigh": ThinkingLevel.HIGH,
}


def thinking_level(effort: str | None) -> ThinkingLevel | None:
    """The page's level for an OpenAI ``reasoning_effort``; None leaves the page's level as it is."""
    return None if effort is None else EFFORTS[effort]


class ReasoningFormat(StrEnum):
    REASONING_CONTENT = "reasoning_content"
    THINK_TAGS = "think_tags"
    NONE = "none"


class ThinkTags:
    """Streams thoughts and text as one content string: ``<think>`` + thoughts + ``</think>`` + text.

    ``feed`` takes a (reasoning, content) delta pair and returns the content delta to send. The
    block closes once thoughts stop growing; text that arrives while they still grow is held
    until then (on the page thoughts come first, so this holds nothing there).
    """

    def __init__(self) -> None:
        self.opened = False
        self.closed = False
        self._held = ""

    def feed(self, reasoning: str, content: str) -> str:
        out = ""
        if reasoning and not self.closed:
            if not self.opened:
                out, self.opened = "<think>\n", True
            out += reasoning
            self._held += content
            return out
        if content or self._held:
            out += self._close() + self._held + content
            self._held = ""
        return out

    def close(self) -> str:
        out = self._close() + self._held
        self._held = ""
        return out

    def _close(self) -> str:
        if self.opened and not self.closed:
            self.closed = True
            return "\n</think>\n\n"
        self.closed = True
        return ""

    @staticmethod
    def whole(thoughts: str | None, text: str) -> str:
        return f"<think>\n{thoughts}\n</think>\n\n{text}" if thoughts else text


_THINK_BLOCK = re.compile(r"^\s*<think>.*?</think>\s*", re.DOTALL)


def strip_think(text: str) -> str:
    """``text`` without a leading ``<think>…</think>`` block (what ``think_tags`` clients resend)."""
    return _THINK_BLOCK.sub("", text, count=1)


class ReasoningShaper:
    """Shapes one answer's (thoughts, text) pair, or their streamed deltas, for the format."""

    def __init__(self, format: ReasoningFormat) -> None:
        self.format = format
        self._tags = ThinkTags()

    def delta(self, reasoning: str, content: str, *, final: bool = False) -> tuple[str, str]:
        if self.format is ReasoningFormat.REASONING_CONTENT:
            return reasoning, content
        if self.format is ReasoningFormat.NONE:
            return "", content
        shown = self._tags.feed(reasoning, content)
        return "", shown + (self._tags.close() if final else "")

    def whole(self, thoughts: str | None, text: str | None) -> tuple[str | None, str | None]:
        if self.format is ReasoningFormat.REASONING_CONTENT:
            return thoughts or None, text
        if self.format is ReasoningFormat.NONE or not thoughts:
            return None, text
        return None, ThinkTags.whole(thoughts, text or "")
