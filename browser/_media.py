"""Media downloads through an account's context (its cookies and proxy), following Google's
redirects and its text hops: a 200 ``text/plain`` body that is a URL names the next hop
(protocol.md §7). Videos answer 206 while they render; ``wait_for_media`` polls, bounded."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urljoin

from playwright.async_api import APIRequestContext

from browser._playwright_errors import map_playwright_errors
from browser.errors import BrowserError, HTTPStatusError, UpstreamTimeout

MAX_HOPS = 5
RENDERING = 206  # Google's video download answers 206 with an empty body until the file exists


@dataclass(frozen=True)
class Media:
    data: bytes
    mime: str
    url: str  # the final hop (without secrets; Google media URLs carry none)
    status: int = 200  # 206 while a video still renders (``data`` is then empty or partial)

    @property
    def ready(self) -> bool:
        return self.status == 200


async def fetch_media(request: APIRequestContext, url: str, *, base_url: str, timeout_s: float) -> Media:
    """GET ``url`` (relative URLs resolve against ``base_url``), hop by hop, up to ``MAX_HOPS``."""
    current = urljoin(base_url + "/", url)
    for _ in range(MAX_HOPS):
        with map_playwright_errors("fetch media"):
            response = await request.get(current, timeout=timeout_s * 1000, max_redirects=10)
            body = await response.body()
        mime = response.headers.get("content-type", "").split(";")[0].strip()
        if response.status not in (200, RENDERING):
            raise HTTPStatusError(response.status, "media download")
        hop = body.strip().decode("utf-8", "replace") if mime == "text/plain" and len(body) < 4096 else ""
        if hop.startswith(("http://", "https://", "/")) and "\n" not in hop:
            current = urljoin(current, hop)
            continue
        return Media(data=body, mime=mime, url=response.url, status=response.status)
    raise BrowserError(f"media download did not settle after {MAX_HOPS} hops")


async def wait_for_media(
    request: APIRequestContext,
    url: str,
    *,
    base_url: str,
    timeout_s: float,
    interval_s: float,
    step_timeout_s: float,
) -> Media:
    """Fetch ``url`` until it is ready (not 206); ``UpstreamTimeout`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        media = await fetch_media(request, url, base_url=base_url, timeout_s=step_timeout_s)
        if media.ready:
            return media
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise UpstreamTimeout(f"the media was still rendering after {timeout_s:.0f}s")
        await asyncio.sleep(min(interval_s, remaining))
