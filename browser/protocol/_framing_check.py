"""A strict checker of the ``rt=c`` framing rules, for fidelity tests
(docs/architecture/wire-protocol.md#framing).

Unlike the splitter, which trusts declared lengths to find frame ends, the checker reads each frame
as the line after its length line (Google's compact JSON never holds a raw newline) and compares
the declared length with the measured one, so one wrong length is reported once instead of
derailing the rest of the body.
"""

from __future__ import annotations

import json
from typing import Any

from browser.protocol._frames import GUARD, utf16_len

__all__ = ["check_framing"]


def _trailer(item: Any) -> tuple[Any, Any] | None:
    if isinstance(item, list) and item and item[0] == "e":
        return (item[1] if len(item) > 1 else None, item[4] if len(item) > 4 else None)
    return None


class _Check:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.violations: list[str] = []
        self.items = 0
        self.trailers: list[tuple[int, tuple[Any, Any]]] = []

    def run(self) -> list[str]:
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return [f"body is not valid UTF-8 at byte {exc.start}"]
        if not text.startswith(GUARD + "\n\n"):
            self.violations.append("body does not start with the )]}' guard and an empty line")
            if not text.startswith(GUARD):
                return self.violations
        self._frames(text[len(GUARD) :].lstrip("\n"))
        self._check_trailer()
        return self.violations

    def _frames(self, rest: str) -> None:
        lines = rest.split("\n")
        if lines[-1] != "":
            self.violations.append("body does not end with a newline")
        lines = lines[:-1] if lines[-1] == "" else lines
        for number, index in enumerate(range(0, len(lines), 2), start=1):
            digits = lines[index]
            if not (digits.isascii() and digits.isdecimal()):
                self.violations.append(f"frame {number}: expected a length line, found {digits[:20]!r}")
                return
            if index + 1 >= len(lines):
                self.violations.append(f"frame {number}: length {digits} without a JSON line")
                return
            self._frame(number, int(digits), lines[index + 1])

    def _frame(self, number: int, declared: int, payload: str) -> None:
        measured = utf16_len(payload) + 2
        if declared != measured:
            self.violations.append(
                f"frame {number}: declared length {declared}, but utf16len(json) + 2 = {measured}"
            )
        try:
            items = json.loads(payload)
        except ValueError as exc:
            self.violations.append(f"frame {number}: JSON does not parse ({exc})")
            return
        if not isinstance(items, list):
            self.violations.append(f"frame {number}: JSON is not a list of items")
            return
        for item in items:
            self.items += 1
            trailer = _trailer(item)
            if trailer is not None:
                self.trailers.append((self.items, trailer))

    def _check_trailer(self) -> None:
        if not self.trailers:
            self.violations.append("no trailer ['e', ...] item")
            return
        if len(self.trailers) > 1:
            self.violations.append(f"{len(self.trailers)} trailer items, expected one")
        position, (count, total) = self.trailers[-1]
        if position != self.items:
            self.violations.append(f"trailer is item {position} of {self.items}, not the last")
        if count != self.items:
            self.violations.append(f"trailer counts {count} items, the body has {self.items}")
        if total != len(self.body):
            self.violations.append(f"trailer says {total} bytes, the body has {len(self.body)}")


def check_framing(body: bytes) -> list[str]:
    """Human-readable violations of the framing rules in ``body``; empty when it is well formed."""
    return _Check(body).run()
