"""Waiting for a Create-video job the way the web app does (docs/architecture/evidence.md#j1).

The turn's answer carries only the job chip; the video appears later in the chat's history. So
the job is polled (``video_job``: kwDCne, a hint) and the chat read (``chat_video``: hNvQHb, the
truth) until the history names the video's URL, for ``max_wait`` seconds at most. The history is
read whenever the hint says done or cannot tell, and every third poll regardless: a real client
saw finished renders that the job poll never reported (VID 2026-08-03).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from browser import VideoInfo
from service.backend import Backend
from service.errors import UpstreamFailed

__all__ = ["VideoProgress", "follow_video"]

_HISTORY_EVERY = 3  # polls
# Reads that fail in a row before the job is given up: the page asked from may be reloading between
# turns (its blank-chat reload destroys the execution context under a fetch).
_MAX_READ_FAILURES = 3


@dataclass(frozen=True)
class VideoProgress:
    """``waited`` seconds so far; ``video`` once the history names its URL (the last item)."""

    waited: float
    video: VideoInfo | None = None


async def follow_video(
    reader: Backend,
    account_id: str,
    chat_id: str,
    job_id: str | None,
    *,
    max_wait: float,
    poll_interval: float,
) -> AsyncIterator[VideoProgress]:
    """Progress while the job renders, then the video; ``UpstreamFailed`` (``video_timeout``) when
    the history has not named it after ``max_wait`` seconds. Without ``job_id`` (a job resumed after
    a restart) only the history is read."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    polls = failures = 0
    while True:
        try:
            video = await _look(reader, account_id, chat_id, job_id, polls)
            failures = 0
        except UpstreamFailed:
            failures += 1
            if failures >= _MAX_READ_FAILURES:
                raise
            video = None
        if video is not None and video.video_url:
            yield VideoProgress(loop.time() - started, video)
            return
        waited = loop.time() - started
        if waited >= max_wait:
            raise UpstreamFailed(
                f"The video was not ready after {max_wait:.0f}s; it may still appear in the chat.",
                code="video_timeout",
            )
        yield VideoProgress(waited)
        polls += 1
        await asyncio.sleep(poll_interval)


async def _look(
    reader: Backend, account_id: str, chat_id: str, job_id: str | None, polls: int
) -> VideoInfo | None:
    """One poll: the job's hint, then the chat's history when the hint says done or cannot tell,
    or every ``_HISTORY_EVERY`` polls."""
    finished: bool | None = None
    if job_id is not None:
        finished = await reader.video_job(account_id, job_id, chat_id)
    if finished is not False or polls % _HISTORY_EVERY == _HISTORY_EVERY - 1:
        return await reader.chat_video(account_id, chat_id)
    return None
