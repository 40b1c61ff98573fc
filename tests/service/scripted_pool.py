"""``ScriptedPool``: an in-process stand-in for ``browser.BrowserPool`` (tests only).

It implements the whole documented pool API the service's port uses (docs/browser-api.md):
``turn(TurnRequest)`` as an async context manager yielding a turn with ``account_id``, async
iteration of ``TurnSnapshot``s and ``stop()``; ``accounts()``; chat deletion; the reads of a
running research and of a video job (scripted answers, a ``ProtocolError`` when none is left);
and the account operations (add, remove, check, pause, resume, screenshot; additions validated by
the real ``AccountSpec.parse_cookies`` and named as the real pool names them) and the re-listing of
an account's Gems. It plays scripts:
snapshots, pauses, and browser-layer errors, before or during the turn. It counts leases and stops
so tests can prove both come back, also when a client disconnects.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TypeVar

from PIL import Image

from browser import (
    AccountInfo,
    AccountSpec,
    AccountState,
    BrowserError,
    EgressInfo,
    Gem,
    GeneratedImage,
    Media,
    ModeFamily,
    ProtocolError,
    Tool,
    TurnRequest,
    TurnSnapshot,
    UnknownAccount,
    VideoInfo,
)

_T = TypeVar("_T")
log = logging.getLogger(__name__)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (20, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def account(
    account_id: str = "acct-1",
    *,
    tier: str = "paid",
    state: AccountState = AccountState.READY,
    modes: frozenset[ModeFamily] = frozenset({ModeFamily.FLASH, ModeFamily.PRO}),
    tools: frozenset[Tool] = frozenset(Tool),
) -> AccountInfo:
    return AccountInfo(
        id=account_id,
        name=account_id,
        state=state,
        cooling_until={},
        blocked_until=None,
        tier=tier,
        modes=modes,
        tools=tools,
        active_turns=0,
        last_error=None,
        proxy=None,
    )


@dataclass(frozen=True)
class Pause:
    """Silence in the answer for ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class Hold:
    """Silence in the answer until the test sets ``release``; bounded by ``timeout``, after which
    the turn fails (a test that never releases it fails instead of hanging)."""

    release: threading.Event
    timeout: float = 15.0

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while not self.release.is_set():  # polled, so that cancelling the turn ends the wait at once
            if loop.time() > deadline:
                raise BrowserError("a scripted hold was never released")
            await asyncio.sleep(0.01)


Step = TurnSnapshot | Pause | Hold | BrowserError


@dataclass
class Script:
    """One turn: ``steps`` in order; ``enter_error`` fails the lease itself."""

    steps: Sequence[Step] = ()
    enter_error: BrowserError | None = None
    account_id: str = "acct-1"


def growing(
    text: str, *, pieces: int = 3, thoughts: str = "", cid: str = "c_1", label: str = "3.5 Flash"
) -> list[Step]:
    """Cumulative snapshots revealing ``text`` (and ``thoughts``) in ``pieces`` steps."""
    steps: list[Step] = []
    for i in range(1, pieces + 1):
        cut = len(text) * i // pieces
        tcut = len(thoughts) * i // pieces
        steps.append(
            TurnSnapshot(
                cid=cid,
                text=text[:cut],
                thoughts=thoughts[:tcut],
                served_model_label=label,
                completed=i == pieces,
                frames=i,
            )
        )
    return steps


@dataclass
class ScriptedPool:
    """Plays queued scripts; without one, echoes the prompt as ``You said: <prompt>``."""

    account_list: list[AccountInfo] = field(default_factory=lambda: [account()])
    egress_list: list[EgressInfo] = field(default_factory=list)
    scripts: deque[Script] = field(default_factory=deque)
    requests: list[TurnRequest] = field(default_factory=list)
    active: int = 0
    leases: int = 0
    released: int = 0
    stops: int = 0
    deleted: list[tuple[str, str]] = field(default_factory=list)
    delete_error: BrowserError | None = None
    deletion_seen: threading.Event = field(default_factory=threading.Event)
    # What the research and video reads answer, in order (an error is raised); each read is noted.
    research_states: deque[str | BrowserError] = field(default_factory=deque)
    research_reports: deque[str | BrowserError | None] = field(default_factory=deque)
    video_jobs: deque[bool | BrowserError | None] = field(default_factory=deque)
    chat_videos: deque[VideoInfo | BrowserError | None] = field(default_factory=deque)
    lookups: list[tuple[str, str]] = field(default_factory=list)  # (read, account id)
    media: dict[str, Media] = field(default_factory=dict)  # what a turn's downloads answer, by URL
    added: list[AccountSpec] = field(default_factory=list)
    removed: list[tuple[str, bool]] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    # What an account's page would list as its Gems now: taken by ``refresh_gems`` (a Gem made on
    # gemini.google.com after the last listing).
    gems_on_page: dict[str, tuple[Gem, ...]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, *scripts: Script) -> None:
        self.scripts.extend(scripts)

    def _read(self, what: str, account_id: str, answers: deque[_T | BrowserError]) -> _T:
        self.lookups.append((what, account_id))
        if not answers:
            raise ProtocolError(f"no {what} scripted")
        answer = answers.popleft()
        if isinstance(answer, BrowserError):
            raise answer
        return answer

    async def research_state(self, account_id: str, research_id: str) -> str:
        return self._read("research_state", account_id, self.research_states)

    async def research_report(self, account_id: str, chat_id: str) -> str | None:
        return self._read("research_report", account_id, self.research_reports)

    async def video_job(self, account_id: str, job_id: str, chat_id: str | None = None) -> bool | None:
        return self._read("video_job", account_id, self.video_jobs)

    async def chat_video(self, account_id: str, chat_id: str) -> VideoInfo | None:
        return self._read("chat_video", account_id, self.chat_videos)

    async def add_account(self, spec: AccountSpec) -> AccountInfo:
        cookies = spec.parse_cookies()
        # A profile account (``spec.profile``) brings no cookies: its profile holds the session.
        psid = next((cookie.value for cookie in cookies if cookie.name == "__Secure-1PSID"), "")
        account_id = spec.name or f"acct-{hashlib.sha256(psid.encode()).hexdigest()[:12]}"
        tier = "free" if psid.startswith("free-") else "paid"
        info = replace(
            account(account_id, tier=tier),
            name=spec.name or account_id,
            signin_method=spec.signin_method.value,
        )
        self.account_list = [a for a in self.account_list if a.id != account_id] + [info]
        self.added.append(spec)
        return info

    async def remove_account(self, account_id: str, *, forget: bool = False) -> None:
        self._find(account_id)
        self.account_list = [a for a in self.account_list if a.id != account_id]
        self.removed.append((account_id, forget))

    async def check_account(self, account_id: str) -> AccountInfo:
        info = self._find(account_id)
        self.checked.append(account_id)
        return info

    async def refresh_gems(self, account_id: str) -> tuple[Gem, ...]:
        info = self._find(account_id)
        gems = self.gems_on_page.get(account_id, info.gems)
        self.account_list = [replace(a, gems=gems) if a.id == account_id else a for a in self.account_list]
        return gems

    async def pause_account(self, account_id: str) -> AccountInfo:
        return self._set(account_id, paused=True)

    async def resume_account(self, account_id: str) -> AccountInfo:
        return self._set(account_id, paused=False)

    async def screenshot(self, account_id: str) -> bytes:
        self._find(account_id)
        return png()

    def _find(self, account_id: str) -> AccountInfo:
        for info in self.account_list:
            if info.id == account_id:
                return info
        raise UnknownAccount(f"no account {account_id!r}")

    def _set(self, account_id: str, *, paused: bool) -> AccountInfo:
        info = replace(self._find(account_id), paused=paused)
        self.account_list = [info if a.id == account_id else a for a in self.account_list]
        return info

    def accounts(self) -> list[AccountInfo]:
        return list(self.account_list)

    def egresses(self) -> list[EgressInfo]:
        return list(self.egress_list)

    async def delete_chat(self, account_id: str, chat_id: str) -> None:
        if self.delete_error is not None:
            raise self.delete_error
        self.deleted.append((account_id, chat_id))
        self.deletion_seen.set()

    def turn(self, request: TurnRequest) -> ScriptedLease:
        self.requests.append(request)
        script = self.scripts.popleft() if self.scripts else Script(growing(f"You said: {request.prompt}"))
        return ScriptedLease(self, script)


class ScriptedLease:
    """The async context manager ``pool.turn()`` returns."""

    def __init__(self, pool: ScriptedPool, script: Script) -> None:
        self.pool = pool
        self.script = script

    async def __aenter__(self) -> ScriptedTurn:
        if self.script.enter_error is not None:
            raise self.script.enter_error
        with self.pool._lock:
            self.pool.active += 1
            self.pool.leases += 1
        return ScriptedTurn(self.pool, self.script)

    async def __aexit__(self, *exc: object) -> None:
        with self.pool._lock:
            self.pool.active -= 1
            self.pool.released += 1


class ScriptedTurn:
    def __init__(self, pool: ScriptedPool, script: Script) -> None:
        self.pool = pool
        self.script = script
        self.final: TurnSnapshot | None = None

    @property
    def account_id(self) -> str:
        return self.script.account_id

    def __aiter__(self) -> AsyncIterator[TurnSnapshot]:
        return self._play()

    async def _play(self) -> AsyncIterator[TurnSnapshot]:
        # As the browser layer's turn logs: its own fields, no request id (the service adds it).
        log.info("scripted turn on %s", self.account_id, extra={"account": self.account_id})
        for step in self.script.steps:
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, Hold):
                await step.wait()
            elif isinstance(step, BrowserError):
                raise step
            else:
                self.final = step
                yield step

    async def stop(self) -> None:
        with self.pool._lock:
            self.pool.stops += 1

    async def fetch_media_full(self, url: str) -> Media:
        if url not in self.pool.media:
            raise ProtocolError(f"no media scripted for {url}")
        return self.pool.media[url]

    async def fetch_original(self, image: GeneratedImage) -> Media:
        return await self.fetch_media_full(image.url)


@asynccontextmanager
async def hold(pool: ScriptedPool) -> AsyncIterator[ScriptedPool]:
    yield pool


SCRIPTED_VIDEO_URL = "https://contribution.usercontent.google.com/download?c=scripted-video"


def finished_video_pool(data: bytes) -> ScriptedPool:
    """A pool whose one turn starts a Create-video job that renders, then is done: the chat's
    history then names the video, whose download answers ``data``."""
    pool = ScriptedPool()
    chip = VideoInfo(thumbnail_url=None, video_url=None, job_id="job-1", pending=True)
    pool.queue(
        Script([TurnSnapshot(cid="c_video", text="Your video is on its way.", video=chip, completed=True)])
    )
    pool.video_jobs.extend([False, True])  # rendering, then done: the chat's history is read
    pool.chat_videos.append(
        VideoInfo(thumbnail_url=None, video_url=SCRIPTED_VIDEO_URL, job_id="job-1", pending=False)
    )
    pool.media[SCRIPTED_VIDEO_URL] = Media(data=data, mime="video/mp4", url=SCRIPTED_VIDEO_URL)
    return pool
