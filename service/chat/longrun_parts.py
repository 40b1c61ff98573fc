"""The long-running chat models' share of the app lifespan: the research registry (SQLite in the
data directory) and the pool's research reader, kept in the request state under ``LONGRUN_KEY``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import Request

from service.chat.longrun_registry import ResearchRegistry
from service.chat.longrun_research import ResearchReader
from service.settings import GatewaySettings
from service.videos.follow import VideoReader

__all__ = ["LONGRUN_KEY", "LongrunParts", "get_parts", "longrun_parts"]

LONGRUN_KEY = "longrun"


@dataclass(frozen=True)
class LongrunParts:
    registry: ResearchRegistry
    reader: ResearchReader | None
    videos: VideoReader | None = None


@asynccontextmanager
async def longrun_parts(settings: GatewaySettings, pool: object) -> AsyncIterator[LongrunParts]:
    """``pool`` is the pool factory's backend (before metering): it reads researches directly."""
    registry = await asyncio.to_thread(ResearchRegistry, settings.data_dir / "researches.sqlite3")
    try:
        yield LongrunParts(
            registry,
            pool if isinstance(pool, ResearchReader) else None,
            pool if isinstance(pool, VideoReader) else None,
        )
    finally:
        registry.close()


def get_parts(request: Request) -> LongrunParts | None:
    parts = getattr(request.state, LONGRUN_KEY, None)
    return parts if isinstance(parts, LongrunParts) else None
