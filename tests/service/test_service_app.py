"""The app factory: the lifespan owns the pool (entered and exited with the server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from service.app import create_app
from service.backend import Backend
from service.pool_adapter import BrowserBackend
from service.settings import GatewaySettings
from tests.service.conftest import API_KEY, settings_for
from tests.service.scripted_pool import ScriptedPool
from tests.support.servers import serve


def test_lifespan_enters_and_exits_the_pool(tmp_path: Path) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def factory(settings: GatewaySettings) -> AsyncIterator[Backend]:
        events.append("enter")
        try:
            yield BrowserBackend(ScriptedPool())
        finally:
            events.append("exit")

    settings = settings_for(tmp_path)
    with serve(create_app(settings, pool_factory=factory)) as url:
        assert events == ["enter"]
        response = httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {API_KEY}"})
        assert response.status_code == 200
    assert events == ["enter", "exit"]
    assert settings.conversations_path.exists()
