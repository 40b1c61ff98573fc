"""A simulator of our own for the server tests (they reset and reconfigure it freely)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulator.app import create_app
from simulator.settings import SimulatorSettings
from tests.support.pacing import PACING
from tests.support.servers import serve

FAST = {**PACING, "upload_delay": 0.0, "video_render_seconds": 0.5}


@pytest.fixture(scope="session")
def sim_server() -> Iterator[str]:
    with serve(create_app(SimulatorSettings(**FAST))) as url:  # type: ignore[arg-type]
        yield url


@pytest.fixture
def sim(sim_server: str) -> Iterator[str]:
    """The simulator's base URL, reset to a fresh state for each test."""
    httpx.post(f"{sim_server}/_sim/reset", timeout=5).raise_for_status()
    yield sim_server
