"""Deltas from cumulative snapshots: what to append to a stream so the client ends with the answer.

The page reports the whole answer so far on every frame. Two things make naive slicing wrong:

* End-of-string flicker: an intermediate snapshot may end with a dangling ``\\n```\\``, a lone
  backtick, a trailing backslash (half an escape) or whitespace that the next snapshot rewrites.
  Such a tail is held back (``stable_length``) until later text proves it, or the final text
  confirms it.
* Rewrites: a snapshot that does not extend what was already sent. Nothing sent is ever resent or
  retracted. The tracker first checks whether the new text extends the literal text sent; if not,
  it re-aligns the end of what it sent inside the new text (``difflib``) and continues from there,
  emitting nothing when no confident alignment exists.

Guarantee (property-tested): when the final text extends the text sent so far, the concatenation
of all deltas equals the final text. When it does not (a rewrite contradicted text already sent),
the stream cannot be repaired; the tracker continues after the aligned point (or emits nothing) and
reports ``diverged``; non-streaming responses always use the final text itself.
"""

from __future__ import annotations

import difflib
import re

__all__ = ["DeltaTracker", "stable_length"]

# A tail of whitespace, backticks and backslashes may still be rewritten by the next frame.
_UNSTABLE_TAIL = re.compile(r"[\s`\\]+\Z")
# An alignment must cover at least this many characters (or all of the sent text) to be trusted.
_MIN_ALIGNMENT = 8


def stable_length(snapshot: str) -> int:
    """Length of the prefix of an intermediate snapshot that will not flicker away."""
    match = _UNSTABLE_TAIL.search(snapshot)
    return match.start() if match else len(snapshot)


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
        if text.startswith(self.sent):
            start = len(self.sent)
        elif self._basis and text.startswith(self._basis):
            start = len(self._basis)
        else:
            self.diverged = True
            aligned = self._align(text)
            if aligned is None:
                return ""
            start = aligned
        delta = text[start:stable] if stable > start else ""
        self._basis = text[: start + len(delta)]
        self.sent += delta
        return delta

    def _align(self, text: str) -> int | None:
        """Where the end of the sent text lands in ``text``, when a long enough match shows it."""
        basis = self._basis or self.sent
        matcher = difflib.SequenceMatcher(None, basis, text, autojunk=False)
        blocks = [block for block in matcher.get_matching_blocks() if block.size]
        if not blocks:
            return None
        last = blocks[-1]
        if last.a + last.size != len(basis) or last.size < min(len(basis), _MIN_ALIGNMENT):
            return None
        return last.b + last.size
