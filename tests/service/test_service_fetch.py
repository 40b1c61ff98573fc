"""The SSRF-guarded image fetch, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from service import fetch as fetch_module
from service.errors import InvalidRequest, PayloadTooLarge
from service.fetch import FetchPolicy, fetch, is_public_address
from tests.service.test_service_inputs import png_bytes
from tests.support.servers import serve

PNG = png_bytes(8)
HITS: list[str] = []


async def _image(request: Request) -> Response:
    HITS.append(request.url.path)
    return Response(PNG, media_type="image/png")


async def _text(request: Request) -> Response:
    return Response("hello", media_type="text/plain")


async def _chunked(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"\x00" * 1000

    return StreamingResponse(body(), media_type="image/png")


async def _slow(request: Request) -> Response:
    await asyncio.sleep(1)
    return Response(PNG, media_type="image/png")


async def _redirect(request: Request) -> Response:
    return RedirectResponse(request.query_params.get("to", "/img.png"), status_code=302)


async def _missing(request: Request) -> Response:
    return Response("no", status_code=404)


APP = Starlette(
    routes=[
        Route("/img.png", _image),
        Route("/text", _text),
        Route("/chunked", _chunked),
        Route("/slow", _slow),
        Route("/redirect", _redirect),
        Route("/missing", _missing),
    ]
)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve(APP) as url:
        yield url.replace("localhost", "127.0.0.1")


def policy(**overrides: object) -> FetchPolicy:
    values: dict[str, object] = {
        "timeout": 1.0,
        "max_bytes": 10_000,
        "allowed_types": ("image/png", "image/jpeg"),
        "allow_private": True,
    }
    values.update(overrides)
    return FetchPolicy(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("fe80::1", False),
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("0.0.0.0", False),
        ("240.0.0.1", False),
        ("100.64.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("fc00::1", False),
    ],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public


async def test_fetches_an_image_when_private_targets_are_allowed(server: str) -> None:
    got = await fetch(f"{server}/img.png", policy())
    assert got.data == PNG and got.mime == "image/png"


async def test_localhost_name_resolves_and_is_fetched_when_allowed(server: str) -> None:
    got = await fetch(server.replace("127.0.0.1", "localhost") + "/img.png", policy())
    assert got.data == PNG


async def test_guard_blocks_loopback_when_not_relaxed(server: str) -> None:
    HITS.clear()
    for url in (f"{server}/img.png", server.replace("127.0.0.1", "localhost") + "/img.png"):
        with pytest.raises(InvalidRequest, match="non-public address") as info:
            await fetch(url, policy(allow_private=False))
        assert info.value.param == "messages"
    assert HITS == []  # refused before connecting


async def test_redirect_targets_are_checked_again(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend 127.0.0.1 is public so the first hop passes; the redirect to 127.0.0.2 must not.
    monkeypatch.setattr(fetch_module, "is_public_address", lambda address: address == "127.0.0.1")
    port = server.rsplit(":", 1)[1]
    HITS.clear()
    with pytest.raises(InvalidRequest, match=r"127\.0\.0\.2"):
        await fetch(f"{server}/redirect?to=http://127.0.0.2:{port}/img.png", policy(allow_private=False))
    assert HITS == []
    got = await fetch(f"{server}/redirect?to=/img.png", policy(allow_private=False))
    assert got.data == PNG and got.url.endswith("/img.png")


async def test_redirect_limit(server: str) -> None:
    loop = f"{server}/redirect?to=/redirect"
    with pytest.raises(InvalidRequest, match="Too many redirects"):
        await fetch(loop, policy(max_redirects=0))


async def test_content_type_size_status_and_time_limits(server: str) -> None:
    with pytest.raises(InvalidRequest, match="not an allowed image type"):
        await fetch(f"{server}/text", policy())
    with pytest.raises(PayloadTooLarge):
        await fetch(f"{server}/img.png", policy(max_bytes=len(PNG) - 1))
    with pytest.raises(PayloadTooLarge):
        await fetch(f"{server}/chunked", policy(max_bytes=5_000))
    with pytest.raises(InvalidRequest, match="HTTP 404"):
        await fetch(f"{server}/missing", policy())
    with pytest.raises(InvalidRequest, match="timed out"):
        await fetch(f"{server}/slow", policy(timeout=0.3))


async def test_only_http_schemes(server: str) -> None:
    with pytest.raises(InvalidRequest, match="http"):
        await fetch("ftp://127.0.0.1/x.png", policy())
    with pytest.raises(InvalidRequest, match="resolve"):
        await fetch("http://no-such-host.invalid/x.png", policy())
