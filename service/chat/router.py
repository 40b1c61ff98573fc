"""HTTP routes of the chat slice (HTTP only: the logic lives in ``service.chat.serving``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.chat.checks import check_chat_request
from service.chat.longrun import is_longrun_model
from service.chat.longrun_router import longrun_chat
from service.chat.protocol import ChatCompletionRequest
from service.images.chat import is_image_model
from service.images.router import imagen_chat
from service.state import CallerDep, GatewayDep
from service.streaming import EventStreamResponse, cancel_on_disconnect

__all__ = ["router"]

router = APIRouter()


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    body: ChatCompletionRequest, request: Request, gateway: GatewayDep, caller: CallerDep
) -> Response:
    check_chat_request(body)  # whatever the model: before any image, research or page work
    if is_image_model(body.model):
        return await imagen_chat(body, request, gateway, caller.identity)
    if is_longrun_model(body.model):
        return await longrun_chat(body, request, gateway, caller.identity)
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
