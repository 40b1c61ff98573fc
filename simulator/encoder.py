"""The simulator's own writer of the ``rt=c`` framing (protocol.md §4), independent of ``browser/``.

A body is ``)]}'\\n\\n`` then frames ``<utf16 units + 2>\\n<json>\\n``; the last frame is the trailer
``[["e", <items incl. itself>, null, null, <UTF-8 bytes of the whole body incl. the trailer>]]``.
"""

from __future__ import annotations

import json

GUARD = ")]}'\n\n"

# Google's boq servers never write these raw, at either nesting level (protocol.md §4).
_ESCAPES = (("=", "\\u003d"), ("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))


def dumps(value: object) -> str:
    """Compact JSON, non-ASCII left raw, with ``= < > &`` written as unicode escapes."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return text


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, i.e. JavaScript's ``String.length``."""
    return len(text.encode("utf-16-le")) // 2


def frame(items: list[object]) -> str:
    """One length-prefixed frame holding ``items`` (a list of envelope items)."""
    body = dumps(items)
    return f"{utf16_len(body) + 2}\n{body}\n"


def result_envelope(payload: object) -> list[object]:
    """A StreamGenerate result item: the payload is JSON-encoded a second time, as Google does."""
    return ["wrb.fr", None, dumps(payload)]


def error_envelope(status: int, code: int) -> list[object]:
    """The BardErrorInfo error item; the code sits at envelope path [5][2][0][1][0]."""
    return [
        "wrb.fr",
        None,
        None,
        None,
        None,
        [status, None, [["type.googleapis.com/assistant.boq.bard.application.BardErrorInfo", [code]]]],
    ]


def rpc_envelope(rpc_id: str, payload: object, identifier: str) -> list[object]:
    """A batchexecute result item: the RPC id, the payload JSON-encoded again, the caller's identifier."""
    return ["wrb.fr", rpc_id, dumps(payload), None, None, None, identifier]


def rpc_rejection(rpc_id: str, code: int, identifier: str) -> list[object]:
    """The short batchexecute rejection item: no payload, the status at ``[5][0]`` (protocol.md §4)."""
    return ["wrb.fr", rpc_id, None, None, None, [code], identifier]


def trailer(items_before: int, bytes_before: int) -> str:
    """The ``e`` trailer frame; its byte total counts the trailer itself, found by a fixed point."""
    total = bytes_before
    while True:
        text = frame([["e", items_before + 1, None, None, total]])
        grown = bytes_before + len(text.encode("utf-8"))
        if grown == total:
            return text
        total = grown


class BodyWriter:
    """Counts items and bytes of a body as its pieces are produced, so the trailer can close it."""

    def __init__(self) -> None:
        self.items = 0
        self.bytes = 0
        self.frames = 0

    def guard(self) -> bytes:
        return self._emit(GUARD)

    def frame(self, items: list[object]) -> bytes:
        self.items += len(items)
        self.frames += 1
        return self._emit(frame(items))

    def trailer(self) -> bytes:
        text = trailer(self.items, self.bytes)
        self.items += 1
        self.frames += 1
        return self._emit(text)

    def _emit(self, text: str) -> bytes:
        data = text.encode("utf-8")
        self.bytes += len(data)
        return data
