"""HTTP routes of the chat slice (HTTP only: the logic lives in ``service.chat.serving``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.chat.protocol import ChatCompletionRequest
from service.state import CallerDep, GatewayDep
from service.streaming import EventStreamResponse, cancel_on_disconnect

__all__ = ["router"]

router = APIRouter()


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, gateway: GatewayDep, caller: CallerDep
) -> Response:
    settings = gateway.settings
    if body.stream:
        return EventStreamResponse(
            gateway.chat.stream(body, caller.identity),
            keep_alive=settings.keep_alive_interval,
            cleanup_timeout=settings.stop_timeout,
        )
    work = gateway.chat.create(body, caller.identity)
    result = await cancel_on_disconnect(work, request.receive, cleanup_timeout=settings.stop_timeout)
    return JSONResponse(result.dump())
