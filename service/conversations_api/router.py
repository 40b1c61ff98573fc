"""HTTP routes of the Conversations API: ``/conversations`` and ``/conversations/{id}`` (create,
get, update the metadata, delete) and their items (list, add, get, delete). A Responses request
names a conversation with ``conversation`` to continue it (``service.responses.serving``). Every
route sees only the calling API key's conversations: another key's is a 404, as a missing one."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.conversations_api.protocol import ConversationCreate, ConversationUpdate, ItemsCreate
from service.errors import NotFound
from service.responses.convert import input_messages
from service.responses.items import Item, item_list, normal_items, with_ids
from service.responses.router import ListQueryDep, ServiceDep
from service.responses.serving import ResponsesService
from service.state import CallerDep

__all__ = ["router"]

router = APIRouter()


def _missing(conversation_id: str) -> NotFound:
    return NotFound(f"Conversation with id {conversation_id!r} not found.")


async def _items(service: ResponsesService, identity: str, items: list[dict[str, Any]]) -> list[Item]:
    """The items as they are kept: references resolved, ids given, and readable as a turn."""
    kept = with_ids(await service.resolve(normal_items(items), identity, field="items"))
    input_messages(kept, field="items")  # what a later response could not read is refused now
    return kept


@router.post("/conversations", response_model=None)
async def create_conversation(body: ConversationCreate, caller: CallerDep, service: ServiceDep) -> Response:
    items = await _items(service, caller.identity, body.items or [])
    store = service.conversations
    created = await asyncio.to_thread(store.create, caller.identity, body.metadata or {}, items)
    return JSONResponse(created)


@router.get("/conversations/{conversation_id}", response_model=None)
async def get_conversation(conversation_id: str, caller: CallerDep, service: ServiceDep) -> Response:
    found = await asyncio.to_thread(service.conversations.get, caller.identity, conversation_id)
    if found is None:
        raise _missing(conversation_id)
    return JSONResponse(found)


@router.post("/conversations/{conversation_id}", response_model=None)
async def update_conversation(
    conversation_id: str, body: ConversationUpdate, caller: CallerDep, service: ServiceDep
) -> Response:
    store = service.conversations
    updated = await asyncio.to_thread(store.update, caller.identity, conversation_id, body.metadata)
    if updated is None:
        raise _missing(conversation_id)
    return JSONResponse(updated)


@router.delete("/conversations/{conversation_id}", response_model=None)
async def delete_conversation(conversation_id: str, caller: CallerDep, service: ServiceDep) -> Response:
    if not await asyncio.to_thread(service.conversations.delete, caller.identity, conversation_id):
        raise _missing(conversation_id)
    return JSONResponse({"id": conversation_id, "object": "conversation.deleted", "deleted": True})


@router.get("/conversations/{conversation_id}/items", response_model=None)
async def list_items(
    conversation_id: str, caller: CallerDep, service: ServiceDep, page: ListQueryDep
) -> Response:
    items = await asyncio.to_thread(service.conversations.items, caller.identity, conversation_id)
    if items is None:
        raise _missing(conversation_id)
    return JSONResponse(item_list(items, limit=page.limit, order=page.order, after=page.after))


@router.post("/conversations/{conversation_id}/items", response_model=None)
async def add_items(
    conversation_id: str, body: ItemsCreate, caller: CallerDep, service: ServiceDep
) -> Response:
    items = await _items(service, caller.identity, body.items)
    if not await asyncio.to_thread(service.conversations.append, caller.identity, conversation_id, items):
        raise _missing(conversation_id)
    return JSONResponse(item_list(items, limit=len(items), order="asc", after=None))


@router.get("/conversations/{conversation_id}/items/{item_id}", response_model=None)
async def get_item(conversation_id: str, item_id: str, caller: CallerDep, service: ServiceDep) -> Response:
    store = service.conversations
    if await asyncio.to_thread(store.get, caller.identity, conversation_id) is None:
        raise _missing(conversation_id)
    item = await asyncio.to_thread(store.item, caller.identity, conversation_id, item_id)
    if item is None:
        raise NotFound(f"Item with id {item_id!r} not found.")
    return JSONResponse(item)


@router.delete("/conversations/{conversation_id}/items/{item_id}", response_model=None)
async def delete_item(conversation_id: str, item_id: str, caller: CallerDep, service: ServiceDep) -> Response:
    store = service.conversations
    found = await asyncio.to_thread(store.get, caller.identity, conversation_id)
    if found is None:
        raise _missing(conversation_id)
    if not await asyncio.to_thread(store.delete_item, caller.identity, conversation_id, item_id):
        raise NotFound(f"Item with id {item_id!r} not found.")
    return JSONResponse(found)  # OpenAI answers the conversation
