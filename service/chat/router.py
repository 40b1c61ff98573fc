"""HTTP routes of the chat slice (HTTP only: which serving answers is the catalog's word,
``service.chat.servings``; the logic lives in the servings)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.chat.checks import check_chat_request
from service.chat.protocol import ChatCompletionRequest
from service.state import CallerDep, GatewayDep
from service.streaming import EventStreamResponse, OpenEventStreamResponse, cancel_on_disconnect
from service.temporary import HEADER, asked

__all__ = ["router"]

router = APIRouter()


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, gateway: GatewayDep, caller: CallerDep
) -> Response:
    check_chat_request(body, gateway.catalog)  # whatever the model: before any image, research or page work
    body.temporary = asked(field=body.temporary, metadata=body.metadata, header=request.headers.get(HEADER))
    serving = gateway.chats.for_model(body.model)
    settings = gateway.settings
    if body.stream:
        await serving.ready(body, caller.identity)
        opening = OpenEventStreamResponse if serving.opens_early else EventStreamResponse
        return opening(
            serving.stream(body, caller.identity),
            keep_alive=settings.keep_alive_interval,
            cleanup_timeout=settings.stop_timeout,
        )
    work = serving.create(body, caller.identity)
    result = await cancel_on_disconnect(work, request.receive, cleanup_timeout=settings.stop_timeout)
    return JSONResponse(result.dump())
