"""The video jobs' part of the app lifespan: unfinished jobs resumed from the store (opened with the
others by ``service.stores``); with replicas, also those of a dead replica's accounts this one adopts."""

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
    settings: GatewaySettings, backend: Backend, store: VideoJobStore, *, clustered: bool = False
) -> AsyncIterator[VideoJobs]:
    """``clustered`` (replicas on one Redis): a job follows its account, and a dead replica's jobs
    are resumed by the replica that adopts their account, at its next ownership round or so."""
    options = VideoOptions(
        max_wait=settings.video_max_wait,
        poll_interval=settings.video_poll_interval,
        stop_timeout=settings.stop_timeout,
    )
    adopt_interval = settings.cluster.interval if clustered else None
    async with VideoJobs(backend, store, options, adopt_interval=adopt_interval) as jobs:
        yield jobs
