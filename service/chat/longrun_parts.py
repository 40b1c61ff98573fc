"""The long-running chat models' share of the app lifespan: the research registry (SQLite in the
data directory), kept in the request state under ``LONGRUN_KEY``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import Request

from service.chat.longrun_registry import ResearchRegistry
from service.settings import GatewaySettings

__all__ = ["LONGRUN_KEY", "LongrunParts", "get_parts", "longrun_parts"]

LONGRUN_KEY = "longrun"


@dataclass(frozen=True)
class LongrunParts:
    registry: ResearchRegistry


@asynccontextmanager
async def longrun_parts(settings: GatewaySettings) -> AsyncIterator[LongrunParts]:
    registry = await asyncio.to_thread(ResearchRegistry, settings.data_dir / "researches.sqlite3")
    try:
        yield LongrunParts(registry)
    finally:
        registry.close()


def get_parts(request: Request) -> LongrunParts | None:
    parts = getattr(request.state, LONGRUN_KEY, None)
    return parts if isinstance(parts, LongrunParts) else None
