"""The usage-quota frame (field 28, dense index 27; protocol.md §5 item 4).

Shape: ``[[bucket, ...], "<served model hex>"]`` with each bucket
``[[feature ids], n, n, [reset_seconds, nanos], limit, remaining]``. Only the reset time and the
last two numbers have a known meaning; the rest is kept as ``feature`` for logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from browser.protocol._jspb import jspb_get

__all__ = ["QuotaBucket", "QuotaInfo", "parse_quota"]


@dataclass(frozen=True)
class QuotaBucket:
    """One usage window: ``reset_at`` in unix seconds, and what look like limit and remaining."""

    feature: tuple[int, ...]
    reset_at: float | None
    limit: int | None
    remaining: int | None


@dataclass(frozen=True)
class QuotaInfo:
    """The quota frame: the served model's hex id and its usage buckets."""

    model_id: str | None
    buckets: tuple[QuotaBucket, ...]

    @property
    def reset_times(self) -> tuple[float, ...]:
        """Every bucket's reset time (unix seconds), in bucket order."""
        return tuple(b.reset_at for b in self.buckets if b.reset_at is not None)

    @property
    def reset_at(self) -> float | None:
        """When usage is possible again: the earliest reset of an exhausted bucket (none left),
        or the earliest reset of any bucket when none is exhausted."""
        exhausted = [b.reset_at for b in self.buckets if b.remaining == 0 and b.reset_at is not None]
        return min(exhausted or self.reset_times, default=None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _reset_at(value: Any) -> float | None:
    seconds = _int(jspb_get(value, 0))
    if seconds is None:
        return None
    nanos = _int(jspb_get(value, 1)) or 0
    return seconds + nanos / 1e9


def _bucket(raw: Any) -> QuotaBucket | None:
    if not isinstance(raw, list):
        return None
    feature = jspb_get(raw, 0)
    return QuotaBucket(
        feature=tuple(v for v in feature if _int(v) is not None) if isinstance(feature, list) else (),
        reset_at=_reset_at(jspb_get(raw, 3)),
        limit=_int(jspb_get(raw, 4)),
        remaining=_int(jspb_get(raw, 5)),
    )


def parse_quota(value: Any) -> QuotaInfo | None:
    """The quota carried by field 28, or None when ``value`` is not of that shape."""
    if not isinstance(value, list):
        return None
    raw_buckets = jspb_get(value, 0)
    buckets = [_bucket(raw) for raw in raw_buckets] if isinstance(raw_buckets, list) else []
    model = jspb_get(value, 1)
    return QuotaInfo(
        model_id=model if isinstance(model, str) else None,
        buckets=tuple(bucket for bucket in buckets if bucket is not None),
    )
