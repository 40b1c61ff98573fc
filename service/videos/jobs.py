"""Running video jobs: one Create video turn each, then the wait for the render, off the request.

A job is queued when created and runs as a task of the gateway: the turn (Pro mode, the Create video
tool, a new chat) is leased only while the page answers; the lease is given back before the render
wait, during which the video URL (206 while rendering) is polled through the account's context. The
chat and the URL are stored as soon as they are known, so a gateway restarted in the middle resumes
every unfinished job: it leases the job's account again and collects the video from the stored URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, replace

from browser import Attachment, Media, ModeFamily, Tool, TurnRequest, TurnSnapshot, VideoInfo
from service.backend import Backend, BackendTurn
from service.errors import ServiceError, UpstreamFailed
from service.stores.interfaces import VideoJobStore
from service.videos.follow import follow_video
from service.videos.store import VideoRecord, now

log = logging.getLogger(__name__)

__all__ = ["VideoJobs", "VideoOptions"]

_RENDERING = 206
_EXPIRES_AFTER = 7 * 24 * 3600  # finished files are kept a week, as far as the gateway is concerned


@dataclass(frozen=True)
class VideoOptions:
    max_wait: float
    poll_interval: float
    stop_timeout: float


class VideoJobs:
    """Creates, runs and resumes the jobs of a ``VideoJobStore`` on a ``Backend``."""

    def __init__(
        self,
        backend: Backend,
        store: VideoJobStore,
        options: VideoOptions,
        *,
        adopt_interval: float | None = None,
    ) -> None:
        """``adopt_interval`` (replicas on one Redis): every so often, resume the jobs on this
        replica's accounts that no live replica runs (their replica died, and this one adopted the
        account); at start too, only those. None (a single gateway): every unfinished job, at start."""
        self.backend = backend
        self.store = store
        self.options = options
        self.adopt_interval = adopt_interval
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._adopter: asyncio.Task[None] | None = None

    async def __aenter__(self) -> VideoJobs:
        await self.resume()
        if self.adopt_interval is not None:
            self._adopter = asyncio.create_task(self._adopting(), name="video job adoption")
        return self

    async def resume(self) -> None:
        """Start the unfinished jobs that are this process's to run (``adopt_interval``)."""
        accounts = None if self.adopt_interval is None else {info.id for info in self.backend.accounts()}
        for record in await asyncio.to_thread(self.store.running, accounts):
            if record.id in self._tasks:
                continue
            log.info("resuming video job %s", record.id)
            self._start(record, ())

    async def _adopting(self) -> None:
        assert self.adopt_interval is not None
        while True:
            await asyncio.sleep(self.adopt_interval)  # the period of the adoption rounds
            try:
                await self.resume()
            except Exception as error:  # Redis away, say: the next round tries again
                log.warning("video jobs not adopted (%s)", type(error).__name__)

    async def __aexit__(self, *exc: object) -> None:
        if self._adopter is not None:
            self._adopter.cancel()
            await asyncio.gather(self._adopter, return_exceptions=True)
            self._adopter = None
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        # The rows stay queued / in_progress: the next start resumes them.
        await asyncio.gather(*tasks, return_exceptions=True)

    async def create(
        self,
        *,
        owner: str,
        model: str,
        prompt: str,
        typed: str,
        seconds: str,
        size: str,
        files: tuple[Attachment, ...],
    ) -> VideoRecord:
        record = VideoRecord(
            id=f"video_{uuid.uuid4().hex}",
            owner=owner,
            model=model,
            prompt=prompt,
            typed=typed,
            seconds=seconds,
            size=size,
            status="queued",
            progress=0,
            created_at=now(),
        )
        record = await asyncio.to_thread(self.store.insert, record)
        self._start(record, files)
        return record

    def runs(self, video_id: str) -> bool:
        """Whether the job runs on this replica now."""
        return video_id in self._tasks

    def cancel(self, video_id: str) -> None:
        task = self._tasks.pop(video_id, None)
        if task is not None:
            task.cancel()

    def _start(self, record: VideoRecord, files: tuple[Attachment, ...]) -> None:
        task = asyncio.create_task(self._run(record, files), name=f"video job {record.id}")
        self._tasks[record.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(record.id, None))

    async def _update(self, video_id: str, **changes: object) -> None:
        await asyncio.to_thread(self.store.update, video_id, **changes)

    async def _run(self, record: VideoRecord, files: tuple[Attachment, ...]) -> None:
        try:
            job_id: str | None = None
            if record.video_url is None and record.chat_id is None:
                record, job_id = await self._answer(record, files)
            if record.video_url is None:
                # Only the job chip so far, or the answer was lost (a restart mid-answer): the video
                # appears in the job's chat when it is ready.
                record = await self._await_video(record, job_id)
            await self._collect(record)
        except asyncio.CancelledError:
            raise
        except ServiceError as exc:
            log.info("video job %s failed: %s", record.id, exc.code)
            await self._update(record.id, status="failed", error_code=exc.code, error_message=str(exc))
        except Exception as exc:  # a job must end, whatever broke
            log.exception("video job %s broke", record.id)
            await self._update(
                record.id, status="failed", error_code="internal_error", error_message=type(exc).__name__
            )

    async def _answer(
        self, record: VideoRecord, files: tuple[Attachment, ...]
    ) -> tuple[VideoRecord, str | None]:
        """The Create-video turn; the record with the video's URL when the answer names it, else
        with its chat and the job's id from the chip (docs/architecture/evidence.md#j1)."""
        spec = TurnRequest(prompt=record.typed, mode=ModeFamily.PRO, tool=Tool.VIDEO, attachments=files)
        final: TurnSnapshot | None = None
        async with self.backend.turn(spec) as turn:
            await self._update(record.id, status="in_progress", progress=5, account_id=turn.account_id)
            finished = False
            try:
                async for snapshot in turn:
                    final = snapshot
                    if snapshot.cid and record.chat_id is None:
                        record = replace(record, chat_id=snapshot.cid, account_id=turn.account_id)
                        await self._update(record.id, chat_id=snapshot.cid)
                finished = True
            finally:
                if not finished:
                    await self._stop(turn)
        if final is None:
            raise UpstreamFailed("Gemini returned no answer.")
        if final.error_code is not None and not final.text:
            raise UpstreamFailed(
                f"Gemini rejected the request (code {final.error_code}).", gemini_code=final.error_code
            )
        video = final.video
        if video is not None and video.video_url is not None:
            return await self._named(record, video, turn.account_id), None
        if video is not None and video.pending and record.chat_id is not None:
            return replace(record, account_id=turn.account_id), video.job_id
        said = final.text.strip()[:300] or "nothing"
        raise UpstreamFailed(f"Gemini answered without a video: {said}", code="no_video")

    async def _await_video(self, record: VideoRecord, job_id: str | None) -> VideoRecord:
        """Follow the job until its chat's history names the video (bounded by ``max_wait``)."""
        if record.chat_id is None or record.account_id is None:
            raise UpstreamFailed("The gateway restarted before Gemini named the video.", code="video_lost")
        progress = follow_video(
            self.backend,
            record.account_id,
            record.chat_id,
            job_id,
            max_wait=self.options.max_wait,
            poll_interval=self.options.poll_interval,
        )
        async for step in progress:
            if step.video is not None:
                log.info("video job %s: its video appeared in its chat after %.0fs", record.id, step.waited)
                return await self._named(record, step.video, record.account_id)
            share = min(1.0, step.waited / self.options.max_wait) if self.options.max_wait else 0.0
            await self._update(record.id, progress=5 + int(share * 5))
        raise UpstreamFailed("The video's chat ended without it.", code="no_video")

    async def _named(self, record: VideoRecord, video: VideoInfo, account_id: str) -> VideoRecord:
        record = replace(
            record,
            account_id=account_id,
            video_url=video.video_url,
            thumbnail_url=video.thumbnail_url,
            progress=10,
        )
        await self._update(
            record.id, video_url=record.video_url, thumbnail_url=record.thumbnail_url, progress=10
        )
        return record

    async def _collect(self, record: VideoRecord) -> None:
        assert record.video_url is not None and record.account_id is not None
        # The account's context downloads; leasing it without a prompt types nothing into the page.
        spec = TurnRequest(
            prompt="",
            mode=ModeFamily.PRO,
            account_id=record.account_id,
            chat_id=record.chat_id,
        )
        async with self.backend.turn(spec) as turn:
            pass  # media downloads work after the lease is given back (the account is kept)
        await self._update(record.id, status="in_progress")
        deadline = asyncio.get_running_loop().time() + self.options.max_wait
        progress = max(record.progress, 10)
        while True:
            video = await turn.fetch_media(record.video_url)
            if video.status != _RENDERING:
                break
            if asyncio.get_running_loop().time() >= deadline:
                raise UpstreamFailed(
                    f"The video was still rendering after {self.options.max_wait:.0f}s.", code="video_timeout"
                )
            progress = min(95, progress + max(1, (95 - progress) // 5))
            await self._update(record.id, progress=progress)
            await asyncio.sleep(self.options.poll_interval)
        await asyncio.to_thread(self.store.save, record.id, "video", video.data)
        if record.thumbnail_url is not None:
            thumbnail = await _thumbnail(turn, record.thumbnail_url)
            if thumbnail is not None:
                await asyncio.to_thread(self.store.save, record.id, "thumbnail", thumbnail.data)
        done = now()
        await self._update(
            record.id, status="completed", progress=100, completed_at=done, expires_at=done + _EXPIRES_AFTER
        )

    async def _stop(self, turn: BackendTurn) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(turn.stop(), self.options.stop_timeout)


async def _thumbnail(turn: BackendTurn, url: str) -> Media | None:
    media = await turn.fetch_media(url)
    return media if media.status != _RENDERING and media.mime.startswith("image/") else None
