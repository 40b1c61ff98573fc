"""Request bodies of the Conversations API, with OpenAI's limits: metadata of at most 16 string
pairs (keys up to 64 characters, values up to 512), at most 20 items per request."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from service.wire import RequestModel

__all__ = ["MAX_ITEMS", "ConversationCreate", "ConversationUpdate", "ItemsCreate"]

MAX_ITEMS = 20
Metadata = dict[
    Annotated[str, StringConstraints(max_length=64)], Annotated[str, StringConstraints(max_length=512)]
]


class ConversationCreate(RequestModel):
    items: list[dict[str, Any]] | None = Field(None, max_length=MAX_ITEMS)
    metadata: Metadata | None = Field(None, max_length=16)


class ConversationUpdate(RequestModel):
    metadata: Metadata = Field(max_length=16)


class ItemsCreate(RequestModel):
    items: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_ITEMS)
