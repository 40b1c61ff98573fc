"""The batchexecute envelope: parse ``f.req`` into calls, and write the answers (protocol.md §4, §8).

Request body: ``at=…&f.req=[[["<rpcid>","<payload json>",null,"<identifier>"],…]]``; every id must
be one the ``rpcids`` query names. Answer with ``rt=c``: the guard, one frame per RPC answer, one
frame with ``di`` and ``af.httprm``, then the ``e`` trailer; without ``rt=c``: the guard, then one
JSON array holding the answers, ``di`` and ``af.httprm`` (no trailer), as StreamGenerate does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from simulator import payloads
from simulator.encoder import GUARD, BodyWriter, dumps
from simulator.requests import RequestRejected, error_body

DEFAULT_IDENTIFIER = "generic"


@dataclass(frozen=True)
class RpcCall:
    rpc_id: str
    payload: Any  # the decoded payload JSON
    identifier: str


def _reject(reason: str) -> RequestRejected:
    return RequestRejected(400, error_body(), reason)


def parse_calls(form_freq: str | None, rpcids: str | None) -> list[RpcCall]:
    """The calls of one batchexecute request; RequestRejected (400 ``er``) when ``f.req`` is bad."""
    if not form_freq:
        raise _reject("no f.req")
    try:
        outer = json.loads(form_freq)
    except ValueError as exc:
        raise _reject("f.req is not JSON") from exc
    if not isinstance(outer, list) or len(outer) != 1 or not isinstance(outer[0], list) or not outer[0]:
        raise _reject("f.req is not [[call, ...]]")
    named = {part for part in (rpcids or "").split(",") if part}
    calls = [_call(entry) for entry in outer[0]]
    stray = sorted({call.rpc_id for call in calls} - named)
    if stray:
        raise _reject(f"f.req names rpc ids the rpcids query does not: {stray}")
    return calls


def _call(entry: Any) -> RpcCall:
    if not isinstance(entry, list) or len(entry) < 2:
        raise _reject("call is not [rpcid, payload, null, identifier]")
    rpc_id, raw = entry[0], entry[1]
    if not isinstance(rpc_id, str) or not rpc_id or not isinstance(raw, str):
        raise _reject("call is not [rpcid, payload, null, identifier]")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise _reject(f"{rpc_id}: payload is not JSON") from exc
    identifier = entry[3] if len(entry) > 3 and isinstance(entry[3], str) and entry[3] else None
    return RpcCall(rpc_id, payload, identifier or DEFAULT_IDENTIFIER)


def trace_id(seed: str) -> str:
    """The ``af.httprm`` trace id: a signed 60-bit number derived from ``seed``."""
    return str(int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16) - 2**59)


def chunked_body(items: list[list[object]], elapsed_ms: int, seed: str) -> bytes:
    """``rt=c``: one frame per answer item, the stats frame, the trailer."""
    writer = BodyWriter()
    parts = [writer.guard()]
    parts += [writer.frame([item]) for item in items]
    parts.append(writer.frame(payloads.stats(elapsed_ms, trace_id(seed), writer.items)))
    parts.append(writer.trailer())
    return b"".join(parts)


def single_body(items: list[list[object]], elapsed_ms: int, seed: str) -> bytes:
    """Without ``rt=c``: the guard and one array of the answers and the stats items."""
    everything = [*items, *payloads.stats(elapsed_ms, trace_id(seed), len(items))]
    return (GUARD + dumps(everything) + "\n").encode("utf-8")
