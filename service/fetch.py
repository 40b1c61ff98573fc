"""Fetching images named by http(s) URLs in chat messages, behind an SSRF guard.

Every hop (the first URL and each redirect target) is resolved first; when any address of the host
is private, loopback, link-local, site-local, multicast, reserved or otherwise not globally routable,
the fetch is refused (unless ``allow_private`` is set, for tests and trusted LANs). IPv6 forms that
carry an IPv4 address (IPv4-mapped, 6to4 ``2002::/16``, NAT64 ``64:ff9b::/96``) are judged by that
address; local-use NAT64, Teredo and IPv4-compatible forms are never public. The connection then goes
to the address that was checked (Host header and TLS SNI keep the name), so a DNS answer that
changes between the check and the connect cannot redirect it. Redirects are followed by hand, up
to ``max_redirects``; size, content type and total time are bounded.

Written here rather than taken from a library, on purpose: the guard must judge every hop's
resolved address (the IPv6 forms above included) and then connect to exactly that address while
keeping the name for Host and SNI; the SSRF filters we know check the URL or the first resolution
and leave the connection to the client's own resolver, which is the rebinding gap. httpx's
transport hook lets this module own the one decision that matters and nothing else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from dataclasses import dataclass

import httpx

from service.errors import InvalidRequest, PayloadTooLarge

__all__ = ["FetchPolicy", "Fetched", "fetch", "is_public_address"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class FetchPolicy:
    timeout: float
    max_bytes: int
    allowed_types: tuple[str, ...]
    max_redirects: int = 3
    allow_private: bool = False
    # Trust for https image hosts; None = httpx's default (certifi's CA bundle).
    tls_context: ssl.SSLContext | None = None


@dataclass(frozen=True)
class Fetched:
    data: bytes
    mime: str
    url: str


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NEVER_PUBLIC_V6 = (
    ipaddress.IPv6Network("fec0::/10"),  # site-local (deprecated, still routed inside sites)
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
    ipaddress.IPv6Network("2001::/32"),  # Teredo: the client address inside is obfuscated
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated)
)


def is_public_address(address: str) -> bool:
    """True only for globally routable unicast addresses; an IPv6 address carrying an IPv4 one
    (IPv4-mapped, 6to4, NAT64) is judged by the IPv4 address it reaches."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            ip = embedded
        elif ip.is_site_local or any(ip in network for network in _NEVER_PUBLIC_V6):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_loopback)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


async def fetch(url: str, policy: FetchPolicy, *, param: str = "messages") -> Fetched:
    """GET ``url`` under ``policy``; every refusal is an ``InvalidRequest`` naming ``param``."""
    try:
        async with asyncio.timeout(policy.timeout):
            return await _follow(httpx.URL(url), policy, param)
    except httpx.InvalidURL:
        # Not an HTTPError: a malformed URL (``http://[::1``) or redirect target is the client's.
        raise InvalidRequest(
            f"The image URL (or a redirect from {_host(url)}) is not a valid URL.", param=param
        ) from None
    except TimeoutError:
        raise InvalidRequest(f"Fetching the image at {_host(url)} timed out.", param=param) from None
    except httpx.HTTPError as exc:
        raise InvalidRequest(
            f"Fetching the image at {_host(url)} failed ({type(exc).__name__}).", param=param
        ) from None


async def _follow(url: httpx.URL, policy: FetchPolicy, param: str) -> Fetched:
    verify: ssl.SSLContext | bool = policy.tls_context if policy.tls_context is not None else True
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False, verify=verify) as client:
        for _ in range(policy.max_redirects + 1):
            addresses = await _checked_addresses(url, policy, param)
            response = await _get_first(client, url, addresses)
            try:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = url.join(response.headers["location"])
                    continue
                return await _read(response, url, policy, param)
            finally:
                await response.aclose()
    raise InvalidRequest(f"Too many redirects fetching the image at {url.host}.", param=param)


async def _checked_addresses(url: httpx.URL, policy: FetchPolicy, param: str) -> list[str]:
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidRequest("Image URLs must be http(s) or data: URLs.", param=param)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(url.host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise InvalidRequest(f"Cannot resolve the image host {url.host}.", param=param) from None
    addresses = sorted({str(info[4][0]) for info in infos}, key=lambda a: (":" in a, a))
    if not policy.allow_private and not all(is_public_address(a) for a in addresses):
        raise InvalidRequest(
            f"Refusing to fetch the image at {url.host}: it resolves to a non-public address.", param=param
        )
    return addresses


async def _get_first(client: httpx.AsyncClient, url: httpx.URL, addresses: list[str]) -> httpx.Response:
    """Connect to the checked addresses in turn; the first that accepts serves the request."""
    last_error: httpx.HTTPError | None = None
    for address in addresses:
        host_header = url.netloc.decode("ascii")
        target = url.copy_with(host=address)
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        request = client.build_request("GET", target, headers={"Host": host_header}, extensions=extensions)
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            last_error = exc
    assert last_error is not None
    raise last_error


async def _read(response: httpx.Response, url: httpx.URL, policy: FetchPolicy, param: str) -> Fetched:
    if response.status_code != 200:
        raise InvalidRequest(f"The image at {url.host} answered HTTP {response.status_code}.", param=param)
    mime = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if mime not in policy.allowed_types:
        raise InvalidRequest(f"The URL at {url.host} is not an allowed image type ({mime}).", param=param)
    declared = int(response.headers.get("content-length") or 0)
    if declared > policy.max_bytes:
        raise PayloadTooLarge(f"The image at {url.host} exceeds {policy.max_bytes} bytes.", param=param)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > policy.max_bytes:
            raise PayloadTooLarge(f"The image at {url.host} exceeds {policy.max_bytes} bytes.", param=param)
    return Fetched(data=bytes(body), mime=mime, url=str(url))


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or "the URL"
    except httpx.InvalidURL:
        return "the URL"
