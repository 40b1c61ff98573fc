"""Fixtures of the service tests: settings on a temp data dir, and a real uvicorn gateway on a
``ScriptedPool`` with the official ``openai`` client pointed at it; and, after every test, the
check that no replica's task (``AccountOwnership``'s rounds and account work, named ``cluster-*``)
is left running on the session's event loop, where it would heartbeat and take leases in the next
tests' Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import pytest

from service.app import create_app
from service.pool_adapter import BrowserBackend
from service.settings import GatewaySettings
from tests.service.scripted_pool import ScriptedPool
from tests.support.servers import serve

API_KEY = "sk-test-key-0123456789"
_LEFT_WAIT = 10.0  # bound of the wait for a left-over replica task to end once cancelled


@pytest.fixture(autouse=True)
async def no_replica_left() -> AsyncIterator[None]:
    yield
    left = [
        task for task in asyncio.all_tasks() if task.get_name().startswith("cluster-") and not task.done()
    ]
    if left:
        # Stopped here so that one leaking test (or one a timeout cut short) fails alone.
        for task in left:
            task.cancel()
        await asyncio.wait(left, timeout=_LEFT_WAIT)
        pytest.fail(f"replica tasks left running: {sorted(task.get_name() for task in left)}")


@dataclass
class Served:
    url: str
    pool: ScriptedPool
    settings: GatewaySettings

    def client(self, *, key: str = API_KEY, prefix: str = "/v1", **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(api_key=key, base_url=self.url + prefix, max_retries=0, timeout=15, **kwargs)


def settings_for(tmp_path: Path, **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {"data_dir": tmp_path / "data", "api_keys": [API_KEY, "sk-other-key"]}
    values.update(overrides)
    return GatewaySettings(**values)


def _factory(pool: ScriptedPool) -> Callable[[GatewaySettings], Any]:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def factory(settings: GatewaySettings) -> Any:
        yield BrowserBackend(pool)

    return factory


@pytest.fixture
def serve_gateway(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start a gateway (settings overrides as keywords) on a fresh ``ScriptedPool``."""
    from contextlib import ExitStack

    with ExitStack() as stack:

        def start(pool: ScriptedPool | None = None, **overrides: Any) -> Served:
            pool = pool or ScriptedPool()
            settings = settings_for(tmp_path, **overrides)
            url = stack.enter_context(serve(create_app(settings, pool_factory=_factory(pool))))
            return Served(url=url, pool=pool, settings=settings)

        yield start


@pytest.fixture
def gateway(serve_gateway: Callable[..., Served]) -> Served:
    return serve_gateway()
