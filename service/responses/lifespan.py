"""The Responses API's part of the lifespan: its stores (stored responses and the Conversations
API's conversations, one SQLite file) and its background runs, cancelled before the pool closes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.chat.serving import ChatService
from service.conversations_api.store import ConversationObjects
from service.responses.background import BackgroundRuns
from service.responses.serving import ResponsesService
from service.responses.store import ResponseStore
from service.settings import GatewaySettings

__all__ = ["responses_service"]


@asynccontextmanager
async def responses_service(settings: GatewaySettings, chat: ChatService) -> AsyncIterator[ResponsesService]:
    runs = BackgroundRuns(settings.stop_timeout)
    kept = {"ttl": settings.conversation_ttl, "purge_interval": settings.conversation_purge_interval}
    with (
        ResponseStore(settings.responses_path, **kept) as store,
        ConversationObjects(settings.responses_path, **kept) as conversations,
    ):
        try:
            yield ResponsesService(chat, store, conversations, runs)
        finally:
            await runs.aclose()  # each run still going stops its page answer and is stored as failed
