"""Google's text parts never carry thoughts. Under ``reasoning_format: think_tags`` the chat answer's
text starts with ``<think>…</think>`` (``service.reasoning.ThinkTags``); the door takes that block out,
whole or as it streams."""

from __future__ import annotations

from service.reasoning import strip_think

__all__ = ["ThinkStripper", "strip_think", "think_block"]

_OPEN, _CLOSE = "<think>", "</think>"


def think_block(text: str) -> str:
    """The thoughts of a leading think block ("" without one; an unclosed block is all thoughts)."""
    head = text.lstrip()
    if not head.startswith(_OPEN):
        return ""
    inside = head[len(_OPEN) :]
    end = inside.find(_CLOSE)
    return inside if end < 0 else inside[:end]


class ThinkStripper:
    """``feed`` text deltas, get them back without a leading think block (held while it may be one)."""

    def __init__(self) -> None:
        self._held = ""
        self._state = "start"  # start: undecided; inside: in the block; after: passing text through
        self._leading = False  # just past the block: its trailing blank lines are dropped

    def feed(self, delta: str) -> str:
        if self._state == "after":
            return self._pass(delta)
        self._held += delta
        if self._state == "start":
            head = self._held.lstrip()
            if len(head) < len(_OPEN) and _OPEN.startswith(head):
                return ""
            if not head.startswith(_OPEN):
                self._state, out, self._held = "after", self._held, ""
                return out
            self._state = "inside"
        end = self._held.find(_CLOSE)
        if end < 0:
            return ""
        rest = self._held[end + len(_CLOSE) :]
        self._state, self._held, self._leading = "after", "", True
        return self._pass(rest)

    def finish(self) -> str:
        """What is still held: undecided text is text; an unclosed block is all thoughts."""
        out = self._held if self._state == "start" else ""
        self._held, self._state = "", "after"
        return out

    def _pass(self, text: str) -> str:
        if self._leading:
            text = text.lstrip()
            self._leading = not text
        return text
