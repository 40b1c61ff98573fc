"""Budgets per egress: the turns leaving through one IP (one proxy, or ``direct``) are paced.

Google sends an IP that asks too much to google.com/sorry (a captcha) for about two hours; a peer
measured it after 80 to 180 quick requests and never at 10 a minute (peers-late-2026.md §7). So
every account's turns draw on its egress's budget: at most ``concurrency`` running at once, at most
``per_minute`` started in any 60 s and ``per_hour`` in any 3600 s (sliding windows, 0 = no limit).
An account's egress is fixed: its own proxy, else the pool's ``default_proxy``, else ``direct``
(both are set when the account is added and never change while it lives).

A captcha (or Gemini's IP-blocked answer) seen by one account cools the whole egress: Google
blocks the IP, not the account, so the other accounts behind it would only meet the same wall.

The budget only counts; the pool decides who waits (``browser._pool``). Time is injected
(``clock``: monotonic seconds, ``wall``: UNIX seconds) so that tests run windows without sleeping.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from browser._launcher import proxy_host
from browser._settings import EgressLimits, PoolSettings

DIRECT = "direct"
MINUTE = 60.0
HOUR = 3600.0

Clock = Callable[[], float]


def egress_name(proxy: str | None) -> str:
    """``direct``, or the proxy's ``scheme://host:port`` (never its credentials)."""
    return proxy_host(proxy) or DIRECT


@dataclass(frozen=True)
class Limits:
    """One egress's limits; 0 means no limit."""

    concurrency: int = 0
    per_minute: int = 0
    per_hour: int = 0

    @classmethod
    def for_egress(cls, settings: PoolSettings, name: str) -> Limits:
        """The limits ``settings`` give ``name`` (none when pacing is off)."""
        if not settings.paces_egress:
            return cls()
        own = settings.egress_limits.get(name, EgressLimits())

        def pick(value: int | None, default: int) -> int:
            return default if value is None else value

        return cls(
            concurrency=pick(own.concurrency, settings.egress_concurrency),
            per_minute=pick(own.per_minute, settings.egress_per_minute),
            per_hour=pick(own.per_hour, settings.egress_per_hour),
        )


@dataclass(frozen=True)
class EgressInfo:
    """A snapshot of one egress for callers (its name never carries credentials).

    ``next_start_in`` is the seconds until its windows let one more turn start (0: now), whatever
    its concurrency; ``cooling_until`` the UNIX time its captcha cooldown ends (None: not cooling).
    """

    name: str
    limits: Limits
    paced: bool
    running: int
    waiting: int
    started: int
    rejected: int
    started_last_minute: int
    started_last_hour: int
    next_start_in: float
    cooling_until: float | None
    accounts: tuple[str, ...] = ()


class EgressBudget:
    """Concurrency and sliding windows of one egress. Not thread-safe: the pool's loop owns it."""

    def __init__(
        self,
        name: str,
        limits: Limits,
        *,
        paced: bool = True,
        clock: Clock = time.monotonic,
        wall: Clock = time.time,
    ) -> None:
        self.name = name
        self.limits = limits
        self.paced = paced
        self._clock = clock
        self._wall = wall
        self._starts: deque[float] = deque()  # clock times of the starts in the last hour, oldest first
        self.running = 0
        self.waiting = 0
        self.started = 0
        self.rejected = 0
        self._cooling_until: float | None = None

    # -- windows --

    def _prune(self, now: float) -> None:
        while self._starts and self._starts[0] <= now - HOUR:
            self._starts.popleft()

    def _in_last(self, span: float, now: float) -> list[float]:
        return [t for t in self._starts if t > now - span]

    def next_start_in(self) -> float:
        """Seconds until both windows allow one more start (0.0 when they do now)."""
        now = self._clock()
        self._prune(now)
        wait = 0.0
        for limit, span in ((self.limits.per_minute, MINUTE), (self.limits.per_hour, HOUR)):
            if not limit:
                continue
            recent = self._in_last(span, now)
            if len(recent) >= limit:
                # The start that must leave the window before one more fits in it.
                leaving = recent[len(recent) - limit]
                wait = max(wait, leaving + span - now)
        return wait

    def has_slot(self) -> bool:
        """A turn may run now as far as concurrency goes."""
        return not self.limits.concurrency or self.running < self.limits.concurrency

    def can_start(self) -> bool:
        return self.cooling_until() is None and self.has_slot() and self.next_start_in() <= 0

    def retry_after(self) -> float:
        """An honest hint for a refused caller: when the windows free a slot (or the cooldown
        ends), at least 1 s."""
        wait = self.next_start_in()
        cooling = self.cooling_until()
        if cooling is not None:
            wait = max(wait, cooling - self._wall())
        return max(1.0, math.ceil(wait))

    # -- turns --

    def start(self) -> None:
        """A turn starts through this egress (the caller checked ``can_start``)."""
        now = self._clock()
        self._prune(now)
        self._starts.append(now)
        self.running += 1
        self.started += 1

    def release(self) -> None:
        """A started turn ended (whatever way): its concurrency slot frees, its start stays counted."""
        self.running = max(0, self.running - 1)

    def reject(self) -> None:
        self.rejected += 1

    # -- captcha --

    def cool(self, until: float) -> None:
        """The IP met Google's wall: no turn starts here before ``until`` (UNIX time)."""
        if self._cooling_until is None or until > self._cooling_until:
            self._cooling_until = until

    def cooling_until(self) -> float | None:
        if self._cooling_until is not None and self._cooling_until <= self._wall():
            self._cooling_until = None
        return self._cooling_until

    def info(self, accounts: tuple[str, ...] = ()) -> EgressInfo:
        now = self._clock()
        self._prune(now)
        return EgressInfo(
            name=self.name,
            limits=self.limits,
            paced=self.paced,
            running=self.running,
            waiting=self.waiting,
            started=self.started,
            rejected=self.rejected,
            started_last_minute=len(self._in_last(MINUTE, now)),
            started_last_hour=len(self._starts),
            next_start_in=self.next_start_in(),
            cooling_until=self.cooling_until(),
            accounts=accounts,
        )
