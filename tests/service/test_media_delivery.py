"""Media delivery (I5), local target: signed expiring links served by a real gateway under uvicorn,
downloaded with httpx without an API key; refusals; the size and age limits; file modes."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.responses import StreamingResponse

from service.app import create_app
from service.errors import MediaLinkExpired, MediaStorageFailed
from service.media import MediaDelivery, MediaSettings
from service.media.signing import LinkSigner
from service.state import GatewayDep
from tests.service.conftest import API_KEY, _factory, settings_for
from tests.service.scripted_pool import ScriptedPool
from tests.service.test_service_inputs import png_bytes
from tests.support.servers import serve

PNG = png_bytes(16)
AUTH = {"Authorization": f"Bearer {API_KEY}"}


async def _deliver(request: Request, gateway: GatewayDep) -> dict[str, str]:
    """A stand-in for the images route: store the body, answer its URL (built inside a request)."""
    data = await request.body()
    url = await gateway.media.url_for(
        data, request.headers["content-type"], suffix=request.query_params["suffix"]
    )
    return {"url": url}


async def _deliver_streamed(request: Request, gateway: GatewayDep) -> StreamingResponse:
    """As the images route streams: url_for runs inside the response's body iterator."""
    data = await request.body()

    async def events() -> AsyncIterator[bytes]:
        yield b"data: started\n\n"
        url = await gateway.media.url_for(data, "image/png", suffix=".png")
        yield f"data: {url}\n\n".encode()

    return StreamingResponse(events(), media_type="text/event-stream")


def _app(tmp_path: Path, **overrides: Any) -> FastAPI:
    app = create_app(settings_for(tmp_path, **overrides), pool_factory=_factory(ScriptedPool()))
    app.add_api_route("/v1/test/deliver", _deliver, methods=["POST"])
    app.add_api_route("/v1/test/deliver-streamed", _deliver_streamed, methods=["POST"])
    return app


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., str]]:
    with ExitStack() as stack:

        def starter(**overrides: Any) -> str:
            return stack.enter_context(serve(_app(tmp_path, **overrides)))

        yield starter


def deliver(base: str, data: bytes = PNG, mime: str = "image/png", suffix: str = ".png") -> str:
    response = httpx.post(
        f"{base}/v1/test/deliver",
        params={"suffix": suffix},
        content=data,
        headers={**AUTH, "content-type": mime},
        timeout=10,
    )
    response.raise_for_status()
    url: str = response.json()["url"]
    return url


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    code: str = body["error"]["code"]
    return code


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query="&".join(f"{k}={v}" for k, v in query.items())).geturl()


def test_a_signed_link_downloads_without_an_api_key(start: Callable[..., str], tmp_path: Path) -> None:
    base = start()
    url = deliver(base)
    assert url.startswith(f"{base}/media/") and "sig=" in url and "exp=" in url
    response = httpx.get(url, timeout=10)  # no Authorization header at all
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    exp = int(parse_qs(urlsplit(url).query)["exp"][0])
    assert time.time() < exp <= time.time() + 24 * 3600 + 1
    name = urlsplit(url).path.rsplit("/", 1)[1]
    assert (tmp_path / "data" / "media" / name).read_bytes() == PNG


def test_links_built_while_streaming_use_the_request_base_url(start: Callable[..., str]) -> None:
    base = start()
    response = httpx.post(f"{base}/v1/test/deliver-streamed", content=PNG, headers=AUTH, timeout=10)
    url = response.text.split("data: ")[-1].strip()
    assert url.startswith(f"{base}/media/")
    assert httpx.get(url, timeout=10).content == PNG


def test_a_malformed_host_header_is_not_echoed_into_links(start: Callable[..., str]) -> None:
    base = start()
    port = base.rsplit(":", 1)[1]
    response = httpx.post(
        f"{base}/v1/test/deliver",
        params={"suffix": ".png"},
        content=PNG,
        headers={**AUTH, "content-type": "image/png", "host": "evil.example/<script>"},
        timeout=10,
    )
    url = response.json()["url"]
    assert url.startswith(f"http://127.0.0.1:{port}/media/")


def test_public_base_url_is_used_for_links(start: Callable[..., str]) -> None:
    base = start(media={"public_base_url": "https://images.example.org/gw/"})
    url = deliver(base)
    assert url.startswith("https://images.example.org/gw/media/")
    # The proxy strips its /gw prefix and forwards the rest to the gateway.
    local = base + urlsplit(url).path.removeprefix("/gw") + "?" + urlsplit(url).query
    assert httpx.get(local, timeout=10).content == PNG


def test_tampered_or_unsigned_links_are_refused(start: Callable[..., str]) -> None:
    base = start()
    url = deliver(base)
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    exp = parse_qs(urlsplit(url).query)["exp"][0]
    flipped = ("1" if sig[0] == "0" else "0") + sig[1:]
    other = deliver(base, png_bytes(9))
    refused = [
        with_query(url, sig=flipped),
        with_query(url, exp=str(int(exp) + 3600)),  # a longer life is a different message
        url.split("?", 1)[0],  # no signature at all
        with_query(url, sig=""),
        with_query(url, exp="soon"),
        # another file's name with this file's valid signature
        base + urlsplit(other).path + "?" + urlsplit(url).query,
    ]
    for link in refused:
        response = httpx.get(link, timeout=10)
        assert response.status_code == 403, link
        assert error_code(response) == "invalid_signature"
        assert response.json()["error"]["type"] == "permission_error"
    assert httpx.get(url, timeout=10).content == PNG  # the genuine link still works


def test_expired_and_evicted_links_answer_410(start: Callable[..., str], tmp_path: Path) -> None:
    base = start()
    url = deliver(base)
    name = urlsplit(url).path.rsplit("/", 1)[1]
    secret = (tmp_path / "data" / "media.key").read_bytes()
    past = int(time.time()) - 5
    expired = f"{base}/media/{name}?exp={past}&sig={LinkSigner(secret).sign(name, past)}"
    response = httpx.get(expired, timeout=10)
    assert response.status_code == 410 and error_code(response) == "link_expired"
    (tmp_path / "data" / "media" / name).unlink()
    response = httpx.get(url, timeout=10)
    assert response.status_code == 410 and error_code(response) == "media_gone"


def test_only_the_media_route_is_open_without_a_key(start: Callable[..., str]) -> None:
    base = start()
    url = deliver(base)
    path_and_query = url[len(base) :]
    assert httpx.get(url, timeout=10).status_code == 200
    must_authenticate = [
        ("GET", "/v1/models"),
        ("GET", "/gemini_official/v1/models"),
        ("POST", "/v1/chat/completions"),
        ("POST", path_and_query),  # only GET is exempt
        ("GET", "/media/a/b"),  # one path segment only
        ("GET", "/media/"),
        ("GET", "/v1" + path_and_query),  # not under the API prefixes
        ("GET", "/mediax/" + path_and_query.rsplit("/", 1)[1]),
    ]
    for method, path in must_authenticate:
        response = httpx.request(method, base + path, timeout=10)
        assert response.status_code == 401, (method, path)
        assert error_code(response) == "invalid_api_key"


def test_the_signing_secret_can_be_a_setting(start: Callable[..., str], tmp_path: Path) -> None:
    secret = "a-configured-signing-secret-of-some-length"
    base = start(media={"signing_secret": secret})
    url = deliver(base)
    name = urlsplit(url).path.rsplit("/", 1)[1]
    exp = int(parse_qs(urlsplit(url).query)["exp"][0])
    assert parse_qs(urlsplit(url).query)["sig"][0] == LinkSigner(secret.encode()).sign(name, exp)
    assert not (tmp_path / "data" / "media.key").exists()


# -- the store, without HTTP --


def _delivery(tmp_path: Path, **settings: Any) -> MediaDelivery:
    values: dict[str, Any] = {"public_base_url": "http://gw.test"}
    values.update(settings)
    return MediaDelivery(MediaSettings(**values), tmp_path)


def _age(path: Path, seconds: float) -> None:
    when = time.time() - seconds
    os.utime(path, (when, when))


def _names(delivery: MediaDelivery) -> list[str]:
    assert delivery.local is not None
    return [item.name for item in delivery.local.files()]


def _name(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


async def test_the_size_limit_evicts_the_oldest_files(tmp_path: Path) -> None:
    async with _delivery(tmp_path, max_bytes=3000) as delivery:
        names = [
            _name(await delivery.url_for(bytes([i]) * 1000, "image/png", suffix=".png")) for i in range(3)
        ]
        for index, name in enumerate(names):  # distinct ages, oldest first (mtime resolution varies)
            _age(tmp_path / "media" / name, 30 - 10 * index)
        newest = _name(await delivery.url_for(b"n" * 1000, "image/png", suffix="png"))
        assert _names(delivery) == [names[1], names[2], newest]
        big = _name(await delivery.url_for(b"b" * 2500, "image/webp", suffix=".webp"))
        assert _names(delivery) == [big]  # everything older had to go for 2500 bytes to fit
        total = sum(item.size for item in delivery.local.files()) if delivery.local else 0
        assert total <= 3000
        with pytest.raises(MediaStorageFailed, match="max_bytes"):
            await delivery.url_for(b"x" * 3001, "image/png", suffix=".png")
        assert _names(delivery) == [big]  # a refused file evicts nothing


async def test_expired_files_are_purged_on_write_and_periodically(tmp_path: Path) -> None:
    async with _delivery(tmp_path, max_age=60, purge_interval=0.05) as delivery:
        old = _name(await delivery.url_for(PNG, "image/png", suffix=".png"))
        _age(tmp_path / "media" / old, 120)
        fresh = _name(await delivery.url_for(PNG, "image/png", suffix=".png"))
        assert _names(delivery) == [fresh]  # the write purged the expired file
        with pytest.raises(MediaLinkExpired):  # and a link to it is gone
            url = delivery.signed_url("http://gw.test", old)
            query = parse_qs(urlsplit(url).query)
            await delivery.open_signed(old, query["exp"][0], query["sig"][0])
        _age(tmp_path / "media" / fresh, 120)
        (tmp_path / "media" / ".tmp-leftover").write_bytes(b"half")
        _age(tmp_path / "media" / ".tmp-leftover", 120)
        delivery.swept.clear()
        await asyncio.wait_for(delivery.swept.wait(), timeout=10)
        assert os.listdir(tmp_path / "media") == []


async def test_an_expired_file_is_not_served_before_the_sweep(tmp_path: Path) -> None:
    delivery = _delivery(tmp_path, max_age=60)
    url = await delivery.url_for(PNG, "image/png", suffix=".png")
    query = parse_qs(urlsplit(url).query)
    opened = await delivery.open_signed(_name(url), query["exp"][0], query["sig"][0])
    assert opened.file.read() == PNG and opened.size == len(PNG)
    opened.file.close()
    _age(tmp_path / "media" / _name(url), 61)
    with pytest.raises(MediaLinkExpired, match="no longer kept"):
        await delivery.open_signed(_name(url), query["exp"][0], query["sig"][0])
    await delivery.aclose()


async def test_links_never_outlive_the_file(tmp_path: Path) -> None:
    delivery = _delivery(tmp_path, max_age=60, link_ttl=3600)
    url = await delivery.url_for(PNG, "image/png", suffix=".png")
    assert int(parse_qs(urlsplit(url).query)["exp"][0]) <= time.time() + 60
    await delivery.aclose()


async def test_type_and_suffix_must_agree_and_be_servable(tmp_path: Path) -> None:
    delivery = _delivery(tmp_path)
    for mime, suffix in [("image/png", ".jpg"), ("text/html", ".html"), ("image/svg+xml", ".svg")]:
        with pytest.raises(ValueError):
            await delivery.url_for(b"<svg/>", mime, suffix=suffix)
    assert _names(delivery) == []
    jpeg = await delivery.url_for(b"\xff\xd8\xff", "Image/JPEG; charset=binary", suffix=".jpg")
    assert _name(jpeg).endswith(".jpg")
    url = await delivery.url_for(b"\x00\x00\x00\x18ftypmp42", "video/mp4", suffix="mp4")
    assert url.endswith(".mp4?" + url.split("?", 1)[1])
    await delivery.aclose()


async def test_url_for_outside_a_request_needs_public_base_url(tmp_path: Path) -> None:
    delivery = MediaDelivery(MediaSettings(), tmp_path)
    with pytest.raises(RuntimeError, match="public_base_url"):
        await delivery.url_for(PNG, "image/png", suffix=".png")
    await delivery.aclose()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_media_files_directory_and_secret_are_private(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir(mode=0o755)
    os.chmod(tmp_path / "media", 0o755)
    (tmp_path / "media.key").write_bytes(b"k" * 64)
    os.chmod(tmp_path / "media.key", 0o644)
    delivery = _delivery(tmp_path)
    url = await delivery.url_for(PNG, "image/png", suffix=".png")
    assert _mode(tmp_path / "media") == 0o700
    assert _mode(tmp_path / "media" / _name(url)) == 0o600
    assert _mode(tmp_path / "media.key") == 0o600
    await delivery.aclose()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    await _delivery(fresh).aclose()
    assert _mode(fresh / "media.key") == 0o600 and len((fresh / "media.key").read_bytes()) == 64
    assert _mode(fresh / "media") == 0o700
