"""HTTP routes of the Anthropic door (HTTP only): ``POST /messages`` and ``/messages/count_tokens``
under each route prefix. The ``anthropic-version`` header is accepted whatever its value: the
shapes served are those of version 2023-06-01, the one Anthropic's SDKs send."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.anthropic.convert import chat_request, estimate_input_tokens, message_from_chat
from service.anthropic.events import AnthropicEventStream, MessageEvents
from service.anthropic.protocol import MessagesRequest, TokenCountRequest
from service.chat.checks import check_chat_request
from service.errors import ModelNotFound
from service.state import CallerDep, GatewayDep
from service.streaming import cancel_on_disconnect
from service.temporary import HEADER, asked

__all__ = ["MESSAGES_PATH", "router"]

MESSAGES_PATH = "/messages"

router = APIRouter()


@router.post(MESSAGES_PATH, response_model=None)
async def create_message(
    body: MessagesRequest, request: Request, gateway: GatewayDep, caller: CallerDep
) -> Response:
    chat = chat_request(body, stream=body.stream)
    check_chat_request(chat, gateway.catalog)
    # Anthropic's ``metadata`` holds only ``user_id``: a temporary chat (service.temporary) is asked
    # with the header (``metadata.temporary`` is refused by ``chat_request``, naming the header).
    chat.temporary = asked(field=None, metadata=None, header=request.headers.get(HEADER))
    serving = gateway.chats.for_model(chat.model)
    settings = gateway.settings
    if body.stream:
        await serving.ready(chat, caller.identity)
        return AnthropicEventStream(
            serving.stream(chat, caller.identity),
            MessageEvents(body),
            keep_alive=settings.keep_alive_interval,
            cleanup_timeout=settings.stop_timeout,
            opens_early=serving.opens_early,
        )
    work = serving.create(chat, caller.identity)
    answer = await cancel_on_disconnect(work, request.receive, cleanup_timeout=settings.stop_timeout)
    return JSONResponse(message_from_chat(answer, body))


@router.post(MESSAGES_PATH + "/count_tokens", response_model=None)
async def count_tokens(body: TokenCountRequest, gateway: GatewayDep) -> Response:
    if gateway.catalog.find(body.model) is None:
        raise ModelNotFound(body.model)
    return JSONResponse({"input_tokens": estimate_input_tokens(body)})
