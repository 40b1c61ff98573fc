"""The delivered link of each finished video ``video_status`` answered with, per app: polling a
finished job answers the same link again while it lasts, instead of storing another copy of the
video at every call.

A link is reused while more than ``REUSE_MARGIN`` of its life is left (a client handed a link that
dies a moment later could not download the video with it) and, for a local copy, while the file
is still kept (the size limit may evict it before its time). A link's life is the media delivery's:
``min(link_ttl, max_age)`` locally, ``link_ttl`` in a bucket. Kept in memory: after a restart the
first call delivers one new copy.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from service.media.config import MediaSettings
from service.media.delivery import MediaDelivery

__all__ = ["REUSE_MARGIN", "VideoLinks", "link_lifetime"]

REUSE_MARGIN = 60.0  # seconds of life a reused link has left at least (a quarter of a shorter life)


def link_lifetime(settings: MediaSettings) -> float:
    """How long a link ``MediaDelivery.url_for`` hands out works (``service.media.delivery``)."""
    if settings.s3 is None:
        return min(settings.link_ttl, settings.max_age)
    # Presigned links live link_ttl; a public bucket's do not expire, but the bucket's own rules
    # may delete old objects: deliver again after link_ttl rather than hand out a dead link.
    return settings.link_ttl


@dataclass(frozen=True)
class _Link:
    url: str
    valid_until: float


class VideoLinks:
    """Links by (owner, job id); one delivery at a time, so that two calls at once for the same job
    store one copy."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._links: dict[tuple[str, str], _Link] = {}
        self._lock = asyncio.Lock()

    async def link(
        self,
        owner: str,
        job_id: str,
        media: MediaDelivery,
        lifetime: float,
        deliver: Callable[[], Awaitable[str]],
    ) -> str:
        """The job's link: the one delivered before while it lasts, else a new one from ``deliver``."""
        key = (owner, job_id)
        async with self._lock:
            now = self._clock()
            self._forget_dead(now)
            known = self._links.get(key)
            margin = min(REUSE_MARGIN, lifetime / 4)
            lasts = known is not None and known.valid_until - now > margin
            if known is not None and lasts and await asyncio.to_thread(_still_kept, media, known.url):
                return known.url
            url = await deliver()
            self._links[key] = _Link(url, now + lifetime)
            return url

    def _forget_dead(self, now: float) -> None:
        for key in [key for key, link in self._links.items() if link.valid_until <= now]:
            del self._links[key]


def _still_kept(media: MediaDelivery, url: str) -> bool:
    """A local copy is still in the media directory (a bucket's objects are not looked up)."""
    local = media.local
    if local is None:
        return True
    handle = local.open(urlsplit(url).path.rsplit("/", 1)[-1])
    if handle is None:
        return False
    handle.close()
    return True
