"""``MediaDelivery`` (interface I5): turns media bytes into a URL a client can download.

Two targets, chosen by the settings:

- local (default): the file goes to ``<data_dir>/media`` (or ``media.shared_dir``, a directory every
  replica sees) and the URL is a signed, expiring link
  ``<base>/media/<name>?exp=<unix>&sig=<hmac>`` served by the gateway itself (``service.media.router``);
  ``<base>`` is ``media.public_base_url`` or, without it, the current request's own base URL;
- bucket (``media.s3`` set): the bytes are uploaded with boto3 and the URL is the bucket's.

Replicas on one Redis need one of the two shared targets (the settings refuse a Redis gateway
without), and sign local links with one key: ``media.signing_secret``, else the key made once in
Redis (``service.stores.redis_secrets``), handed in as ``shared_secret``.

Owned by the app lifespan (``async with MediaDelivery.from_settings(settings) as media``): entering
starts the periodic sweep of expired local files, ``aclose`` stops it and closes the bucket client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import urlencode

from service.errors import MediaLinkExpired, MediaStorageFailed
from service.media.base_url import current_base_url
from service.media.bucket import BucketMedia
from service.media.config import MediaSettings
from service.media.local import LocalMediaStore
from service.media.naming import media_type, new_name
from service.media.signing import LinkSigner, load_or_create_secret

if TYPE_CHECKING:
    from pathlib import Path

    from service.settings import GatewaySettings

log = logging.getLogger(__name__)

__all__ = ["MEDIA_ROUTE", "MediaDelivery", "SignedMedia"]

# Local links live at the root, beside (not under) the API prefixes: the API-key gate exempts
# exactly ``GET /media/<name>``, the signature being that route's credential.
MEDIA_ROUTE = "/media/"


@dataclass
class SignedMedia:
    """An open local media file whose link checked out; the caller closes ``file``."""

    file: BinaryIO
    size: int
    mime: str
    expires: int


class MediaDelivery:
    """See the module docstring; build with ``from_settings``."""

    def __init__(
        self,
        settings: MediaSettings,
        data_dir: Path,
        *,
        shared_secret: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``shared_secret``: the links' key every replica holds (from the shared state), used
        unless ``media.signing_secret`` is set; without either, ``<data_dir>/media.key``."""
        self._settings = settings
        self._clock = clock
        self._sweeper: asyncio.Task[None] | None = None
        self.swept = asyncio.Event()  # set after each periodic sweep (tests wait on it)
        self._bucket: BucketMedia | None = None
        self._local: LocalMediaStore | None = None
        self._signer: LinkSigner | None = None
        if settings.s3 is not None:
            self._bucket = BucketMedia(settings.s3, link_ttl=settings.link_ttl)
            return
        self._local = LocalMediaStore(
            settings.shared_dir or data_dir / "media",
            max_bytes=settings.max_bytes,
            max_age=settings.max_age,
            clock=clock,
        )
        if settings.signing_secret is not None:
            self._signer = LinkSigner(settings.signing_secret.get_secret_value().encode())
        elif shared_secret is not None:
            self._signer = LinkSigner(shared_secret)
        else:
            self._signer = LinkSigner(load_or_create_secret(data_dir / "media.key"))

    @classmethod
    def from_settings(cls, settings: GatewaySettings, *, shared_secret: bytes | None = None) -> MediaDelivery:
        return cls(settings.media, settings.data_dir, shared_secret=shared_secret)

    @property
    def local(self) -> LocalMediaStore | None:
        """The local store, or None when media goes to a bucket."""
        return self._local

    async def __aenter__(self) -> MediaDelivery:
        if self._local is not None:
            self._sweeper = asyncio.create_task(self._sweep_periodically(), name="media-sweeper")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        if self._bucket is not None:
            bucket, self._bucket = self._bucket, None
            await asyncio.to_thread(bucket.close)

    async def url_for(self, data: bytes, mime: str, *, suffix: str) -> str:
        """Store ``data`` (of type ``mime``, file suffix ``suffix`` such as ``".png"``) and return
        its URL. ``ValueError`` when the type is not one the gateway serves or does not match the
        suffix; ``MediaStorageFailed`` when it cannot be stored."""
        name = new_name(mime, suffix)
        if self._bucket is not None:
            return await self._bucket.store(name, data, media_type(name))
        if self._local is None:
            raise MediaStorageFailed("Media delivery is closed.")
        base = self._settings.public_base_url or current_base_url()
        if base is None:
            raise RuntimeError("url_for needs media.public_base_url outside of a request")
        if len(data) > self._settings.max_bytes:
            raise MediaStorageFailed(f"The media ({len(data)} bytes) is larger than media.max_bytes.")
        try:
            await asyncio.to_thread(self._local.write, name, data)
        except OSError as exc:
            raise MediaStorageFailed(f"The media could not be stored ({type(exc).__name__}).") from None
        return self.signed_url(base, name)

    def signed_url(self, base: str, name: str) -> str:
        """The link to a stored local file; it expires after ``link_ttl``, never after the file."""
        if self._signer is None:
            raise RuntimeError("signed links exist only for local media")
        lifetime = min(self._settings.link_ttl, self._settings.max_age)
        exp = math.floor(self._clock() + lifetime)
        query = urlencode({"exp": exp, "sig": self._signer.sign(name, exp)})
        return f"{base}{MEDIA_ROUTE}{name}?{query}"

    async def open_signed(self, name: str, exp: str | None, sig: str | None) -> SignedMedia:
        """The local file a signed link names; ``MediaLinkRefused`` (403) for a bad signature,
        ``MediaLinkExpired`` (410) for an expired link or a file no longer kept."""
        if self._signer is None or self._local is None:
            raise MediaLinkExpired("This gateway delivers media from its bucket.", code="media_gone")
        self._signer.verify(name, exp, sig, now=self._clock())
        assert exp is not None  # verify refuses a link without one
        handle = await asyncio.to_thread(self._local.open, name)
        if handle is None:
            raise MediaLinkExpired("This media is no longer kept by the gateway.", code="media_gone")
        size = os.fstat(handle.fileno()).st_size
        return SignedMedia(file=handle, size=size, mime=media_type(name), expires=int(exp))

    async def _sweep_periodically(self) -> None:
        assert self._local is not None
        while True:
            await asyncio.sleep(self._settings.purge_interval)
            try:
                removed = await asyncio.to_thread(self._local.purge)
            except OSError:
                log.warning("media sweep failed", exc_info=True)
            else:
                if removed:
                    log.info("media sweep removed %d expired files", removed)
            self.swept.set()
