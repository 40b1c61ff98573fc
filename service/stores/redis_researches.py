"""Confirmed deep researches in Redis (``service.chat.longrun_registry`` on SQLite is the other
backend): ``gateway:researches:r:<key>`` (JSON), on redis-py's asyncio client."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

from service.chat.longrun_registry import ResearchEntry
from service.stores.redis_base import AsyncRedisStore, text

__all__ = ["RedisResearchRegistry"]


class RedisResearchRegistry(AsyncRedisStore):
    store = "researches"
    _what = "the research registry"

    async def record(
        self,
        key: str,
        account_id: str,
        chat_id: str,
        research_id: str,
        title: str | None,
        created_at: float | None = None,
    ) -> None:
        entry = ResearchEntry(key, account_id, chat_id, research_id, title, created_at or time.time())
        await self.redis.set(self.key("r", key), json.dumps(asdict(entry)))

    async def find(self, key: str) -> ResearchEntry | None:
        found = await self.redis.get(self.key("r", key))
        return ResearchEntry(**json.loads(text(found))) if found is not None else None
