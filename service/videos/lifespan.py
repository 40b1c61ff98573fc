"""The video jobs' part of the app lifespan: unfinished jobs resumed from the store (opened with the
others by ``service.stores``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.backend import Backend
from service.settings import GatewaySettings
from service.stores.interfaces import VideoJobStore
from service.videos.jobs import VideoJobs, VideoOptions

__all__ = ["video_jobs"]


@asynccontextmanager
async def video_jobs(
    settings: GatewaySettings, backend: Backend, store: VideoJobStore
) -> AsyncIterator[VideoJobs]:
    options = VideoOptions(
        max_wait=settings.video_max_wait,
        poll_interval=settings.video_poll_interval,
        stop_timeout=settings.stop_timeout,
    )
    async with VideoJobs(backend, store, options) as jobs:
        yield jobs
