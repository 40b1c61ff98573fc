"""The full-size original of a generated image, the page's own way: c8o8Fe (called inside the
turn's page) names the original's URL, whose ``=d-I?alr=yes`` text hops lead to the bytes. When
that fails, the preview URL's size suffixes ``=s0`` then ``=s2048``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from playwright.async_api import Page

from browser._media import Media
from browser._rpc import call_rpcs
from browser.errors import BrowserError, ProtocolError
from browser.protocol import GeneratedImage, TurnSnapshot

log = logging.getLogger(__name__)

FULL_SIZE_RPC = "c8o8Fe"


async def fetch_original(
    fetch: Callable[[str], Awaitable[Media]],
    page: Page | None,
    final: TurnSnapshot | None,
    image: GeneratedImage,
    *,
    rpc_timeout: float,
) -> Media:
    """The first download path that gives an image, best first; ``fetch`` downloads one URL in the
    account's context, ``page`` and ``final`` (the turn's) let c8o8Fe name the original."""
    attempts: list[str] = []
    url = await _original_url(page, final, image, rpc_timeout)
    if url is not None:
        attempts.append(f"{url}=d-I?alr=yes")
    base = _without_size_option(image.url)
    attempts += [f"{base}=s0", f"{base}=s2048"]
    failure: BrowserError | None = None
    for attempt in attempts:
        try:
            media = await fetch(attempt)
        except BrowserError as exc:
            failure = exc
            continue
        if media.mime.startswith("image/"):
            return media
    log.info("no full-size image could be fetched; every path failed")
    # Every path answered, but none with an image: no Gemini code was involved.
    raise failure or ProtocolError("no full-size image was served (every download path gave a non-image)")


async def _original_url(
    page: Page | None, final: TurnSnapshot | None, image: GeneratedImage, rpc_timeout: float
) -> str | None:
    if page is None or final is None or image.image_id is None or not final.cid:
        return None
    chat = [final.rid, final.rcid, final.cid, None, ""]
    payload = [
        [[None, None, None, [None, None, None, None, None, ""]], [image.image_id, 0], None, [19, ""]]
        + [None] * 5
        + [""],
        chat,
        1,
        0,
        1,
    ]
    try:
        results = await call_rpcs(
            page,
            [(FULL_SIZE_RPC, payload)],
            source_path=f"/app/{final.cid.removeprefix('c_')}",
            timeout=rpc_timeout,
        )
    except BrowserError as exc:
        log.info("c8o8Fe failed (%s); falling back to the size suffixes", type(exc).__name__)
        return None
    answer = results[0].payload if results else None
    if isinstance(answer, list) and answer and isinstance(answer[0], str) and answer[0]:
        return answer[0]
    log.info("c8o8Fe gave no URL; falling back to the size suffixes")
    return None


def _without_size_option(url: str) -> str:
    """``…/gg-dl/<token>=s1024-rj`` → ``…/gg-dl/<token>`` (the option follows the last ``=`` of
    the last path segment, protocol.md §7)."""
    head, slash, last = url.rpartition("/")
    return head + slash + last.split("=", 1)[0]
