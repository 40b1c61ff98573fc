"""Admission before image work: a request that would fetch or decode images beyond the global or
per-key limit is refused (429, Retry-After) before any of its images is touched; one request's
images share a byte budget (413)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.service.conftest import API_KEY, Served
from tests.service.test_service_inputs import data_url, png_bytes
from tests.support.servers import serve

OTHER_KEY = "sk-other-key"
WAIT = 10.0  # bound on every wait below


@dataclass
class GatedHost:
    """A loopback PNG whose answer waits for ``release``; ``hits`` lists the paths requested."""

    url: str
    hits: list[str] = field(default_factory=list)
    fetching: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def gated_host() -> Iterator[GatedHost]:
    host = GatedHost(url="")

    async def image(request: Request) -> Response:
        host.hits.append(request.url.path)
        host.fetching.set()
        await asyncio.to_thread(host.release.wait, WAIT)
        return Response(png_bytes(6), media_type="image/png")

    with serve(Starlette(routes=[Route("/{name}.png", image)])) as url:
        host.url = f"http://127.0.0.1:{httpx.URL(url).port}"
        try:
            yield host
        finally:
            host.release.set()


def _post(served: Served, image_url: str, key: str = API_KEY) -> httpx.Response:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": image_url}},
    ]
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": content}]}
    headers = {"Authorization": f"Bearer {key}"}
    return httpx.post(f"{served.url}/v1/chat/completions", json=body, headers=headers, timeout=WAIT * 2)


def _hold_a_slot(served: Served, host: GatedHost, pool: ThreadPoolExecutor) -> Future[httpx.Response]:
    """A request whose image fetch is in progress (so it holds an admission slot) until released."""
    held = pool.submit(_post, served, f"{host.url}/held.png")
    assert host.fetching.wait(WAIT), "the first request never fetched its image"
    return held


def test_the_global_limit_refuses_before_fetching(
    serve_gateway: Callable[..., Served], gated_host: GatedHost
) -> None:
    served = serve_gateway(fetch_allow_private=True, image_requests=1)
    with ThreadPoolExecutor(1) as pool:
        held = _hold_a_slot(served, gated_host, pool)
        refused = _post(served, f"{gated_host.url}/second.png", key=OTHER_KEY)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert refused.json()["error"]["type"] == "rate_limit_error"
        assert gated_host.hits == ["/held.png"]  # the refused request's image was never fetched
        # Text-only requests are not image work: they pass.
        text_only = httpx.post(
            f"{served.url}/v1/chat/completions",
            json={"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "Hi"}]},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=WAIT,
        )
        assert text_only.status_code == 200
        gated_host.release.set()
        assert held.result(WAIT * 2).status_code == 200
    # The slot came back.
    assert _post(served, data_url(png_bytes(5))).status_code == 200


def test_the_per_key_limit_refuses_that_key_only(
    serve_gateway: Callable[..., Served], gated_host: GatedHost
) -> None:
    served = serve_gateway(fetch_allow_private=True, image_requests=4, image_requests_per_key=1)
    with ThreadPoolExecutor(1) as pool:
        held = _hold_a_slot(served, gated_host, pool)
        refused = _post(served, data_url(png_bytes(5)))  # same key: refused before decoding
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert "Retry-After" in refused.headers
        assert _post(served, data_url(png_bytes(5)), key=OTHER_KEY).status_code == 200
        gated_host.release.set()
        assert held.result(WAIT * 2).status_code == 200
    assert len(served.pool.requests) == 2


def test_one_requests_images_share_a_byte_budget(serve_gateway: Callable[..., Served]) -> None:
    image = png_bytes(40)
    served = serve_gateway(image_request_bytes=len(image) * 2 - 1)
    content = [{"type": "image_url", "image_url": {"url": data_url(image)}} for _ in range(2)]
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": content}]}
    response = httpx.post(
        f"{served.url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert "images of one request" in error["message"] and error["param"] == "messages"
    assert served.pool.requests == []
    # Each image alone fits the same budget.
    assert _post(served, data_url(image)).status_code == 200
