"""One ``stop_timeout``: the gateway's setting is the pool's too, so both wait the same time for a
stopped answer; a ``browser.stop_timeout`` that says otherwise is a configuration error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from browser import BrowserPool
from service.app import create_app, serving_options
from service.backend import Backend
from service.pool_adapter import BrowserBackend, browser_backend
from service.settings import GatewaySettings
from tests.support.servers import serve


def test_the_pool_gets_the_gateways_stop_timeout(tmp_path: Path) -> None:
    settings = GatewaySettings(open_access=True, data_dir=tmp_path, stop_timeout=2.5)
    pool = settings.pool_settings()
    assert (pool.stop_timeout, pool.data_dir) == (2.5, tmp_path)
    # Overrides (the doctor's scratch directory, headed) keep the one bound.
    scratch = settings.pool_settings(data_dir=tmp_path / "scratch", headless=False)
    assert (scratch.stop_timeout, scratch.data_dir, scratch.headless) == (2.5, tmp_path / "scratch", False)
    # The default is the gateway's default, not the pool's own 5 s.
    assert GatewaySettings(open_access=True).pool_settings().stop_timeout == 10.0


def test_a_conflicting_browser_stop_timeout_is_refused() -> None:
    with pytest.raises(
        ValidationError, match=r"browser\.stop_timeout \(6 s\) differs from stop_timeout \(4 s\)"
    ):
        GatewaySettings(open_access=True, stop_timeout=4, browser={"stop_timeout": 6})
    # Alone it conflicts with the default too: the pool would wait 6 s and the service 10 s.
    with pytest.raises(ValidationError, match="set stop_timeout only"):
        GatewaySettings(open_access=True, browser={"stop_timeout": 6})
    same = GatewaySettings(open_access=True, stop_timeout=4, browser={"stop_timeout": "4"})
    assert same.pool_settings().stop_timeout == 4.0


def test_a_conflict_from_the_config_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text("open_access = true\nstop_timeout = 3\n[browser]\nstop_timeout = 7\n")
    monkeypatch.setenv("GATEWAY_CONFIG", str(config))
    with pytest.raises(ValidationError, match="differs from stop_timeout"):
        GatewaySettings()
    monkeypatch.setenv("GATEWAY_BROWSER__STOP_TIMEOUT", "3")  # the environment wins over the file
    assert GatewaySettings().stop_timeout == 3.0


def test_a_served_gateway_runs_its_pool_with_its_stop_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Configured as users do (the environment), through the app's lifespan and the real pool factory.
    monkeypatch.setenv("GATEWAY_STOP_TIMEOUT", "3.25")
    monkeypatch.setenv("GATEWAY_OPEN_ACCESS", "true")
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path / "data"))
    settings = GatewaySettings()
    backends: list[Backend] = []

    @asynccontextmanager
    async def recording(settings: GatewaySettings) -> AsyncIterator[Backend]:
        async with browser_backend(settings) as backend:
            backends.append(backend)
            yield backend

    with serve(create_app(settings, pool_factory=recording), startup_timeout=60) as url:
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
        (backend,) = backends
        assert isinstance(backend, BrowserBackend) and isinstance(backend.pool, BrowserPool)
        assert backend.pool.settings.stop_timeout == 3.25
        assert backend.pool.settings.data_dir == tmp_path / "data"
    assert serving_options(settings).stop_timeout == 3.25  # what the service's stop waits
