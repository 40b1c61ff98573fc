"""``ScriptedPool``: an in-process stand-in for ``browser.BrowserPool`` (tests only).

It implements the documented pool API (``turn(TurnRequest)`` as an async context manager yielding
a turn with ``account_id``, async iteration of ``TurnSnapshot``s and ``stop()``; ``accounts()``)
and plays scripts: snapshots, pauses, and browser-layer errors, before or during the turn. It
counts leases and stops so tests can prove both come back, also when a client disconnects.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from browser import AccountInfo, AccountState, BrowserError, ModeFamily, Tool, TurnRequest, TurnSnapshot


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
    scripts: deque[Script] = field(default_factory=deque)
    requests: list[TurnRequest] = field(default_factory=list)
    active: int = 0
    leases: int = 0
    released: int = 0
    stops: int = 0
    deleted: list[tuple[str, str]] = field(default_factory=list)
    delete_error: BrowserError | None = None
    deletion_seen: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, *scripts: Script) -> None:
        self.scripts.extend(scripts)

    def accounts(self) -> list[AccountInfo]:
        return list(self.account_list)

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


@asynccontextmanager
async def hold(pool: ScriptedPool) -> AsyncIterator[ScriptedPool]:
    yield pool
