"""The video jobs' part of the app lifespan: the store opened, unfinished jobs resumed, closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.backend import Backend
from service.settings import GatewaySettings
from service.videos.jobs import VideoJobs, VideoOptions
from service.videos.store import VideoStore

__all__ = ["video_jobs"]


@asynccontextmanager
async def video_jobs(settings: GatewaySettings, backend: Backend) -> AsyncIterator[VideoJobs]:
    store = await asyncio.to_thread(VideoStore, settings.data_dir)
    try:
        options = VideoOptions(
            max_wait=settings.video_max_wait,
            poll_interval=settings.video_poll_interval,
            stop_timeout=settings.stop_timeout,
        )
        async with VideoJobs(backend, store, options) as jobs:
            yield jobs
    finally:
        store.close()
