"""HTTP routes of the Responses slice: ``POST /responses``, ``GET`` and ``DELETE /responses/{id}``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.chat.protocol import ChatMessage
from service.errors import NotFound
from service.responses.convert import ResponsesRequest, chat_request, new_response_id
from service.responses.shaping import Shaper, history_after, response_from_chat
from service.responses.store import RESPONSES_KEY, ResponseStore
from service.state import CallerDep, GatewayDep, lifespan_part
from service.streaming import EventStreamResponse, cancel_on_disconnect

__all__ = ["router"]

router = APIRouter()


def get_store(request: Request) -> ResponseStore:
    return lifespan_part(request, RESPONSES_KEY, ResponseStore, "the response store")


StoreDep = Annotated[ResponseStore, Depends(get_store)]


def _not_found(response_id: str) -> NotFound:
    return NotFound(f"No response with id {response_id!r} was found.")


@router.post("/responses", response_model=None)
async def create_response(
    body: ResponsesRequest, request: Request, gateway: GatewayDep, caller: CallerDep, store: StoreDep
) -> Response:
    history: list[ChatMessage] = []
    if body.previous_response_id:
        previous = await asyncio.to_thread(store.get, caller.identity, body.previous_response_id)
        if previous is None:
            raise _not_found(body.previous_response_id)
        history = [ChatMessage.model_validate(message) for message in previous.history]
    chat = chat_request(body, history)
    shaper = Shaper(body, new_response_id())
    settings = gateway.settings

    async def remember() -> None:
        if body.store:
            saved = history_after(chat, shaper.output, instructed=bool(body.instructions))
            await asyncio.to_thread(store.put, caller.identity, shaper.body(), saved)

    if body.stream:

        async def events() -> AsyncIterator[dict[str, Any]]:
            async for event in shaper.events(gateway.chat.stream(chat, caller.identity)):
                if event["type"] in ("response.completed", "response.incomplete"):
                    await remember()
                yield event

        return EventStreamResponse(
            events(),  # type: ignore[arg-type]
            keep_alive=settings.keep_alive_interval,
            cleanup_timeout=settings.stop_timeout,
        )
    work = gateway.chat.create(chat, caller.identity)
    answer = await cancel_on_disconnect(work, request.receive, cleanup_timeout=settings.stop_timeout)
    result = response_from_chat(shaper, answer)
    await remember()
    return JSONResponse(result)


@router.get("/responses/{response_id}", response_model=None)
async def get_response(response_id: str, caller: CallerDep, store: StoreDep) -> Response:
    found = await asyncio.to_thread(store.get, caller.identity, response_id)
    if found is None:
        raise _not_found(response_id)
    return JSONResponse(found.body)


@router.delete("/responses/{response_id}", response_model=None)
async def delete_response(response_id: str, caller: CallerDep, store: StoreDep) -> Response:
    if not await asyncio.to_thread(store.delete, caller.identity, response_id):
        raise _not_found(response_id)
    return JSONResponse({"id": response_id, "object": "response.deleted", "deleted": True})
