"""Input and output items of the Responses API as they are stored and referenced.

Every item kept (a stored response's input and output, a conversation's items) has an ``id``, as
OpenAI's do: items the client sent without one get one here (``msg_`` for messages, ``fc_`` for
function calls, ``fco_`` for their outputs, ``rs_`` for reasoning), and a string ``input`` becomes
one user message item. An ``item_reference`` (``{"type": "item_reference", "id": ...}``, or an item
holding only an ``id``) stands for an item kept earlier for the same API key: it is replaced by that
item, or answered with a 404 naming the id. OpenAI lets clients reference the output items of stored
responses (messages, function calls, reasoning) and the input items kept with them, and so does this
gateway (the Vercel AI SDK sends its earlier turns' output that way whenever ``store`` is on).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from service.errors import InvalidRequest, NotFound

__all__ = ["Item", "ItemLookup", "item_list", "new_item_id", "normal_items", "resolve_references", "with_ids"]

Item = dict[str, Any]
# Finds an item kept for an API key by its id, or None.
ItemLookup = Callable[[str], Awaitable[Item | None]]

_PREFIXES = {"message": "msg", "function_call": "fc", "function_call_output": "fco", "reasoning": "rs"}


def new_item_id(kind: str) -> str:
    return f"{_PREFIXES.get(kind, 'item')}_{uuid.uuid4().hex}"


def _kind(item: Item) -> str | None:
    kind = item.get("type")
    if kind is None and "role" in item:
        return "message"
    if kind is None and set(item) == {"id"}:
        return "item_reference"
    return str(kind) if kind is not None else None


def normal_items(input_: str | Sequence[Item]) -> list[Item]:
    """``input_`` as a list of items, each message in its full shape (``type``, content parts),
    references left as they are (``resolve_references``)."""
    if isinstance(input_, str):
        return [_message("user", [{"type": "input_text", "text": input_}])]
    items: list[Item] = []
    for item in input_:
        kind = _kind(item)
        if kind == "message":
            content = item.get("content")
            if isinstance(content, str):
                part = "output_text" if item.get("role") == "assistant" else "input_text"
                content = [
                    {"type": part, "text": content, **({"annotations": []} if part == "output_text" else {})}
                ]
            shaped = {**item, "type": "message", "content": content or []}
            shaped.setdefault("status", "completed")
            items.append(shaped)
        elif kind == "item_reference":
            items.append({"type": "item_reference", "id": item.get("id")})
        else:
            items.append(dict(item))
    return items


def _message(role: str, content: list[Item]) -> Item:
    return {
        "id": new_item_id("message"),
        "type": "message",
        "role": role,
        "content": content,
        "status": "completed",
    }


def with_ids(items: Sequence[Item]) -> list[Item]:
    """``items`` with an ``id`` on each (a new one where the client sent none)."""
    return [item if item.get("id") else {**item, "id": new_item_id(str(item.get("type")))} for item in items]


async def resolve_references(
    items: Sequence[Item], lookup: ItemLookup, *, field: str = "input"
) -> list[Item]:
    """``items`` with each reference replaced by the item it names (this key's own); a reference
    to nothing kept is a 404 naming the id, one without an id a 400."""
    resolved: list[Item] = []
    for index, item in enumerate(items):
        if item.get("type") != "item_reference":
            resolved.append(item)
            continue
        item_id = item.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise InvalidRequest("An item_reference needs the id of an item.", param=f"{field}[{index}].id")
        found = await lookup(item_id)
        if found is None:
            missing = NotFound(f"Item with id {item_id!r} not found.")
            missing.param = f"{field}[{index}]"
            raise missing
        resolved.append(found)
    return resolved


def item_list(items: Sequence[Item], *, limit: int, order: Literal["asc", "desc"], after: str | None) -> Item:
    """One page of ``items`` (kept oldest first) as OpenAI lists them: ``order`` (``desc``, newest
    first, is OpenAI's default), at most ``limit``, starting after the item whose id is ``after``."""
    ordered = list(items) if order == "asc" else list(reversed(items))
    start = 0
    if after is not None:
        ids = [item.get("id") for item in ordered]
        if after not in ids:
            raise InvalidRequest(f"No item with id {after!r} in this list.", param="after")
        start = ids.index(after) + 1
    page = ordered[start : start + limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": start + limit < len(ordered),
    }
