"""Deltas from cumulative snapshots: what to append to a stream so the client ends with the answer.

The page reports the whole answer so far on every frame. Three things make naive slicing wrong:

* End-of-string flicker: an intermediate snapshot may end with a dangling ``\\n```\\``, a lone
  backtick, a trailing backslash or a backslash-escaped marker (half an escape), or whitespace that
  the next snapshot rewrites. Such a tail is held back (``stable_length``) until later text proves
  it, or the final text confirms it.
* Half placeholders: ``http://googleusercontent.com/<kind>/<n>`` tokens are removed from the text
  only once complete (docs/architecture/wire-protocol.md#placeholders), so a snapshot may end with any prefix
  of one
  (``http://googleusercontent.com/youtube_cont``). Those tails are held back too.
* Rewrites: a snapshot that does not extend what was already sent (raw text that switches to the
  ``card_content`` text, an edited word). Nothing sent is ever resent or retracted. The tracker
  looks for the end of what it sent near the same place in the new text (a bounded search, never a
  diff of the whole answer: this runs on the event loop for every frame); when that fails it keeps
  emitting from the longest common prefix, so everything the new text says after that point reaches
  the client, and it reports ``diverged``.

Guarantee (property-tested): when the final text extends the text sent so far, the concatenation
of all deltas equals the final text; held-back tails make that the case for every prefix of an
answer's raw text. Non-streaming responses always use the final text itself.
"""

from __future__ import annotations

import re

__all__ = ["DeltaTracker", "stable_length"]

_PLACEHOLDER_ROOT = "http://googleusercontent.com/"
# A complete root followed by a kind (of one or more segments, ``image_collection/image_retrieval``,
# docs/architecture/evidence.md#f20) and a slash without digits yet: ``.../youtube_content/``.
_PLACEHOLDER_PARTIAL = re.compile(r"http://googleusercontent\.com/(?:\w+/)*\w*\Z")
# How far back a placeholder prefix can start: the root, the longest kind name, and a slash.
_PLACEHOLDER_REACH = len(_PLACEHOLDER_ROOT) + 64
_ESCAPABLE = frozenset("\\`*_{}[]()#+-.!~>|<")
# Alignment after a rewrite: the last characters sent (the longest of ``_ANCHORS`` that matches)
# must reappear within ``_WINDOW`` characters of where they were; a sent text shorter than
# ``_MIN_ALIGNMENT`` is too short to be found reliably. Each search is linear in ``_WINDOW``.
_ANCHORS = (32, 16, 8)
_WINDOW = 2048
_MIN_ALIGNMENT = 8


def _placeholder_tail(text: str) -> int | None:
    """Where a trailing, still incomplete placeholder starts, if ``text`` ends with one."""
    start = max(0, len(text) - _PLACEHOLDER_REACH)
    index = text.find("h", start)
    while index != -1:
        tail = text[index:]
        if _PLACEHOLDER_ROOT.startswith(tail) or _PLACEHOLDER_PARTIAL.match(tail):
            return index
        index = text.find("h", index + 1)
    return None


def _unstable_chars(text: str, end: int) -> int:
    """``end`` moved back over trailing whitespace, backticks, backslashes and escaped markers."""
    while end > 0:
        char = text[end - 1]
        if char.isspace() or char in "`\\":
            end -= 1
        elif end >= 2 and text[end - 2] == "\\" and char in _ESCAPABLE:
            end -= 2
        else:
            break
    return end


def stable_length(snapshot: str) -> int:
    """Length of the prefix of an intermediate snapshot that will not flicker away."""
    end = len(snapshot)
    while True:
        end = _unstable_chars(snapshot, end)
        placeholder = _placeholder_tail(snapshot[:end])
        if placeholder is None:
            return end
        end = placeholder


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix, by bisection over C-speed ``startswith``."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if b.startswith(a[:middle]):
            low = middle
        else:
            high = middle - 1
    return low


class DeltaTracker:
    """Turns successive cumulative snapshots of one text field into non-overlapping deltas."""

    def __init__(self) -> None:
        self.sent = ""  # the literal concatenation of every delta returned so far
        self._basis = ""  # the sent text as it reads in the latest upstream version
        self.diverged = False

    def update(self, snapshot: str) -> str:
        """Delta for an intermediate snapshot (its unstable tail is held back)."""
        return self._advance(snapshot, stable_length(snapshot))

    def finish(self, final: str) -> str:
        """Delta for the final, authoritative text (nothing is held back)."""
        return self._advance(final, len(final))

    def _advance(self, text: str, stable: int) -> str:
        if text.startswith(self._basis):
            start = len(self._basis)
        elif text.startswith(self.sent):
            start = len(self.sent)
        elif self._basis.startswith(text[:stable]):
            return ""  # a shorter snapshot (held-back tail or a stutter): wait for growth
        else:
            self.diverged = True
            aligned = self._align(text)
            start = aligned if aligned is not None else _common_prefix(self._basis, text)
        delta = text[start:stable] if stable > start else ""
        self._basis = text[: start + len(delta)]
        self.sent += delta
        return delta

    def _align(self, text: str) -> int | None:
        """Where the end of the sent text lands in ``text``, searched near where it was."""
        basis = self._basis
        if len(basis) < _MIN_ALIGNMENT:
            return None
        expected = len(basis)
        for size in _ANCHORS:
            anchor = basis[-size:]
            before = text.rfind(anchor, max(0, expected - _WINDOW - len(anchor)), expected)
            after = text.find(anchor, expected - len(anchor), expected + _WINDOW)
            ends = [found + len(anchor) for found in (before, after) if found != -1]
            if ends:
                return min(ends, key=lambda end: abs(end - expected))
        return None
