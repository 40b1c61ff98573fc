"""Media downloads through an account's context (its cookies and proxy), following Google's
redirects and its text hops: a 200 ``text/plain`` body that is a URL names the next hop
(protocol.md §7)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from playwright.async_api import APIRequestContext

from browser._playwright_errors import map_playwright_errors
from browser.errors import BrowserError, UpstreamRejected

MAX_HOPS = 5


@dataclass(frozen=True)
class Media:
    data: bytes
    mime: str
    url: str  # the final hop (without secrets; Google media URLs carry none)


async def fetch_media(request: APIRequestContext, url: str, *, base_url: str, timeout_s: float) -> Media:
    """GET ``url`` (relative URLs resolve against ``base_url``), hop by hop, up to ``MAX_HOPS``."""
    current = urljoin(base_url + "/", url)
    for _ in range(MAX_HOPS):
        with map_playwright_errors("fetch media"):
            response = await request.get(current, timeout=timeout_s * 1000, max_redirects=10)
            body = await response.body()
        mime = response.headers.get("content-type", "").split(";")[0].strip()
        if response.status not in (200, 206):
            raise UpstreamRejected(0, response.status, f"media download answered HTTP {response.status}")
        hop = body.strip().decode("utf-8", "replace") if mime == "text/plain" and len(body) < 4096 else ""
        if hop.startswith(("http://", "https://", "/")) and "\n" not in hop:
            current = urljoin(current, hop)
            continue
        return Media(data=body, mime=mime, url=response.url)
    raise BrowserError(f"media download did not settle after {MAX_HOPS} hops")
