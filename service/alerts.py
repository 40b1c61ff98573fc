"""Alerts: a webhook called when an account starts needing a person and when it recovers.

``AccountAlerts`` compares the accounts' health (``AccountInfo.needs_person``) every
``alerts.check_interval`` seconds and queues an event on each change: ``account.needs_person`` when
an account starts needing a person (or needs one for another reason), ``account.recovered`` when an
account that needed one is healthy again. One sender POSTs the events in order, each retried with
exponential backoff (``alerts.backoff`` doubling up to ``alerts.backoff_max``, at most
``alerts.attempts`` tries); nothing waits for it, so a slow or dead receiver never delays a turn.

A body names the account, the reason and what to do, never a cookie, a key or a proxy; the
webhook's URL may carry a token of its own, so logs show only its scheme and host.

After a restart an account's reason and its time come back from the pool's store: a reason that
started before this process is not announced again, a recovery from it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from browser import AccountInfo, AccountState
from service.session_health import hint

__all__ = ["NEEDS_PERSON", "RECOVERED", "AccountAlerts", "AlertSettings", "shown_url"]

log = logging.getLogger(__name__)

NEEDS_PERSON = "account.needs_person"
RECOVERED = "account.recovered"
# States in which an account serves again: only then is a cleared reason a recovery.
_HEALTHY = frozenset({AccountState.READY, AccountState.BUSY, AccountState.COOLING})
QUEUE_SIZE = 1000  # events waiting for the receiver; beyond it the oldest are dropped (and logged)


class AlertSettings(BaseModel):
    """``alerts``: the webhook called when an account needs a person and when it recovers."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    webhook_url: SecretStr | None = Field(
        default=None,
        description="An http(s) URL to POST a JSON event to when an account starts needing a person "
        "(`account.needs_person`: expired, verify, signed_out, consent, terms, captcha, region) and when "
        "it recovers (`account.recovered`). Unset: no webhook. It may carry a token (logs show only its "
        "scheme and host). Environment: `GATEWAY_ALERTS__WEBHOOK_URL`.",
    )
    attempts: int = Field(
        default=6,
        ge=1,
        le=50,
        description="Tries per event, the first included; an event still refused after them is logged "
        "and dropped. A 2xx answer is a delivery; 408, 429, 5xx and network errors are retried, other "
        "4xx answers are not.",
    )
    backoff: float = Field(
        default=2.0,
        gt=0,
        description="Seconds before the first retry; each further retry waits twice as long as the last "
        "(up to `backoff_max`).",
    )
    backoff_max: float = Field(
        default=300.0, gt=0, description="The longest wait between two tries, seconds."
    )
    timeout: float = Field(
        default=10.0, gt=0, description="Seconds one try may take before it counts as failed."
    )
    check_interval: float = Field(
        default=1.0,
        gt=0,
        description="Seconds between two comparisons of the accounts' health (an in-memory read: cheap).",
    )

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        parts = urlsplit(value.get_secret_value().strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        return value


def shown_url(url: str) -> str:
    """The URL as logs may show it: scheme and host (and port) only; path and query may hold a token."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


class _HiddenUrl(logging.Filter):
    """On httpx's logger, which names every request's URL at INFO: the webhook's URL is shortened
    to ``shown_url`` in those lines."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.url in message:
            record.msg, record.args = message.replace(self.url, shown_url(self.url)), ()
        return True


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def event_body(
    event: str, info: AccountInfo, reason: str, previous: str | None, now: float
) -> dict[str, Any]:
    """The JSON an event POSTs: ``reason`` is the reason now (needs_person) or the reason recovered
    from (recovered). Only names, states, times and the gateway's own words."""
    started = info.session_started_at
    return {
        "event": event,
        "account": info.id,
        "name": info.name,
        "reason": reason,
        "previous_reason": previous,
        "hint": hint(reason, info.signin_method) if event == NEEDS_PERSON else None,
        "detail": info.reason,
        "state": info.state.value,
        "signin_method": info.signin_method,
        "since": _iso(info.needs_person_since) if event == NEEDS_PERSON and info.needs_person_since else None,
        "session_age_seconds": round(now - started, 1) if started is not None else None,
        "last_rotation_at": _iso(info.last_rotation_at) if info.last_rotation_at else None,
        "time": _iso(now),
    }


class AccountAlerts:
    """Watches ``source`` (the accounts) and calls the webhook; use with ``async with``. Without a
    webhook URL it does nothing. ``started_at``: when this gateway started, before its pool (a reason
    older than that was seen by an earlier run). ``on_delivery(event, outcome)`` is told each
    event's fate: ``delivered``, ``failed`` (gave up) or ``dropped`` (the queue overflowed)."""

    def __init__(
        self,
        settings: AlertSettings,
        source: Callable[[], Sequence[AccountInfo]],
        *,
        started_at: float | None = None,
        on_delivery: Callable[[str, str], None] | None = None,
    ) -> None:
        self.settings = settings
        self._source = source
        self._on_delivery = on_delivery
        # Per account id: the reason last announced (None: healthy, or nothing announced yet).
        self._announced: dict[str, str | None] = {}
        self._started = time.time() if started_at is None else started_at
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._tasks: list[asyncio.Task[None]] = []
        self._client: httpx.AsyncClient | None = None
        self._hidden: _HiddenUrl | None = None

    @property
    def enabled(self) -> bool:
        return self.settings.webhook_url is not None

    async def __aenter__(self) -> AccountAlerts:
        if not self.enabled:
            return self
        self._hidden = _HiddenUrl(self._url())
        logging.getLogger("httpx").addFilter(self._hidden)
        self._client = httpx.AsyncClient(timeout=self.settings.timeout, follow_redirects=False)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._watch()), loop.create_task(self._send())]
        log.info("alerts: webhook %s", shown_url(self._url()))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._queue.qsize():
            log.warning("alerts: %d event(s) not sent before shutdown", self._queue.qsize())
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._hidden is not None:
            logging.getLogger("httpx").removeFilter(self._hidden)
            self._hidden = None

    def _url(self) -> str:
        assert self.settings.webhook_url is not None
        return self.settings.webhook_url.get_secret_value().strip()

    # -- watching --

    def check(self) -> None:
        """Compare the accounts' health with what was announced; queue an event per change."""
        now = time.time()
        for info in self._source():
            current = info.needs_person
            first_sight = info.id not in self._announced
            announced = self._announced.get(info.id)
            if current is not None and current != announced:
                since = info.needs_person_since
                self._announced[info.id] = current
                if first_sight and since is not None and since < self._started:
                    continue  # announced by the run that saw it start
                self._queue_event(event_body(NEEDS_PERSON, info, current, announced, now))
            elif current is None and announced is not None and info.state in _HEALTHY:
                self._announced[info.id] = None
                self._queue_event(event_body(RECOVERED, info, announced, announced, now))
            elif first_sight:
                self._announced[info.id] = current
        # A removed account keeps its entry: added again under its name and healthy, it recovered.

    async def _watch(self) -> None:
        while True:
            try:
                self.check()
            except Exception:  # the next comparison tries again
                log.warning("alerts: reading the accounts failed", exc_info=True)
            await asyncio.sleep(self.settings.check_interval)

    def _queue_event(self, body: dict[str, Any]) -> None:
        if self._queue.full():
            dropped = self._queue.get_nowait()
            log.warning("alerts: queue full, dropped %s of %s", dropped["event"], dropped["account"])
            self._told(dropped["event"], "dropped")
        self._queue.put_nowait(body)
        log.info("alerts: %s %s (%s) queued", body["event"], body["account"], body["reason"])

    # -- sending --

    async def _send(self) -> None:
        while True:
            body = await self._queue.get()
            delivered = await self._deliver(body)
            self._told(body["event"], "delivered" if delivered else "failed")

    async def _deliver(self, body: dict[str, Any]) -> bool:
        assert self._client is not None
        url, settings = self._url(), self.settings
        wait = settings.backoff
        for attempt in range(1, settings.attempts + 1):
            failure = await self._try(url, body)
            if failure is None:
                log.info("alerts: %s %s delivered (try %d)", body["event"], body["account"], attempt)
                return True
            outcome, retry = failure
            last = attempt == settings.attempts or not retry
            log.warning(
                "alerts: %s %s to %s failed (try %d of %d: %s)%s",
                body["event"],
                body["account"],
                shown_url(url),
                attempt,
                settings.attempts,
                outcome,
                "; given up" if last else f"; next try in {wait:g} s",
            )
            if last:
                return False
            await asyncio.sleep(wait)
            wait = min(wait * 2, settings.backoff_max)
        return False

    async def _try(self, url: str, body: dict[str, Any]) -> tuple[str, bool] | None:
        """None when delivered; else what went wrong and whether another try may help."""
        assert self._client is not None
        try:
            response = await self._client.post(
                url,
                json=body,
                headers={"User-Agent": "gemini-gateway-alerts", "X-Gateway-Event": body["event"]},
            )
        except httpx.HTTPError as exc:
            # The exception's text may quote the URL: only its type is told.
            return type(exc).__name__, True
        if response.is_success:
            return None
        status = response.status_code
        return f"HTTP {status}", status in (408, 429) or status >= 500

    def _told(self, event: str, outcome: str) -> None:
        if self._on_delivery is not None:
            self._on_delivery(event, outcome)
