"""Fixtures of the browser layer's tests: one simulator per UI generation, and its control API.

``ui_url`` runs a test on every UI generation (the driver's steps differ there); ``sim_url`` on the
newest and the oldest only: pool logic does not depend on the page's generation, and the driver's
tests cover the one in between."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from browser import BrowserPool, TurnRequest
from tests.support.servers import serve

UI_GENERATIONS = ("oct2026", "mid2026", "early2026")
POOL_GENERATIONS = ("oct2026", "early2026")


@pytest.fixture(scope="session")
def simulators() -> Iterator[dict[str, str]]:
    """Every UI generation, fast pacing, each on its own loopback port."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    def app(ui: str) -> object:
        return create_app(SimulatorSettings(ui=ui, first_token_delay=0.05, frame_interval=0.03))  # type: ignore[arg-type]

    with serve(app("oct2026")) as oct_, serve(app("mid2026")) as mid, serve(app("early2026")) as early:
        yield {"oct2026": oct_, "mid2026": mid, "early2026": early}


@pytest.fixture(params=POOL_GENERATIONS)
def sim_url(request: pytest.FixtureRequest, simulators: dict[str, str]) -> str:
    return simulators[str(request.param)]


@pytest.fixture(params=UI_GENERATIONS)
def ui_url(request: pytest.FixtureRequest, simulators: dict[str, str]) -> str:
    return simulators[str(request.param)]


@pytest.fixture
def ui_sim(ui_url: str) -> Iterator[Sim]:
    """``sim`` for ``ui_url``: the control API, reset before and after the test."""
    control = Sim(ui_url)
    control.reset()
    yield control
    control.reset()


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
    control = Sim(sim_url)
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
