"""Decoding a batchexecute answer into one result per RPC (docs/architecture/wire-protocol.md#batchexecute).

A batchexecute body uses StreamGenerate's framing (``rt=c``: guard, UTF-16 length-prefixed frames,
``di`` / ``af.httprm`` / ``e`` items) or, without ``rt=c``, the guard then one JSON array. Each RPC
of the call answers with ``["wrb.fr", "<rpc id>", "<payload json>", null, null, null, "<identifier>"]``
or, when refused, with the payload slot empty and the rejection status at ``[5][0]``
(``["wrb.fr", "otAQ7b", null, null, null, [7], "generic"]``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from browser.errors import ProtocolError
from browser.protocol._envelopes import frame_items
from browser.protocol._frames import split_body

__all__ = ["BatchResult", "decode_batchexecute"]


@dataclass(frozen=True)
class BatchResult:
    """One RPC's answer: its decoded ``payload``, or the rejection ``error_code`` (envelope [5][0])."""

    rpc_id: str
    identifier: str | None
    payload: Any | None
    error_code: int | None

    @property
    def rejected(self) -> bool:
        return self.error_code is not None


def decode_batchexecute(body: str) -> list[BatchResult]:
    """Every ``wrb.fr`` answer in ``body``, in order; raises ``ProtocolError`` when malformed."""
    results: list[BatchResult] = []
    for text in split_body(body.encode("utf-8")):
        for item in frame_items(text):
            result = _result(item)
            if result is not None:
                results.append(result)
    return results


def _result(item: Any) -> BatchResult | None:
    if not isinstance(item, list) or not item or not isinstance(item[0], str):
        raise ProtocolError(f"batchexecute item is a JSON {type(item).__name__}, not a tagged list")
    tag = item[0]
    if tag == "er":
        # The body of a 400 (stale ``at``): a refusal of the whole call. It may carry a fresh
        # token, so none of it is quoted.
        raise ProtocolError("batchexecute call refused by the server (er item)")
    if tag != "wrb.fr":
        # Timings, the trailer, and item kinds Google adds without notice carry no RPC answer.
        return None
    return _wrb(item)


def _wrb(item: list[Any]) -> BatchResult:
    rpc_id = item[1] if len(item) > 1 else None
    if not isinstance(rpc_id, str) or not rpc_id:
        raise ProtocolError("batchexecute wrb.fr item has no rpc id")
    raw = item[2] if len(item) > 2 else None
    rejection = item[5] if len(item) > 5 else None
    identifier = item[6] if len(item) > 6 else None
    if identifier is not None and not isinstance(identifier, str):
        raise ProtocolError(f"{rpc_id}: identifier is a JSON {type(identifier).__name__}, not a string")
    if raw is None and rejection is not None:
        code = rejection[0] if isinstance(rejection, list) and rejection else None
        if not isinstance(code, int) or isinstance(code, bool):
            raise ProtocolError(f"{rpc_id}: rejection without an integer code: {_preview(rejection)}")
        return BatchResult(rpc_id, identifier, None, code)
    if raw is None:
        return BatchResult(rpc_id, identifier, None, None)
    if not isinstance(raw, str):
        raise ProtocolError(f"{rpc_id}: payload is a JSON {type(raw).__name__}, not a string")
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"{rpc_id}: payload is not valid JSON: {exc}") from exc
    return BatchResult(rpc_id, identifier, payload, None)


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= 80 else text[:77] + "..."
