"""The Responses API's part of the lifespan: its stores (stored responses and the Conversations
API's conversations, opened with the others by ``service.stores``) and its background runs,
cancelled before the pool closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.chat.serving import ChatService
from service.responses.background import BackgroundRuns
from service.responses.serving import ResponsesService
from service.settings import GatewaySettings
from service.stores.interfaces import ConversationObjectStore, ResponseArchive

__all__ = ["responses_service"]


@asynccontextmanager
async def responses_service(
    settings: GatewaySettings,
    chat: ChatService,
    store: ResponseArchive,
    conversations: ConversationObjectStore,
) -> AsyncIterator[ResponsesService]:
    runs = BackgroundRuns(settings.stop_timeout)
    try:
        yield ResponsesService(chat, store, conversations, runs)
    finally:
        await runs.aclose()  # each run still going stops its page answer and is stored as failed
