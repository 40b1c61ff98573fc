"""Prometheus metrics (prometheus-client), one registry per app: requests by route, model and
status; time to first token and turn duration; turns waiting for an account; accounts by state;
turns per account; accounts' cooldowns; per account, why it needs a person, its session's age and
its last cookie rotation; webhook deliveries; upstream error codes; media bytes delivered. The same
events feed ``Metrics.activity`` (``service.activity``), the dashboard's last hour.

``RequestMetrics`` (pure ASGI) counts every response, 401s and 429s of the key gate included; the
route is the matched route's template (never a raw path, so ids do not blow up the label set) and
the model is read from the first bytes of the response (OpenAI shapes name it first).
``MeteredBackend`` wraps the backend to time turns and count upstream failures; the reads of a
running research or video job (polled outside any turn) are counted by kind and outcome, their
failures with the turns' upstream errors.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from browser import AccountInfo, EgressInfo, TurnRequest, TurnSnapshot, VideoInfo
from service.activity import Activity
from service.backend import Backend, BackendTurn, BackendWrapper, DelegatingTurn
from service.errors import CapacityExhausted, NoHealthyAccount, ServiceError, UpstreamFailed, UpstreamTimedOut
from service.request_ids import CURRENT_REQUEST_ID

__all__ = ["CONTENT_TYPE", "MeteredBackend", "Metrics", "RequestMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_MODEL = re.compile(rb'"model"\s*:\s*"([A-Za-z0-9_.:/-]{1,64})"')
_PEEK_BYTES = 2048
_UPSTREAM_ERRORS = (UpstreamFailed, UpstreamTimedOut, NoHealthyAccount, CapacityExhausted)
_TURN_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
_T = TypeVar("_T")


class _Accounts(Collector):
    def __init__(self) -> None:
        self.source: Callable[[], Sequence[AccountInfo]] | None = None

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily("gateway_accounts", "Accounts by state", labels=["state"])
        cooling = GaugeMetricFamily(
            "gateway_account_cooling_until_seconds",
            "When an account's cooldown for a quota (a model family or a tool) ends, as a Unix time",
            labels=["account", "quota"],
        )
        needs = GaugeMetricFamily(
            "gateway_account_needs_person",
            "1 for each account that needs a person, labelled with why (expired, verify, signed_out, "
            "consent, terms, captcha, region)",
            labels=["account", "reason"],
        )
        age = GaugeMetricFamily(
            "gateway_account_session_age_seconds",
            "Seconds since the account's session (its __Secure-1PSID) was first seen working, by how it "
            "was signed in",
            labels=["account", "signin_method"],
        )
        rotation = GaugeMetricFamily(
            "gateway_account_last_rotation_timestamp_seconds",
            "When the account's page last got a fresh __Secure-1PSIDTS from a cookie rotation, "
            "as a Unix time",
            labels=["account"],
        )
        counts: dict[str, int] = {}
        now = time.time()
        for account in self.source() if self.source is not None else ():
            state = "paused" if account.paused else str(account.state)
            counts[state] = counts.get(state, 0) + 1
            for quota, until in account.cooling_until.items():
                cooling.add_metric([account.id, str(quota)], float(until))
            if account.needs_person is not None:
                needs.add_metric([account.id, account.needs_person], 1)
            if account.session_started_at is not None:
                age.add_metric(
                    [account.id, account.signin_method], max(0.0, now - account.session_started_at)
                )
            if account.last_rotation_at is not None:
                rotation.add_metric([account.id], account.last_rotation_at)
        for state, count in sorted(counts.items()):
            family.add_metric([state], count)
        yield family
        yield cooling
        yield needs
        yield age
        yield rotation


class _Egresses(Collector):
    """Per egress (``direct`` or a proxy's ``scheme://host:port``, never its credentials): the pacing
    of the turns leaving through one IP (``browser._egress``)."""

    def __init__(self) -> None:
        self.source: Callable[[], Sequence[EgressInfo]] | None = None

    def collect(self) -> Iterable[Metric]:
        labels = ["egress"]
        started = CounterMetricFamily(
            "gateway_egress_turns_started", "Turns started through an egress", labels=labels
        )
        rejected = CounterMetricFamily(
            "gateway_egress_rejected",
            "Requests refused (429) because the egresses of their accounts were at their pace",
            labels=labels,
        )
        running = GaugeMetricFamily(
            "gateway_egress_turns_running", "Turns running through an egress", labels=labels
        )
        waiting = GaugeMetricFamily(
            "gateway_egress_turns_waiting", "Requests waiting for an egress's budget", labels=labels
        )
        last_minute = GaugeMetricFamily(
            "gateway_egress_turns_last_minute",
            "Turns started through an egress in the last 60 s",
            labels=labels,
        )
        cooling = GaugeMetricFamily(
            "gateway_egress_cooling",
            "1 while an egress cools after a captcha (google.com/sorry)",
            labels=labels,
        )
        cooling_until = GaugeMetricFamily(
            "gateway_egress_cooling_until_seconds",
            "When an egress's captcha cooldown ends, as a Unix time (only while it cools)",
            labels=labels,
        )
        for egress in self.source() if self.source is not None else ():
            label = [egress.name]
            started.add_metric(label, egress.started)
            rejected.add_metric(label, egress.rejected)
            running.add_metric(label, egress.running)
            waiting.add_metric(label, egress.waiting)
            last_minute.add_metric(label, egress.started_last_minute)
            cooling.add_metric(label, 0 if egress.cooling_until is None else 1)
            if egress.cooling_until is not None:
                cooling_until.add_metric(label, egress.cooling_until)
        yield from (started, rejected, running, waiting, last_minute, cooling, cooling_until)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_requests", "HTTP requests", ["route", "model", "status"], registry=self.registry
        )
        self.first_token = Histogram(
            "gateway_time_to_first_token_seconds",
            "From asking for an account to the first snapshot of the answer",
            ["family"],
            buckets=_TURN_BUCKETS,
            registry=self.registry,
        )
        self.turn_duration = Histogram(
            "gateway_turn_duration_seconds",
            "From asking for an account to the end of the turn",
            ["family"],
            buckets=_TURN_BUCKETS,
            registry=self.registry,
        )
        self.queue = Gauge("gateway_queue_length", "Turns waiting for an account", registry=self.registry)
        self.upstream_errors = Counter(
            "gateway_upstream_errors",
            "Failed turns and lookups by error code",
            ["code"],
            registry=self.registry,
        )
        self.lookups = Counter(
            "gateway_lookups",
            "Reads of a running research or video job outside any turn, by kind and outcome",
            ["lookup", "outcome"],
            registry=self.registry,
        )
        self.media_bytes = Counter(
            "gateway_media_bytes_delivered", "Bytes of media served from /media/", registry=self.registry
        )
        self.account_turns = Counter(
            "gateway_account_turns",
            "Turns by account and outcome",
            ["account", "outcome"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "gateway_alerts",
            "Webhook events by event and outcome (delivered, failed after every try, dropped)",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.activity = Activity()
        self._accounts = _Accounts()
        self.registry.register(self._accounts)
        self._egresses = _Egresses()
        self.registry.register(self._egresses)

    def watch_accounts(self, source: Callable[[], Sequence[AccountInfo]] | None) -> None:
        self._accounts.source = source

    def watch_egresses(self, source: Callable[[], Sequence[EgressInfo]] | None) -> None:
        self._egresses.source = source

    def alert_delivered(self, event: str, outcome: str) -> None:
        self.alerts.labels(event, outcome).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def queued(self, delta: int) -> None:
        """A turn starts (+1) or stops (-1) waiting for an account."""
        self.queue.inc(delta)
        self.activity.queued(delta)


@dataclass
class _RequestNote:
    """What the layers below learn about the request being answered (the account that served it),
    shared by reference: a streamed answer runs in a task of its own, with a copy of the context."""

    account: str | None = None


_NOTE: ContextVar[_RequestNote | None] = ContextVar("request_note", default=None)


class RequestMetrics:
    """Pure ASGI: count each HTTP response by route template, model and status; the activity also
    records it and its error, except on ``quiet`` paths (the dashboard polling itself, scrapes)."""

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, media_prefix: str = "/media/", quiet: Sequence[str] = ()
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.media_prefix = media_prefix
        self.quiet = tuple(quiet)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        head = b""
        media = str(scope.get("path", "")).startswith(self.media_prefix)

        async def counting(message: Message) -> None:
            nonlocal status, head
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                if len(head) < _PEEK_BYTES:
                    head += body[: _PEEK_BYTES - len(head)]
                if media and status in (200, 206):
                    self.metrics.media_bytes.inc(len(body))
            await send(message)

        note = _RequestNote()
        token = _NOTE.set(note)
        try:
            await self.app(scope, receive, counting)
        finally:
            _NOTE.reset(token)
            template = _template(scope)
            found = _MODEL.search(head)
            model = found.group(1).decode() if found else "none"
            self.metrics.requests.labels(template, model, str(status or 500)).inc()
            path = str(scope.get("path", ""))
            if not any(path == quiet or path.startswith(quiet + "/") for quiet in self.quiet):
                self._record(status or 500, template, head, note)

    def _record(self, status: int, route: str, head: bytes, note: _RequestNote) -> None:
        self.metrics.activity.request(status)
        if status >= 400:
            code, message = _error_of(head)
            self.metrics.activity.error(
                request_id=CURRENT_REQUEST_ID.get(),
                route=route,
                status=status,
                code=code,
                message=message,
                account=note.account,
            )


def _error_of(head: bytes) -> tuple[str | None, str]:
    """The code and message of an OpenAI-shaped error body (``service.errors`` writes every one)."""
    try:
        error = json.loads(head).get("error", {})
    except (ValueError, AttributeError):
        return None, ""
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code")
    return (str(code) if code else None), str(error.get("message") or "")


def _template(scope: Scope) -> str:
    """The matched route's template with the (static) prefix it was included under: the route
    knows only its own part (``/chat/completions``), the path has the prefix (``/v1/...``)."""
    route = scope.get("route")
    if route is None:
        return "unmatched"
    template = str(getattr(route, "path", "unmatched"))
    regex = getattr(route, "path_regex", None)
    path = str(scope.get("path", ""))
    if regex is not None and not regex.fullmatch(path):
        for cut in range(1, len(path)):
            if path[cut] == "/" and regex.fullmatch(path[cut:]):
                return path[:cut] + template
    return template


class _MeteredTurn(DelegatingTurn):
    def __init__(self, turn: BackendTurn, started: float, family: str, metrics: Metrics) -> None:
        super().__init__(turn)
        self._started = started
        self._family = family
        self._metrics = metrics
        self.first_token: float | None = None

    async def _snapshots(self) -> AsyncIterator[TurnSnapshot]:
        async for snapshot in self._turn:
            if self.first_token is None:
                self.first_token = time.monotonic() - self._started
                self._metrics.first_token.labels(self._family).observe(self.first_token)
            yield snapshot


class MeteredBackend(BackendWrapper):
    """A ``Backend`` that times turns and counts upstream failures (by their error code), and counts
    the research and video lookups (``gateway_lookups``). Chat deletion and the account operations
    pass on unmetered."""

    def __init__(self, inner: Backend, metrics: Metrics) -> None:
        super().__init__(inner)
        self.metrics = metrics

    @asynccontextmanager
    async def turn(self, spec: TurnRequest) -> AsyncIterator[BackendTurn]:
        family = spec.mode.value
        started = time.monotonic()
        waiting = True
        metered: _MeteredTurn | None = None
        failure: ServiceError | None = None
        self.metrics.queued(+1)
        try:
            async with self.inner.turn(spec) as turn:
                waiting = False
                self.metrics.queued(-1)
                metered = _MeteredTurn(turn, started, family, self.metrics)
                note = _NOTE.get()
                if note is not None:
                    note.account = turn.account_id
                yield metered
        except _UPSTREAM_ERRORS as exc:
            self.metrics.upstream_errors.labels(exc.code or type(exc).__name__).inc()
            failure = exc
            raise
        finally:
            if waiting:
                self.metrics.queued(-1)
            spent = time.monotonic() - started
            self.metrics.turn_duration.labels(family).observe(spent)
            self._account_turn(metered, spent, failure)

    def _account_turn(self, turn: _MeteredTurn | None, spent: float, failure: ServiceError | None) -> None:
        account = turn.account_id if turn is not None else None
        if account is not None:
            self.metrics.account_turns.labels(account, "error" if failure else "ok").inc()
        first_token = turn.first_token if turn is not None else None
        self.metrics.activity.turn(
            account, first_token=first_token, duration=spent, failed=failure is not None
        )
        if failure is not None:
            # A streamed answer's failure never becomes an HTTP status: remembered here, with its id.
            self.metrics.activity.error(
                request_id=CURRENT_REQUEST_ID.get(),
                route="turn",
                status=0,
                code=failure.code,
                message=failure.message,
                account=account,
            )

    async def research_state(self, account_id: str, research_id: str) -> str:
        return await self._lookup("research_state", self.inner.research_state(account_id, research_id))

    async def research_report(self, account_id: str, chat_id: str) -> str | None:
        return await self._lookup("research_report", self.inner.research_report(account_id, chat_id))

    async def video_job(self, account_id: str, job_id: str, chat_id: str | None) -> bool | None:
        return await self._lookup("video_job", self.inner.video_job(account_id, job_id, chat_id))

    async def chat_video(self, account_id: str, chat_id: str) -> VideoInfo | None:
        return await self._lookup("chat_video", self.inner.chat_video(account_id, chat_id))

    async def _lookup(self, kind: str, read: Awaitable[_T]) -> _T:
        try:
            result = await read
        except _UPSTREAM_ERRORS as exc:
            self.metrics.lookups.labels(kind, "error").inc()
            self.metrics.upstream_errors.labels(exc.code or type(exc).__name__).inc()
            raise
        self.metrics.lookups.labels(kind, "ok").inc()
        return result
