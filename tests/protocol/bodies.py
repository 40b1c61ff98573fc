"""Builders of synthetic StreamGenerate bodies for the decoder tests.

Written here from docs/architecture/wire-protocol.md rather than imported from ``simulator/``, so a shared
misreading cannot make the decoder and its fixtures agree by accident.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

GUARD = ")]}'\n\n"
BARD_ERROR = "type.googleapis.com/assistant.boq.bard.application.BardErrorInfo"
CID = "c_0123456789abcdef"
RID = "r_fedcba9876543210"
RCID = "rc_00112233445566ff"


def dumps(value: Any) -> str:
    """Compact JSON with raw non-ASCII and ``= < > &`` escaped, as Google's servers write it."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("=", "\\u003d"), ("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    return text


def units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def frame(items: Sequence[Any]) -> str:
    text = dumps(list(items))
    return f"{units(text) + 2}\n{text}\n"


def result(payload: Any) -> list[Any]:
    return ["wrb.fr", None, dumps(payload)]


def error(status: int, code: int) -> list[Any]:
    return ["wrb.fr", None, None, None, None, [status, None, [[BARD_ERROR, [code]]]]]


def stats() -> list[list[Any]]:
    return [["di", 120], ["af.httprm", 119, "-4146049163487242749", 3]]


def body(frames: Sequence[Sequence[Any]], *, trailer: bool = True) -> bytes:
    """A full body: guard, the frames (each a list of items), and a correct trailer."""
    text = GUARD + "".join(frame(items) for items in frames)
    if not trailer:
        return text.encode("utf-8")
    count = sum(len(items) for items in frames) + 1
    size = len(text.encode("utf-8"))
    total = size
    while True:  # the trailer's own size is part of the total it states
        closing = frame([["e", count, None, None, total]])
        if size + len(closing.encode("utf-8")) == total:
            return (text + closing).encode("utf-8")
        total = size + len(closing.encode("utf-8"))


def locator(rid: str = RID) -> list[Any]:
    return [
        None,
        [None, rid],
        {"18": rid, "21": ["Z_3Xm2emjNvIjTX4b65d2zwVL8Z25cqZFXGoPXcBwnU"], "44": False},
    ]


def candidate(
    text: str,
    *,
    done: bool = False,
    thoughts: str | None = None,
    rich: Any = None,
    canvas: Any = None,
    card: str | None = None,
    extra: dict[str, Any] | None = None,
    rcid: str = RCID,
) -> list[Any]:
    cand: list[Any] = [None] * 44
    cand[0] = rcid
    cand[1] = [text]
    cand[8] = [2 if done else 1]
    cand[12] = rich
    if card is not None:
        cand[22] = [card]
    cand[30] = canvas
    if thoughts is not None:
        cand[37] = [[thoughts]]
    if extra is not None:
        cand.append(extra)
    return cand


def content(*candidates: list[Any], model: tuple[str, str] | None = None) -> list[Any]:
    inner: list[Any] = [None] * 48
    inner[1] = [CID, RID]
    inner[4] = list(candidates)
    if model is not None:
        inner[39], inner[42] = model
    return inner


def quota(reset: int = 1774263794, nanos: int = 62000000, model: str = "fbb127bbb056c959") -> list[Any]:
    buckets = [[[1, 20, 1], 1, 6, [reset, nanos], 15, 14], [[1, 16, 1], 1, 1, [reset, 0], 200, 197]]
    return [None, [CID, RID], {"28": [buckets, model], "44": False}]


def context(token: str = "AwAAAAAAAAAQANM7mBjXKZQ55XBf0Rk") -> list[Any]:
    return [None, [CID, RID], {"26": token, "44": False}]


def chunked(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``data`` cut at the given offsets (any order, duplicates allowed)."""
    points = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


def streamed_answer(text: str, *, steps: int = 4, thoughts: str = "") -> bytes:
    """A signed-in turn: locator, growing content frames, final frame, quota, context, stats."""
    cut_points = [len(text) * k // steps for k in range(1, steps)]
    frames: list[list[Any]] = [[result(locator())]]
    for cut in cut_points:
        frames.append([result(content(candidate(text[:cut], thoughts=thoughts or None)))])
    final = candidate(text, done=True, thoughts=thoughts or None)
    frames.append([result(content(final, model=("56fdd199312815e2", "3.5 Flash")))])
    frames += [[result(quota())], [result(context())], stats()]
    return body(frames)
