"""Per-account usage windows: what the quota frames of the answers and the jSf9Qc RPC report.

jSf9Qc reports two windows (protocol.md §8): a 5-hour one and a weekly one. A window starts with
the first answered turn after the previous one ended and resets a fixed time later. The answers'
quota frame (protocol.md §5 item 4) carries the real capture's two buckets; both follow the 5-hour
window (same reset time): ``[1,20,1]`` is that window (limit 15), ``[1,16,1]`` a second feature
bucket (limit 200, two already used, as in the capture). A usage limit (a ``limited-`` account, or
the ``usage_limit`` behaviour) uses the 5-hour window up until its reset, so the RPC and the 1037
answer agree. The free tier's per-feature allowances (``free_pro_turns``, ``free_image_turns``)
count within the same 5-hour window and free up when it does (the window is our choice: Google
publishes daily image and "basic access" Pro limits, FREE).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FIVE_HOURS = 5 * 3600.0
WEEK = 7 * 86400.0


@dataclass(frozen=True)
class WindowSpec:
    key: str
    seconds: float
    limit: int
    kind: int  # jSf9Qc's window kind: 2 = 5-hour, 1 = weekly


FIVE_HOUR = WindowSpec("five_hour", FIVE_HOURS, 15, 2)
WEEKLY = WindowSpec("weekly", WEEK, 100, 1)
WINDOWS = (FIVE_HOUR, WEEKLY)
# The quota frame's second bucket (feature [1,16,1]): limit 200, two used before the first turn.
FEATURE_BUCKET_LIMIT = 200
FEATURE_BUCKET_BASELINE = 2


@dataclass(frozen=True)
class Window:
    spec: WindowSpec
    used: int
    reset_at: float

    @property
    def remaining(self) -> int:
        return max(0, self.spec.limit - self.used)


@dataclass
class _Counter:
    start: float
    used: int = 0
    # Turns per feature (free tier: "pro", "image") within this window; they free up with it.
    features: dict[str, int] = field(default_factory=dict)


@dataclass
class _Account:
    counters: dict[str, _Counter] = field(default_factory=dict)
    exhausted_until: float | None = None


class UsageBook:
    def __init__(self) -> None:
        self._accounts: dict[str, _Account] = {}

    def clear(self) -> None:
        self._accounts.clear()

    def _counter(self, account_id: str, spec: WindowSpec, now: float) -> _Counter:
        entry = self._accounts.setdefault(account_id, _Account())
        counter = entry.counters.get(spec.key)
        if counter is None or now >= counter.start + spec.seconds:
            counter = _Counter(start=now)
            entry.counters[spec.key] = counter
        return counter

    def record_turn(self, account_id: str, now: float) -> None:
        for spec in WINDOWS:
            self._counter(account_id, spec, now).used += 1

    def feature_use(self, account_id: str, feature: str, now: float) -> tuple[int, float]:
        """How many turns of ``feature`` the 5-hour window holds, and when that window frees up."""
        counter = self._counter(account_id, FIVE_HOUR, now)
        return counter.features.get(feature, 0), counter.start + FIVE_HOUR.seconds

    def record_feature(self, account_id: str, feature: str, now: float) -> None:
        counter = self._counter(account_id, FIVE_HOUR, now)
        counter.features[feature] = counter.features.get(feature, 0) + 1

    def exhaust(self, account_id: str, reset_at: float) -> None:
        """The 5-hour window has no requests left until ``reset_at``."""
        self._accounts.setdefault(account_id, _Account()).exhausted_until = reset_at

    def windows(self, account_id: str, now: float, *, limited: bool = False) -> list[Window]:
        """Both windows as of ``now``; ``limited`` accounts have their 5-hour window used up."""
        out: list[Window] = []
        entry = self._accounts.setdefault(account_id, _Account())
        for spec in WINDOWS:
            counter = self._counter(account_id, spec, now)
            reset = counter.start + spec.seconds
            used = counter.used
            if spec is FIVE_HOUR:
                if entry.exhausted_until is not None and entry.exhausted_until > now:
                    used, reset = spec.limit, entry.exhausted_until
                elif limited:
                    used = spec.limit
            out.append(Window(spec, min(used, spec.limit), reset))
        return out


def quota_payload(cid: str, rid: str, model_hex: str, windows: list[Window]) -> list[object]:
    """The object-form quota frame ``{"28": ...}`` of an answer, from the 5-hour window."""
    five = next(window for window in windows if window.spec is FIVE_HOUR)
    seconds = int(five.reset_at)
    reset = [seconds, int((five.reset_at - seconds) * 1e9)]
    feature_left = max(0, FEATURE_BUCKET_LIMIT - FEATURE_BUCKET_BASELINE - five.used)
    if five.remaining == 0:
        feature_left = 0
    buckets = [
        [[1, 20, 1], 1, 6, reset, five.spec.limit, five.remaining],
        [[1, 16, 1], 1, 1, reset, FEATURE_BUCKET_LIMIT, feature_left],
    ]
    return [None, [cid, rid], {"28": [buckets, model_hex], "44": False}]
