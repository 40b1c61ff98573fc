"""One real stack per test module: the simulator (short pacing), the real app with the real
``BrowserPool`` on Chromium, served by uvicorn on loopback, with a paid and a free account; plus the
official ``openai`` client, the simulator's request log, and a loopback server for image URLs.
``ui_stack`` adds a second stack on the simulator's early-2026 page generation, for the few tests
that must hold on both UIs (one more Chromium per module, so only where it matters)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from pydantic import SecretStr

from browser import AccountInfo
from service.app import create_app
from service.backend import Backend
from service.pool_adapter import browser_backend
from service.settings import AccountConfig, GatewaySettings
from tests.support.pacing import PACING
from tests.support.servers import serve

KEY_A = "sk-e2e-key-a"
KEY_B = "sk-e2e-key-b"
# The tests' pacing keeps the module quick; the disconnect test slows it down through /_sim/config.
FAST_PACING = PACING
MAX_BODY_BYTES = 1024 * 1024
WAIT = 20.0  # bound on every poll


@dataclass
class Stack:
    url: str
    sim_url: str
    settings: GatewaySettings
    ui: str = "oct2026"
    backends: list[Backend] = field(default_factory=list)

    def client(self, *, key: str = KEY_A, prefix: str = "/gemini_official/v1") -> openai.OpenAI:
        return openai.OpenAI(api_key=key, base_url=self.url + prefix, max_retries=0, timeout=90)

    def accounts(self) -> Sequence[AccountInfo]:
        return self.backends[0].accounts()

    def sim_requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = httpx.get(f"{self.sim_url}/_sim/requests", timeout=10).json()
        return result

    def sim_config(self, **values: Any) -> None:
        httpx.post(f"{self.sim_url}/_sim/config", json=values, timeout=10).raise_for_status()

    def requests_with(self, marker: str) -> list[dict[str, Any]]:
        """Simulator log entries whose prompt or attached files mention ``marker``."""
        return [entry for entry in self.sim_requests() if marker in entry["prompt"]]

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)


def marker() -> str:
    """A unique word to find one test's requests in the simulator log."""
    return f"mark{uuid.uuid4().hex[:10]}"


@contextmanager
def running_stack(
    data_dir: Path, kinds: Sequence[str], *, ui: str = "oct2026", **overrides: Any
) -> Iterator[Stack]:
    """A simulator (page generation ``ui``) and a gateway with one account per simulator account kind
    (``paid``, ``free``); ``overrides`` are further gateway settings (``browser``: merged into the pool's)."""
    from simulator.app import create_app as create_simulator
    from simulator.settings import SimulatorSettings

    run = uuid.uuid4().hex[:8]
    # Renders take the simulator's 3 s: look at them often, not every 2 s as a real one deserves.
    overrides.setdefault("video_poll_interval", 0.2)
    with serve(create_simulator(SimulatorSettings(ui=ui, **FAST_PACING))) as sim_url:
        settings = GatewaySettings(
            data_dir=data_dir,
            api_keys=(SecretStr(KEY_A), SecretStr(KEY_B)),
            fetch_allow_private=True,  # the image-URL test serves its image on loopback
            max_body_bytes=MAX_BODY_BYTES,
            browser={"gemini_url": sim_url, "queue_timeout": 60.0, **overrides.pop("browser", {})},
            accounts=tuple(
                AccountConfig(name=f"e2e-{kind}", psid=SecretStr(f"{kind}-e2e-{run}")) for kind in kinds
            ),
            **overrides,
        )
        stack = Stack(url="", sim_url=sim_url, settings=settings, ui=ui)

        @asynccontextmanager
        async def recording(settings: GatewaySettings) -> AsyncIterator[Backend]:
            # The real pool factory; the test keeps a handle to read the pool's account states.
            async with browser_backend(settings) as backend:
                stack.backends.append(backend)
                yield backend

        with serve(create_app(settings, pool_factory=recording), startup_timeout=90) as url:
            stack.url = url
            yield stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The module's gateway with a paid and a free account."""
    with running_stack(tmp_path_factory.mktemp("e2e-data"), ("paid", "free")) as running:
        yield running


@pytest.fixture(scope="module", params=["oct2026", "early2026"])
def ui_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The module's ``stack`` (October 2026 UI), then a paid-and-free stack on the early-2026 UI."""
    if request.param == "oct2026":
        yield request.getfixturevalue("stack")
        return
    with running_stack(tmp_path_factory.mktemp("e2e-early"), ("paid", "free"), ui=request.param) as running:
        yield running


@pytest.fixture(scope="module")
def image_server() -> Iterator[Callable[[bytes], str]]:
    """A loopback server for image URLs: ``put(png_bytes)`` returns the URL serving them."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    images: dict[str, bytes] = {}

    async def image(request: Request) -> Response:
        data = images.get(request.path_params["name"])
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="image/png")

    app = Starlette(routes=[Route("/img/{name}", image)])
    with serve(app) as url:

        def put(data: bytes) -> str:
            name = f"{uuid.uuid4().hex[:8]}.png"
            images[name] = data
            return f"{url}/img/{name}"

        yield put
