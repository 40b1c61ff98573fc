"""Fixtures of the browser layer's tests: one simulator per UI generation, its control API, and the
session's Playwright and Chromium lent to the pools.

``ui_url`` runs a test on every UI generation (the driver's steps differ there); ``gen_url`` on the
newest and the oldest, for the pool tests whose path goes through generation-specific steps (the
tools a page offers, a whole turn); ``sim_url`` on the newest only: the rest of the pool's logic does
not depend on the page's generation, and the driver's tests cover each generation's steps."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Playwright

from browser import BrowserPool, LaunchMode, PoolSettings, TurnRequest
from browser._launcher import launch_local
from tests.support.pacing import PACING
from tests.support.servers import serve

UI_GENERATIONS = ("oct2026", "mid2026", "early2026")
POOL_GENERATIONS = ("oct2026", "early2026")


@pytest.fixture(scope="session")
def simulators() -> Iterator[dict[str, str]]:
    """Every UI generation, the tests' pacing, each on its own loopback port."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    def app(ui: str) -> object:
        return create_app(SimulatorSettings.model_validate({**PACING, "ui": ui}))

    with serve(app("oct2026")) as oct_, serve(app("mid2026")) as mid, serve(app("early2026")) as early:
        yield {"oct2026": oct_, "mid2026": mid, "early2026": early}


@pytest.fixture
def sim_url(simulators: dict[str, str]) -> str:
    return simulators[UI_GENERATIONS[0]]


@pytest.fixture(params=POOL_GENERATIONS)
def gen_url(request: pytest.FixtureRequest, simulators: dict[str, str]) -> str:
    return simulators[str(request.param)]


@pytest.fixture(params=UI_GENERATIONS)
def ui_url(request: pytest.FixtureRequest, simulators: dict[str, str]) -> str:
    return simulators[str(request.param)]


@pytest.fixture
def ui_sim(ui_url: str) -> Iterator[Sim]:
    """``sim`` for ``ui_url``: the control API, reset before and after the test."""
    yield from _reset_around(Sim(ui_url))


@pytest.fixture
def gen_sim(gen_url: str) -> Iterator[Sim]:
    """``sim`` for ``gen_url``."""
    yield from _reset_around(Sim(gen_url))


class Lender:
    """The session's Playwright and one shared-mode Chromium, lent to the pools of the tests: a pool
    then starts no driver and (in shared mode) no browser of its own. The browser is launched as
    shared mode launches it with default settings, and again if a test killed it; tests about
    launching itself (flags, crashes, profiles) build their pools without it."""

    def __init__(self, playwright: Playwright) -> None:
        self.playwright = playwright
        self._browser: Browser | None = None

    async def to(self, mode: LaunchMode = LaunchMode.SHARED, *, browser: bool = True) -> dict[str, Any]:
        """``BrowserPool`` keyword arguments for a pool in ``mode``; ``browser=False`` lends only
        Playwright (for a test that kills the pool's browser)."""
        if mode is not LaunchMode.SHARED or not browser:
            return {"playwright": self.playwright}
        if self._browser is None or not self._browser.is_connected():
            self._browser = await launch_local(self.playwright, PoolSettings())
        return {"playwright": self.playwright, "browser": self._browser}

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()


@pytest.fixture(scope="session")
async def lender(playwright: Playwright) -> AsyncIterator[Lender]:
    lender = Lender(playwright)
    try:
        yield lender
    finally:
        await lender.close()


PoolOf = Callable[..., AbstractAsyncContextManager[BrowserPool]]


@pytest.fixture
def pool_of(lender: Lender) -> PoolOf:
    """``pool_of(settings)``: a started pool on what the lender lends for its launch mode;
    ``own_browser=True`` for a test that kills the pool's browser."""

    @asynccontextmanager
    async def start(settings: PoolSettings, *, own_browser: bool = False) -> AsyncIterator[BrowserPool]:
        lent = await lender.to(settings.launch_mode, browser=not own_browser)
        async with BrowserPool(settings, **lent) as pool:
            yield pool

    return start


def public_id(psid: str) -> str:
    """How the simulator names a session in its request log (never by its cookie value)."""
    return hashlib.sha256(psid.encode()).hexdigest()[:16]


def cookie(kind: str) -> str:
    """A fresh ``__Secure-1PSID`` value of the given simulator account kind."""
    return f"{kind}-{uuid.uuid4().hex[:12]}"


class Sim:
    """The simulator's ``/_sim`` control endpoints."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10)

    def requests(self) -> list[dict[str, Any]]:
        with self._client() as client:
            result: list[dict[str, Any]] = client.get("/_sim/requests").json()
            return result

    def behaviours(self, account: str, *behaviours: dict[str, Any]) -> None:
        with self._client() as client:
            client.post("/_sim/behaviours", json={"account": account, "behaviours": list(behaviours)})

    def rpcs(self) -> list[dict[str, Any]]:
        """The batchexecute calls the simulator answered (``GET /_sim/rpcs``)."""
        with self._client() as client:
            result: list[dict[str, Any]] = client.get("/_sim/rpcs").json()
            return result

    def rotations(self) -> list[dict[str, Any]]:
        with self._client() as client:
            result: list[dict[str, Any]] = client.get("/_sim/rotations").json()
            return result

    def config(self, **changes: Any) -> None:
        """Change simulator settings at runtime (``POST /_sim/config``); ``reset`` restores them."""
        with self._client() as client:
            client.post("/_sim/config", json=changes).raise_for_status()

    def reset(self) -> None:
        with self._client() as client:
            client.post("/_sim/reset").raise_for_status()


@pytest.fixture
def sim(sim_url: str) -> Iterator[Sim]:
    """The simulator's control API, with its logs, chats, queues and settings reset before and
    after this test (so a test's ``config`` changes never reach the next one)."""
    yield from _reset_around(Sim(sim_url))


def _reset_around(control: Sim) -> Iterator[Sim]:
    control.reset()
    yield control
    control.reset()


async def assert_answer_read_from_page(pool: BrowserPool, prompt: str) -> None:
    """A turn on the pool's only account whose network gives no content: the page's text comes once, whole."""
    texts: list[str] = []
    async with pool.turn(TurnRequest(prompt=prompt)) as turn:
        async for snapshot in turn:
            texts.append(snapshot.text)
    assert len(texts) == 1, "nothing streams from the network; the page's text comes once at the end"
    assert turn.final is not None and turn.final.completed
    assert turn.final.text.startswith("Turn 1 of chat c_")
    assert f"Echo: {prompt}" in turn.final.text
    assert pool.accounts()[0].active_turns == 0
