"""Envelope items of a frame: results, BardErrorInfo errors, stats, the trailer, the xsrf 400 body.

Each frame's JSON is a list of items (protocol.md §4). ``wrb.fr`` items carry either a payload
(a JSON document encoded a second time as a string) or an error at envelope index 5. ``di`` and
``af.httprm`` are server timings, ``e`` is the end-of-stream trailer, and ``er`` is the body of the
HTTP 400 that answers a missing or stale ``at`` token. Anything else is kept as unknown, not fatal:
Google adds item kinds without notice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from browser.errors import ProtocolError
from browser.protocol._jspb import jspb_get

__all__ = [
    "Envelope",
    "ErrorEnvelope",
    "ResultEnvelope",
    "StatsEnvelope",
    "TrailerEnvelope",
    "UnknownEnvelope",
    "XsrfError",
    "parse_frame",
    "parse_item",
]


@dataclass(frozen=True)
class ResultEnvelope:
    """``["wrb.fr", rpc_id, "<payload json>", ...]``; ``payload`` is the decoded inner document."""

    rpc_id: str | None
    payload: Any


@dataclass(frozen=True)
class ErrorEnvelope:
    """A ``wrb.fr`` error: gRPC-like ``status`` and the BardErrorInfo ``code`` when one is given."""

    status: int | None
    code: int | None


@dataclass(frozen=True)
class StatsEnvelope:
    """Server timing items ``["di", ms]`` and ``["af.httprm", ms, trace, n]``."""

    kind: Literal["di", "af.httprm"]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class TrailerEnvelope:
    """``["e", items, null, null, total_bytes]``: items in the whole body, body size in UTF-8 bytes."""

    items: int
    total_bytes: int


@dataclass(frozen=True)
class XsrfError:
    """The ``er`` item of a 400 answer naming ``xsrf``; ``token`` is the fresh one when sent."""

    token: str | None


@dataclass(frozen=True)
class UnknownEnvelope:
    """An item this decoder does not know, kept verbatim."""

    raw: Any


Envelope = ResultEnvelope | ErrorEnvelope | StatsEnvelope | TrailerEnvelope | XsrfError | UnknownEnvelope


def frame_items(text: str) -> list[Any]:
    """The raw items of one frame's JSON text; raises ``ProtocolError`` if it is not a JSON list."""
    try:
        items = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"frame is not valid JSON: {exc}") from exc
    if not isinstance(items, list):
        raise ProtocolError(f"frame is a JSON {type(items).__name__}, not a list of items")
    return items


def parse_frame(text: str) -> list[Envelope]:
    """The envelope items of one frame's JSON text; raises ``ProtocolError`` if it is not a list."""
    return [parse_item(item) for item in frame_items(text)]


def parse_item(item: Any) -> Envelope:
    """One envelope item, classified by its leading tag."""
    if not isinstance(item, list) or not item or not isinstance(item[0], str):
        return UnknownEnvelope(item)
    tag = item[0]
    if tag == "wrb.fr":
        return _parse_wrb(item)
    if tag == "di":
        return StatsEnvelope("di", tuple(item[1:]))
    if tag == "af.httprm":
        return StatsEnvelope("af.httprm", tuple(item[1:]))
    if tag == "e":
        return _parse_trailer(item)
    if tag == "er":
        return _parse_er(item)
    return UnknownEnvelope(item)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _parse_wrb(item: list[Any]) -> Envelope:
    rpc_id = item[1] if len(item) > 1 and isinstance(item[1], str) else None
    body = item[2] if len(item) > 2 else None
    error = item[5] if len(item) > 5 else None
    if body is None and isinstance(error, list) and error:
        # Full form [status, null, [[type, [code]]]] or batchexecute's short form [status].
        return ErrorEnvelope(_int_or_none(error[0]), _int_or_none(jspb_get(error, 2, 0, 1, 0)))
    if body is None:
        return ResultEnvelope(rpc_id, None)
    if not isinstance(body, str):
        raise ProtocolError(f"wrb.fr payload is a JSON {type(body).__name__}, not a string")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"wrb.fr payload is not valid JSON: {exc}") from exc
    return ResultEnvelope(rpc_id, payload)


def _parse_trailer(item: list[Any]) -> TrailerEnvelope:
    items = _int_or_none(item[1]) if len(item) > 1 else None
    total = _int_or_none(item[4]) if len(item) > 4 else None
    if items is None or total is None:
        raise ProtocolError("trailer item lacks its item count or byte total")
    return TrailerEnvelope(items, total)


def _xsrf_token(value: Any) -> tuple[bool, str | None]:
    """Search ``value`` for ``["xsrf", token?, ...]``; returns (found, token)."""
    if isinstance(value, list):
        if value and value[0] == "xsrf":
            token = value[1] if len(value) > 1 and isinstance(value[1], str) else None
            return True, token
        children: list[Any] = value
    elif isinstance(value, dict):
        children = list(value.values())
    else:
        return False, None
    for child in children:
        found, token = _xsrf_token(child)
        if found:
            return found, token
    return False, None


def _parse_er(item: list[Any]) -> Envelope:
    found, token = _xsrf_token(item[1:])
    return XsrfError(token) if found else UnknownEnvelope(item)
