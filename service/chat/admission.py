"""Admission before image work: how many requests may fetch and decode images at once (in all, and
per API key), and how many image bytes one request may bring.

Image URLs are fetched and data URLs decoded before any account is leased (up to ``max_images`` ×
``max_image_bytes`` each), so without a bound a burst of such requests holds gigabytes. A slot is
taken before the first image is touched and refused at once when none is free (429 with
``Retry-After``: a queue would hold the bodies anyway); the byte budget is charged image by image,
and each fetch is capped at what is left of it (413 when a request brings more).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from service.errors import CapacityExhausted, PayloadTooLarge, RateLimited

__all__ = ["ByteBudget", "ImageAdmission"]


@dataclass
class ByteBudget:
    """The image bytes one request may still bring."""

    limit: int
    used: int = 0

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def charge(self, size: int) -> None:
        self.used += size
        if self.used > self.limit:
            raise self.exceeded()

    def exceeded(self) -> PayloadTooLarge:
        return PayloadTooLarge(
            f"The images of one request exceed the limit of {self.limit} bytes.", param="messages"
        )


class ImageAdmission:
    """Slots for requests that fetch or decode images: ``total`` at once, ``per_key`` per key."""

    def __init__(self, *, total: int, per_key: int, request_bytes: int, retry_after: float) -> None:
        self.total = total
        self.per_key = per_key
        self.request_bytes = request_bytes
        self.retry_after = retry_after
        self._active: Counter[str] = Counter()

    @property
    def active(self) -> int:
        return sum(self._active.values())

    @contextlib.contextmanager
    def admit(self, identity: str) -> Iterator[ByteBudget]:
        """A slot for ``identity`` (the API key's id) and the request's byte budget, or a 429 now.

        Synchronous on purpose: check and take happen without an await between them."""
        if self.active >= self.total:
            raise CapacityExhausted(
                "Too many requests with images are being prepared; retry shortly.",
                retry_after=self.retry_after,
            )
        if self._active[identity] >= self.per_key:
            raise RateLimited(
                f"This API key already has {self.per_key} requests with images in preparation.",
                retry_after=self.retry_after,
            )
        self._active[identity] += 1
        try:
            yield ByteBudget(self.request_bytes)
        finally:
            self._active[identity] -= 1
            if not self._active[identity]:
                del self._active[identity]
