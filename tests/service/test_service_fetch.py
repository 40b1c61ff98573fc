"""The SSRF-guarded image fetch, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from service import fetch as fetch_module
from service.errors import InvalidRequest, PayloadTooLarge
from service.fetch import FetchPolicy, fetch, is_public_address
from tests.service.conftest import API_KEY, Served
from tests.service.test_service_inputs import png_bytes
from tests.support.servers import free_port, serve

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
        # IPv6 forms that reach an IPv4 address are judged by it (issue 11, item 6)
        ("::ffff:8.8.8.8", True),
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
        ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of the metadata address
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("64:ff9b:1::808:808", False),  # local-use NAT64 (RFC 8215)
        ("::127.0.0.1", False),  # IPv4-compatible
        ("::8.8.8.8", False),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("fec0::1", False),  # site-local
        ("feff::1", False),
        ("fe80::1%eth0", False),
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


# -- malformed URLs (issue 11, item 5) --


async def _bad_redirect(request: Request) -> Response:
    return Response(status_code=302, headers={"location": "http://[::1"})


async def test_an_invalid_url_is_a_clean_refusal(server: str) -> None:
    for url in ("http://[::1", "http://[::1/x.png", "http://[1:2:3]/x.png", "http://host:port/x.png"):
        with pytest.raises(InvalidRequest, match="not a valid URL") as info:
            await fetch(url, policy(), param="images")
        assert info.value.param == "images"


def test_an_invalid_image_url_is_a_400_not_a_500(gateway: Served) -> None:
    body = {
        "model": "gemini-2.5-flash",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "hi"},
                    {"type": "image_url", "image_url": {"url": "http://[::1"}},
                ],
            }
        ],
    }
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and "not a valid URL" in error["message"]
    assert gateway.pool.requests == []  # refused before any account was used


async def test_an_invalid_redirect_target_is_a_clean_refusal() -> None:
    app = Starlette(routes=[Route("/r", _bad_redirect)])
    with serve(app) as url, pytest.raises(InvalidRequest, match=r"127\.0\.0\.1 failed"):
        await fetch(url.replace("localhost", "127.0.0.1") + "/r", policy())


# -- the connection goes to the checked address (issue 11, item 7) --


@dataclass
class Seen:
    hosts: list[str] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)


@asynccontextmanager
async def raw_server(
    host: str, port: int, body: bytes, tls: ssl.SSLContext | None = None
) -> AsyncIterator[Seen]:
    """A minimal HTTP(S) server that records each request's Host header (and TLS SNI)."""
    seen = Seen()
    if tls is not None:
        tls.sni_callback = lambda _sock, name, _ctx: seen.sni.append(name)  # type: ignore[assignment,misc]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            for line in head.decode("latin-1").split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.lower() == "host":
                    seen.hosts.append(value.strip())
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    listener = await asyncio.start_server(handle, host, port, ssl=tls)
    try:
        yield seen
    finally:
        listener.close()
        await listener.wait_closed()


class Rebinding:
    """A resolver for one test name: the first answer is ``first``, every later one ``later``."""

    def __init__(self, name: str, first: str, later: str) -> None:
        self.name, self.first, self.later = name, first, later
        self.answers: list[str] = []
        self._real = socket.getaddrinfo

    def __call__(self, host: str | bytes | None, port: object, *args: Any, **kwargs: Any) -> Any:
        text = host.decode() if isinstance(host, bytes) else host
        if text != self.name:
            return self._real(host, port, *args, **kwargs)
        address = self.first if not self.answers else self.later
        self.answers.append(address)
        return self._real(address, port, *args, **kwargs)


@pytest.fixture
def rebinding(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Rebinding]:
    """Pretend only 127.0.0.1 is public; the test name resolves to it once, then to 127.0.0.2."""
    monkeypatch.setattr(fetch_module, "is_public_address", lambda address: address == "127.0.0.1")

    def install(name: str) -> Rebinding:
        resolver = Rebinding(name, "127.0.0.1", "127.0.0.2")
        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        return resolver

    return install


PRIVATE = png_bytes(5)


async def test_dns_rebinding_cannot_reach_the_private_address(rebinding: Callable[[str], Rebinding]) -> None:
    port = free_port()
    resolver = rebinding("rebind.test")
    async with (
        raw_server("127.0.0.1", port, PNG) as public,
        raw_server("127.0.0.2", port, PRIVATE) as private,
    ):
        got = await fetch(f"http://rebind.test:{port}/img.png", policy(allow_private=False))
    assert got.data == PNG
    assert private.hosts == []  # the later (private) answer was never connected to
    assert public.hosts == [f"rebind.test:{port}"]  # the name still travels in the Host header
    assert resolver.answers == ["127.0.0.1"]  # resolved once, for the check


def _certificate(tmp_path: Path, hostname: str) -> tuple[Path, Path, bytes]:
    """A CA and a server certificate for ``hostname`` signed by it: (cert, key, CA PEM)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fetch test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "server.pem", tmp_path / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path, ca.public_bytes(serialization.Encoding.PEM)


async def test_https_connects_to_the_checked_address_with_sni_and_host(
    rebinding: Callable[[str], Rebinding], tmp_path: Path
) -> None:
    cert, key, ca = _certificate(tmp_path, "images.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cadata=ca.decode())
    port = free_port()
    resolver = rebinding("images.test")
    async with (
        raw_server("127.0.0.1", port, PNG, server_tls) as public,
        raw_server("127.0.0.2", port, PRIVATE) as private,
    ):
        got = await fetch(
            f"https://images.test:{port}/img.png", policy(allow_private=False, tls_context=client_tls)
        )
    assert got.data == PNG
    assert public.sni == ["images.test"]  # the certificate was checked against the name
    assert public.hosts == [f"images.test:{port}"]
    assert private.hosts == [] and resolver.answers == ["127.0.0.1"]


async def test_https_refuses_a_certificate_for_another_name(
    rebinding: Callable[[str], Rebinding], tmp_path: Path
) -> None:
    cert, key, ca = _certificate(tmp_path, "other.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cadata=ca.decode())
    port = free_port()
    rebinding("images.test")
    async with raw_server("127.0.0.1", port, PNG, server_tls) as public:
        with pytest.raises(InvalidRequest, match="failed"):
            await fetch(
                f"https://images.test:{port}/img.png", policy(allow_private=False, tls_context=client_tls)
            )
    assert public.hosts == []  # no request was sent over the unverified connection
