"""``StreamGenerate``: validate, log, then answer with a paced framed body or an error."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from simulator.accounts import Account, AccountKind
from simulator.control import UsageLimitBehaviour
from simulator.lineup import FLASH_HEX
from simulator.requests import GenerateRequest, RequestRejected, check_xsrf, parse_generate
from simulator.routes.common import account_of, base_url, sim
from simulator.single import answer_array, error_array
from simulator.stream import answer_body, behaviour_error, error_body
from simulator.streaming import LiveStreamingResponse
from simulator.turns import AnswerPlan, ErrorPlan, plan_turn

router = APIRouter()

PATH = "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate"
MEDIA_TYPE = "application/json; charset=utf-8"
_WALLS = {AccountKind.CAPTCHA: "/sorry/index", AccountKind.CONSENT: "/consent"}


def _log_entry(request: Request, account: Account) -> dict[str, Any]:
    return {
        "id": next(sim(request).request_counter),
        "time": time.time(),
        "account": account.kind.value,
        "account_id": account.public_id,
        "query": dict(request.query_params),
        "headers": {k.lower(): v for k, v in request.headers.items() if k.lower() != "cookie"},
        "outcome": "received",
        "frames": 0,
    }


def _describe(entry: dict[str, Any], parsed: GenerateRequest, state_uploads: Any) -> None:
    files = []
    for ref in parsed.files:
        upload = state_uploads.get(ref.ref)
        files.append(
            {
                "ref": ref.ref,
                "name": ref.name,
                "mime": ref.mime,
                "kind": ref.kind,
                "sha256": upload.sha256 if upload else None,
                "size": len(upload.data) if upload else None,
            }
        )
    mode = parsed.mode
    entry.update(
        prompt=parsed.prompt,
        prompt_chars=len(parsed.prompt),
        prompt_sha256=hashlib.sha256(parsed.prompt.encode("utf-8")).hexdigest(),
        prompt_truncated=parsed.prompt_truncated,
        lang=parsed.lang,
        files=files,
        sent_cid=parsed.cid,
        sent_rid=parsed.rid,
        sent_rcid=parsed.rcid,
        sent_context_token=parsed.context_token,
        tool=parsed.tool,
        gem=parsed.gem,
        mode_hex=mode.hex if mode else None,
        mode_category=(mode.category if mode else None) or parsed.inner_mode_category,
        # The thinking level code (header [15], else inner[80]): 1, 2 extended, 4 medium.
        thinking_level=(mode.thinking if mode else None) or parsed.inner_thinking,
        turn_index=parsed.turn_index,
        request_uuid=parsed.request_uuid,
        client_uuid=mode.client_uuid if mode else None,
        temporary=parsed.temporary,
    )


def _error_response(entry: dict[str, Any], plan: ErrorPlan, seed: str, chunked: bool) -> Response:
    if chunked:
        body, frames = error_body(plan, seed)
    else:
        body, frames = error_array(plan, seed), 1
    entry.update(outcome="error", error_code=plan.code, http_status=200, frames=frames, ended=time.time())
    return Response(body, media_type=MEDIA_TYPE)


async def _single_response(entry: dict[str, Any], plan: AnswerPlan, state: Any) -> Response:
    """Without ``rt=c`` the whole answer comes at once, after the first-token delay."""
    started = time.monotonic()
    await asyncio.sleep(state.settings.first_token_delay)
    body = answer_array(plan, int((time.monotonic() - started) * 1000))
    entry.update(outcome="completed", frames=1, frame_times=[time.time()], ended=time.time())
    return Response(body, media_type=MEDIA_TYPE)


@router.post(PATH)
async def stream_generate(request: Request) -> Response:
    state = sim(request)
    account = account_of(request)
    entry = _log_entry(request, account)
    state.control.requests.append(entry)
    wall = _WALLS.get(account.kind)
    if wall is not None:
        entry.update(outcome="rejected", http_status=302, ended=time.time())
        referer = request.headers.get("referer", f"{base_url(request)}/app")
        return RedirectResponse(f"{wall}?continue={quote(referer, safe='')}", status_code=302)
    form = await request.form()
    try:
        freq = form.get("f.req")
        parsed = parse_generate(
            freq if isinstance(freq, str) else None, dict(request.headers), state.settings.max_request_bytes
        )
        _describe(entry, parsed, state.uploads)
        at = form.get("at")
        check_xsrf(account, at if isinstance(at, str) else None)
    except RequestRejected as rejected:
        entry.update(
            outcome="rejected", http_status=rejected.status, reason=rejected.reason, ended=time.time()
        )
        return Response(rejected.body, status_code=rejected.status, media_type=MEDIA_TYPE)

    # protocol.md §3.1: ``rt=c`` selects the chunked framing; without it the body is one JSON array.
    chunked = request.query_params.get("rt") == "c"
    entry["framing"] = "chunked" if chunked else "single"
    behaviour = state.control.next_behaviour(account.key)
    entry["behaviour"] = behaviour.model_dump() if behaviour else None
    seed = f"{entry['id']}:{parsed.prompt}"
    forced = behaviour_error(behaviour, FLASH_HEX)
    if forced is not None:
        if isinstance(behaviour, UsageLimitBehaviour) and account.session_valid:
            # jSf9Qc then reports the 5-hour window used up until the same reset time.
            state.usage.exhaust(account.public_id, time.time() + behaviour.reset_seconds)
        return _error_response(entry, forced, seed, chunked)
    plan = plan_turn(state, account, parsed, base_url(request))
    if isinstance(plan, ErrorPlan):
        return _error_response(entry, plan, seed, chunked)
    _describe_answer(entry, plan)
    if not chunked:
        return await _single_response(entry, plan, state)
    body = answer_body(plan, state.settings, behaviour, entry)
    return LiveStreamingResponse(body, media_type=MEDIA_TYPE)


def _describe_answer(entry: dict[str, Any], plan: AnswerPlan) -> None:
    entry.update(
        http_status=200,
        cid=plan.cid,
        rid=plan.rid,
        rcid=plan.rcid,
        chat_status=plan.chat_status,
        chat_temporary=plan.temporary,
        context_token=plan.context_token or None,
        served_model_hex=plan.model.hex,
        served_model_label=plan.model.label,
        served_thinking_level=plan.model.level,
        images=[image.url for image in plan.images],
        web_images=[image.url for image in plan.web_images],
        video=plan.video[1] if plan.video else None,
        video_job=plan.answer.video_job or None,
    )
