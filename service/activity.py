"""What the dashboard shows over time, kept in memory for the last hour: requests and errors per
minute (overall, from every HTTP response; per account, from its turns), time to first token and
answer time (p50/p95), the queue's length, and the last errors with their request ids.

Prometheus keeps the long history (``service.metrics``); this is the operator's glance, so it is
small and bounded: ``BUCKETS`` one-minute buckets, at most ``SAMPLES`` latency samples per bucket,
the last ``LAST_ERRORS`` errors. A restart starts it afresh.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["BUCKET_SECONDS", "Activity", "ActivityView", "ErrorEntry", "Series", "percentile"]

BUCKET_SECONDS = 60.0
BUCKETS = 60
SAMPLES = 500
LAST_ERRORS = 20
_MESSAGE_CHARS = 300


@dataclass
class _Bucket:
    start: float
    requests: int = 0
    errors: int = 0
    first_token: list[float] = field(default_factory=list)
    duration: list[float] = field(default_factory=list)
    queue: int = 0  # the longest the queue was in this minute

    def sample(self, values: list[float], value: float) -> None:
        if len(values) < SAMPLES:  # past that a minute's percentiles are well known already
            values.append(value)


@dataclass(frozen=True)
class ErrorEntry:
    at: float
    request_id: str | None
    route: str
    status: int
    code: str | None
    message: str
    account: str | None


@dataclass(frozen=True)
class Series:
    """One line of the dashboard: per-minute counts (oldest first, ``BUCKETS`` long, ending now)
    and latency percentiles over the whole window (None without samples)."""

    requests: tuple[int, ...]
    errors: tuple[int, ...]
    queue: tuple[int, ...]
    first_token_p50: tuple[float | None, ...]
    first_token_p95: tuple[float | None, ...]
    first_token: tuple[float | None, float | None]
    duration: tuple[float | None, float | None]

    @property
    def total(self) -> int:
        return sum(self.requests)

    @property
    def failed(self) -> int:
        return sum(self.errors)


@dataclass(frozen=True)
class ActivityView:
    now: float
    start: float  # where the series begin
    overall: Series
    accounts: dict[str, Series]
    queue_now: int
    errors: tuple[ErrorEntry, ...]  # newest first


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class _Track:
    """Per-minute buckets of one series, the newest last."""

    def __init__(self) -> None:
        self.buckets: deque[_Bucket] = deque(maxlen=BUCKETS)

    def at(self, now: float) -> _Bucket:
        start = now - now % BUCKET_SECONDS
        if not self.buckets or self.buckets[-1].start < start:
            self.buckets.append(_Bucket(start))
        return self.buckets[-1]

    def series(self, first: float) -> Series:
        by_start = {bucket.start: bucket for bucket in self.buckets}
        window = [by_start.get(first + i * BUCKET_SECONDS) for i in range(BUCKETS)]
        ttft = [value for b in window if b for value in b.first_token]
        spent = [value for b in window if b for value in b.duration]
        return Series(
            requests=tuple(b.requests if b else 0 for b in window),
            errors=tuple(b.errors if b else 0 for b in window),
            queue=tuple(b.queue if b else 0 for b in window),
            first_token_p50=tuple(percentile(b.first_token, 0.5) if b else None for b in window),
            first_token_p95=tuple(percentile(b.first_token, 0.95) if b else None for b in window),
            first_token=(percentile(ttft, 0.5), percentile(ttft, 0.95)),
            duration=(percentile(spent, 0.5), percentile(spent, 0.95)),
        )


class Activity:
    """Thread-safe: recorded from the event loop, read by the dashboard."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._overall = _Track()
        self._accounts: dict[str, _Track] = {}
        self._errors: deque[ErrorEntry] = deque(maxlen=LAST_ERRORS)
        self._queue = 0

    def request(self, status: int) -> None:
        """One HTTP response (overall requests and errors: a status of 400 or more)."""
        with self._lock:
            bucket = self._overall.at(self._clock())
            bucket.requests += 1
            bucket.errors += status >= 400

    def turn(self, account: str | None, *, first_token: float | None, duration: float, failed: bool) -> None:
        """One turn: the account's requests and errors; both latencies, per account and overall."""
        with self._lock:
            now = self._clock()
            buckets = [self._overall.at(now)]
            if account is not None:
                track = self._accounts.setdefault(account, _Track())
                own = track.at(now)
                own.requests += 1
                own.errors += failed
                buckets.append(own)
            for bucket in buckets:
                if first_token is not None:
                    bucket.sample(bucket.first_token, first_token)
                if not failed:
                    bucket.sample(bucket.duration, duration)

    def queued(self, delta: int) -> None:
        with self._lock:
            self._queue = max(0, self._queue + delta)
            bucket = self._overall.at(self._clock())
            bucket.queue = max(bucket.queue, self._queue)

    def error(
        self,
        *,
        request_id: str | None,
        route: str,
        status: int,
        code: str | None,
        message: str,
        account: str | None = None,
    ) -> None:
        """Remember an error; a later report of the same request (its HTTP answer after its failed
        turn) completes the earlier one instead of listing it twice."""
        with self._lock:
            earlier = next((e for e in self._errors if request_id and e.request_id == request_id), None)
            if earlier is not None:
                self._errors.remove(earlier)
                account = account or earlier.account
                code = code or earlier.code
                status = status if status >= 400 else earlier.status
            entry = ErrorEntry(
                self._clock(), request_id, route, status, code, message[:_MESSAGE_CHARS], account
            )
            self._errors.appendleft(entry)

    def view(self) -> ActivityView:
        with self._lock:
            now = self._clock()
            first = now - now % BUCKET_SECONDS - (BUCKETS - 1) * BUCKET_SECONDS
            return ActivityView(
                now=now,
                start=first,
                overall=self._overall.series(first),
                accounts={name: track.series(first) for name, track in sorted(self._accounts.items())},
                queue_now=self._queue,
                errors=tuple(self._errors),
            )
