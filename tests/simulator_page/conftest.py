"""One simulator per UI generation for the page tests, served by real uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from tests.simulator_page.pagekit import UI_GENERATIONS, SimControl
from tests.support.pacing import PACING
from tests.support.servers import serve


def _serve_simulator(ui: str, frame_interval: float) -> Generator[str, None, None]:
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    fields: dict[str, Any] = {**PACING, "ui": ui, "frame_interval": frame_interval}
    settings = SimulatorSettings.model_validate(fields)
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="session")
def oct2026_url() -> Iterator[str]:
    yield from _serve_simulator("oct2026", PACING["frame_interval"])


@pytest.fixture(scope="session")
def mid2026_url() -> Iterator[str]:
    yield from _serve_simulator("mid2026", PACING["frame_interval"])


@pytest.fixture(scope="session")
def early2026_url() -> Iterator[str]:
    yield from _serve_simulator("early2026", PACING["frame_interval"])


@pytest.fixture(params=UI_GENERATIONS)
def ui(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sim_url(ui: str, request: pytest.FixtureRequest) -> str:
    """Base URL of the simulator that renders the ``ui`` generation."""
    return str(request.getfixturevalue(f"{ui}_url"))


@pytest.fixture
def sim(sim_url: str) -> SimControl:
    return SimControl(sim_url)


@pytest.fixture(scope="session")
def slow_urls() -> Iterator[dict[str, str]]:
    """Simulators pacing frames 250 ms apart, so streaming and stopping are observable."""
    servers = {ui: _serve_simulator(ui, 0.25) for ui in UI_GENERATIONS}
    urls = {ui: next(server) for ui, server in servers.items()}
    try:
        yield urls
    finally:
        for server in servers.values():
            server.close()
