"""A replica's real pool and ownership loop in the test's own process, wired as the app's lifespan
wires them (shared cookies and health on the state's stores, the configured accounts left to the
loop), for the cluster tests that reach into the pool or the loop; and the simulator's control
client, reset around each test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Playwright

from browser import BrowserPool
from service.cluster.lifespan import owned_pool
from service.cluster.ownership import AccountOwnership
from service.pool_adapter import BrowserBackend
from service.settings import GatewaySettings
from service.stores.backends import open_stores

__all__ = ["Replica", "simulator"]


@pytest.fixture
async def simulator(simulator_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=simulator_url, timeout=10) as control:
        (await control.post("/_sim/reset")).raise_for_status()
        yield control
        (await control.post("/_sim/reset")).raise_for_status()


class Replica:
    """One replica; leaving it twice is harmless (a test may stop it early)."""

    ownership: AccountOwnership

    def __init__(self, settings: GatewaySettings, playwright: Playwright) -> None:
        self.settings, self.playwright = settings, playwright
        self.closed = False

    async def __aenter__(self) -> Replica:
        self.stores = await open_stores(self.settings.state, self.settings.data_dir)
        settings = self.settings.model_copy(update={"accounts": ()})  # the loop starts its share
        self.pool = BrowserPool(
            settings.pool_settings(),
            playwright=self.playwright,
            shared_cookies=self.stores.cookies,
            shared_health=self.stores.health,
        )
        await self.pool.__aenter__()
        self.owned = owned_pool(self.settings, BrowserBackend(self.pool), self.stores)
        _, ownership = await self.owned.__aenter__()
        assert ownership is not None
        self.ownership = ownership
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.closed:
            return
        self.closed = True
        await self.owned.__aexit__(None, None, None)
        await self.pool.close()
        await self.stores.aclose()
