"""``batchexecute``: the page's side RPCs, several per call, answered in one body (protocol.md §8).

Order of checks, as for StreamGenerate: account walls (302), the ``f.req`` shape (400 ``er``), the
``at`` token (400 xsrf); then each RPC on its own: signed-out visitors get the rejection code 7 for
every RPC, an expired session for every RPC but otAQ7b (which says 1016), an unknown rpc id gets 12.
Every RPC is logged (``GET /_sim/rpcs``).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from simulator.accounts import Account, AccountKind
from simulator.batch import RpcCall, chunked_body, parse_calls, single_body
from simulator.encoder import rpc_envelope, rpc_rejection
from simulator.requests import RequestRejected, check_xsrf
from simulator.routes.common import account_of, base_url, sim
from simulator.rpcs import HANDLERS
from simulator.rpcs.base import PERMISSION_DENIED, UNIMPLEMENTED, Rejected, RpcContext

router = APIRouter()

PATH = "/_/BardChatUi/data/batchexecute"
MEDIA_TYPE = "application/json; charset=utf-8"
STATUS_RPC = "otAQ7b"
_WALLS = {AccountKind.CAPTCHA: "/sorry/index", AccountKind.CONSENT: "/consent"}


def _log(request: Request, account: Account, call_id: int, rpc_id: str | None, **fields: Any) -> None:
    sim(request).control.rpcs.append(
        {
            "call": call_id,
            "time": time.time(),
            "rpcid": rpc_id,
            "account": account.kind.value,
            "account_id": account.public_id,
            "query": dict(request.query_params),
            "source_path": request.query_params.get("source-path"),
            **fields,
        }
    )


def _answer(ctx: RpcContext, call: RpcCall) -> object | Rejected:
    if not ctx.account.signed_in:
        return Rejected(PERMISSION_DENIED, "signed out")
    if not ctx.account.session_valid and call.rpc_id != STATUS_RPC:
        return Rejected(PERMISSION_DENIED, "session expired")
    handler = HANDLERS.get(call.rpc_id)
    if handler is None:
        return Rejected(UNIMPLEMENTED, "unknown rpc id")
    return handler(ctx, call.payload)


@router.post(PATH)
async def batchexecute(request: Request) -> Response:
    state = sim(request)
    account = account_of(request)
    call_id = next(state.request_counter)
    started = time.monotonic()
    rpcids = request.query_params.get("rpcids")
    wall = _WALLS.get(account.kind)
    if wall is not None:
        for rpc_id in (rpcids or "").split(","):
            _log(request, account, call_id, rpc_id, payload=None, outcome="rejected", http_status=302)
        referer = request.headers.get("referer", f"{base_url(request)}/app")
        return RedirectResponse(f"{wall}?continue={quote(referer, safe='')}", status_code=302)
    form = await request.form()
    try:
        freq = form.get("f.req")
        calls = parse_calls(freq if isinstance(freq, str) else None, rpcids)
        at = form.get("at")
        check_xsrf(account, at if isinstance(at, str) else None)
    except RequestRejected as rejected:
        _log(
            request,
            account,
            call_id,
            rpcids,
            payload=None,
            outcome="rejected",
            http_status=rejected.status,
            reason=rejected.reason,
        )
        return Response(rejected.body, status_code=rejected.status, media_type=MEDIA_TYPE)

    ctx = RpcContext(state=state, account=account)
    items: list[list[object]] = []
    for call in calls:
        result = _answer(ctx, call)
        outcome: dict[str, Any]
        if isinstance(result, Rejected):
            items.append(rpc_rejection(call.rpc_id, result.code, call.identifier))
            outcome = {"outcome": "rejected", "error_code": result.code, "reason": result.reason}
        else:
            items.append(rpc_envelope(call.rpc_id, result, call.identifier))
            outcome = {"outcome": "ok", "error_code": None}
        _log(
            request,
            account,
            call_id,
            call.rpc_id,
            payload=call.payload,
            identifier=call.identifier,
            http_status=200,
            **outcome,
        )
    elapsed = int((time.monotonic() - started) * 1000)
    seed = f"{call_id}:{rpcids}"
    chunked = request.query_params.get("rt") == "c"
    body = chunked_body(items, elapsed, seed) if chunked else single_body(items, elapsed, seed)
    return Response(body, media_type=MEDIA_TYPE)
