"""Any replica answers any request (issue 20 item 3): a request whose conversation, job or model
lives on another live replica is forwarded there, as an HTTP request, and the answer passes through.

Where it lives is decided by the code that would otherwise fold or refuse, at that point and with
its own knowledge: a continued conversation whose account is not in the local pool
(``service.chat.affinity``), a model no local account serves (the chat, image and long-run checks),
a video's file kept by the replica that rendered it, a background response running on another
replica (its cancellation, its live stream, its deletion: ``to_run_owner``, the replica recorded with
the run in ``service.stores.redis_runs``). There, ``to_account_owner``, ``to_model_server`` or
``to_run_owner`` raise ``Redirected`` when another live replica fits; its response, sent where an
error response would have been (``service.errors.error_response``), is ``ForwardedResponse``: the
same method, path, query, headers (the caller's key among them) and body, sent to that replica's
``cluster.internal_url`` signed with ``cluster.secret`` (``service.cluster.signing``), and its
status, headers and body streamed back chunk by chunk as they come (``aiter_raw``: an event stream
is never buffered).

- **Where the others are**: ``Forwarding`` reads the cluster view (``service.cluster.view``: every
  live replica's last report, its accounts' public fields and its ``internal_url``) once per
  ownership round, so the decision costs no Redis read (but one for a background response found
  running and not here: its replica, as recorded with its run). It may be one round stale: a
  replica that died since is unreachable (below); one that handed the account over meanwhile
  answers as if the account had gone (a fold), never forwarding again.
- **One hop**: ``ForwardScope`` sets the request's ``Route`` (what the hooks read) only for a request
  that did not come from a replica; a forwarded request (``ForwardedGate`` checked its signature)
  is always served where it arrives. A forged, missing or expired signature is refused with 401
  (``ForwardNotTrusted``), a claim on a replica without ``cluster.secret`` with 403.
- **Counted once**: the caller's key is checked on both replicas, but its rate and concurrency are
  counted by the first one only (``service.auth``: a verified forward is not admitted again).
- **Owner gone**: a replica that cannot be connected to (it died since the last round) is as good
  as absent: the request is served here as if the owner were gone (a conversation folds into a new
  chat on a local account, as when an account is missing). A failure after it was reached is our
  transport's error (``ForwardFailed``, 502); in an event stream already started, an error event.
- Only before this replica's response starts, and only while the request is served (a background
  run it started stays here: ``staying_here``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import SecretStr
from redis.exceptions import RedisError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.asgi import header, read_body, replay
from service.catalog import ModelSpec
from service.cluster.signing import BY_HEADER, FORWARDED_KEY, SIGNATURE_HEADER, BadForward, sign, verify
from service.cluster.view import ClusterView, ReplicaSeen
from service.errors import (
    ForwardFailed,
    ForwardNotTrusted,
    ForwardRefused,
    PayloadTooLarge,
    Redirected,
    error_body,
    error_response,
)
from service.periodic import Periodic
from service.request_ids import CURRENT_REQUEST_ID
from service.stores.redis_runs import Runs

log = logging.getLogger(__name__)

__all__ = [
    "FORWARDING_KEY",
    "ForwardScope",
    "ForwardedGate",
    "ForwardedResponse",
    "Forwarding",
    "Route",
    "Target",
    "routed",
    "staying_here",
    "to_account_owner",
    "to_model_server",
    "to_run_owner",
]

FORWARDING_KEY = "gateway.forwarding"  # the lifespan state's ``Forwarding``, when forwarding is on
# A forwarded answer may be a long, silent wait (a non-streamed deep answer): bounded, generously.
TIMEOUT = httpx.Timeout(connect=3.0, read=600.0, write=60.0, pool=10.0)
_SERVING = frozenset({"ready", "busy", "cooling"})
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Never passed on: set again for the hop (length, encoding) or by this replica (the claim). The
# caller's Host is kept: the links the owner builds for this request (``service.media.base_url``)
# name the address the caller used, not the owner's internal URL.
_NOT_FORWARDED = _HOP_BY_HOP | {
    b"content-length",
    b"accept-encoding",
    BY_HEADER.encode(),
    SIGNATURE_HEADER.encode(),
}
_REPLICA_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


@dataclass(frozen=True)
class Target:
    replica: str
    url: str  # its ``cluster.internal_url``, without a trailing slash


class Forwarding:
    """This replica's way to the others: the cluster view as of the last round, and one HTTP client
    (its connections kept alive between requests). Entered by the app's lifespan."""

    def __init__(
        self,
        view: ClusterView,
        replica_id: str,
        secret: SecretStr,
        *,
        interval: float,
        runs: Runs | None = None,
    ) -> None:
        self.view = view
        self.replica_id = replica_id
        self.secret = secret
        self.interval = interval
        self.runs = runs  # the shared background responses' runs: which replica runs each
        self._seen: list[ReplicaSeen] = []
        self._client: httpx.AsyncClient | None = None
        self._loop: Periodic | None = None

    async def __aenter__(self) -> Self:
        # Straight to the replica: an HTTP(S)_PROXY of the environment is for the way out, not this.
        self._client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False, trust_env=False)
        with contextlib.suppress(RedisError):  # the loop tries again
            await self.refresh()
        self._loop = Periodic(self._round, self.interval, name=f"forwarding-{self.replica_id}")
        self._loop.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _round(self) -> None:
        try:
            await self.refresh()
        except RedisError as error:  # the last view stays; unreachable replicas fall back
            log.warning("cluster view not read (%s)", type(error).__name__)

    async def refresh(self) -> None:
        """Read every live replica's last report (one Redis round trip)."""
        self._seen = await self.view.live()

    def _others(self) -> Iterator[tuple[ReplicaSeen, str]]:
        for seen in self._seen:
            report = seen.report
            if seen.replica != self.replica_id and report is not None and report.internal_url:
                yield seen, report.internal_url

    def owner_of(self, account_id: str) -> Target | None:
        """The other live replica that drives ``account_id``, when it can be forwarded to."""
        for seen, url in self._others():
            assert seen.report is not None
            if account_id in seen.report.held:
                return Target(seen.replica, url)
        return None

    def at(self, replica: str) -> Target | None:
        """``replica``, when it is another live replica that can be forwarded to."""
        for seen, url in self._others():
            if seen.replica == replica:
                return Target(seen.replica, url)
        return None

    def server_for(self, spec: ModelSpec) -> Target | None:
        """Another live replica with an account in rotation that serves ``spec``: the least busy."""
        fits: list[tuple[int, Target]] = []
        for seen, url in self._others():
            assert seen.report is not None
            accounts = [fields for fields in seen.report.accounts if _serves(spec, fields)]
            if accounts:
                busy = sum(int(fields.get("active_turns") or 0) for fields in accounts)
                fits.append((busy, Target(seen.replica, url)))
        if not fits:
            return None
        least = min(busy for busy, _ in fits)
        return random.choice([target for busy, target in fits if busy == least])

    async def open(self, target: Target, scope: Scope, body: bytes) -> httpx.Response:
        """Send the request of ``scope`` with ``body`` to ``target``; the answer's head is read,
        its body is still to come (``aiter_raw``; the caller closes it)."""
        assert self._client is not None, "Forwarding is used outside its lifespan"
        path = bytes(scope.get("raw_path") or str(scope["path"]).encode()).decode("latin-1")
        query = bytes(scope.get("query_string") or b"").decode("latin-1")
        path_and_query = f"{path}?{query}" if query else path
        method = str(scope["method"])
        headers: list[tuple[bytes, bytes]] = [
            (bytes(name), bytes(value))
            for name, value in scope.get("headers", ())
            if bytes(name).lower() not in _NOT_FORWARDED and bytes(name).lower() != b"x-request-id"
        ]
        request_id = CURRENT_REQUEST_ID.get()
        if request_id is not None:  # one id for the request on both replicas
            headers.append((b"x-request-id", request_id.encode()))
        signature = sign(self.secret, method, path_and_query, self.replica_id, body)
        headers += [
            (b"accept-encoding", b"identity"),
            (BY_HEADER.encode(), self.replica_id.encode()),
            (SIGNATURE_HEADER.encode(), signature.encode()),
        ]
        request = self._client.build_request(
            method, target.url + path_and_query, headers=headers, content=body
        )
        return await self._client.send(request, stream=True)


def _serves(spec: ModelSpec, fields: dict[str, Any]) -> bool:
    """Whether an account, as another replica reports it (``AccountOut``), serves ``spec``: in
    rotation, and its page offers the model's family and tool. A Gem model is served where its Gem
    is: never routed by this (the asking replica does not know the Gem's model)."""
    if spec.gem_model or fields.get("paused") or fields.get("state") not in _SERVING:
        return False
    if spec.family.value not in (fields.get("modes") or ()):
        return False
    return spec.tool is None or spec.tool.value in (fields.get("tools") or ())


@dataclass
class Route:
    """One request that may still be forwarded: what its hooks need (``to_account_owner``)."""

    forwarding: Forwarding
    chunks: list[bytes] = field(default_factory=list)  # the body, as the app read it
    complete: bool = False  # the whole body was read
    started: bool = False  # this replica's response started: too late to forward
    ended: bool = False  # the request was answered (a task it started runs on)
    unreachable: Target | None = None  # the replica it was sent to could not be connected to

    @property
    def open(self) -> bool:
        return not self.started and not self.ended and self.unreachable is None

    async def body(self, receive: Receive) -> bytes:
        """The whole request body: what the app read, and the rest if it stopped short."""
        while not self.complete:
            message = await receive()
            if message["type"] != "http.request":
                break
            self.chunks.append(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        return b"".join(self.chunks)


_ROUTE: ContextVar[Route | None] = ContextVar("forward_route", default=None)


def to_account_owner(account_id: str) -> None:
    """Raise ``Redirected`` when another live replica drives ``account_id`` (not a local account)
    and this request may be forwarded; nothing otherwise (the caller goes on as without replicas)."""
    route = _ROUTE.get()
    if route is None or not route.open:
        return
    target = route.forwarding.owner_of(account_id)
    if target is not None:
        log.info("forwarding to replica %s, which drives account %s", target.replica, account_id)
        raise Redirected(ForwardedResponse(route, target))


def to_model_server(spec: ModelSpec) -> None:
    """Raise ``Redirected`` when no local account serves ``spec`` (the caller checked) and another
    live replica's accounts do; nothing otherwise (the caller refuses as without replicas)."""
    route = _ROUTE.get()
    if route is None or not route.open:
        return
    target = route.forwarding.server_for(spec)
    if target is not None:
        log.info("forwarding to replica %s, whose accounts serve %s", target.replica, spec.name)
        raise Redirected(ForwardedResponse(route, target))


async def to_run_owner(run_id: str) -> None:
    """Raise ``Redirected`` when another live replica runs the background response ``run_id`` (the
    caller found it running, but not here) and this request may be forwarded; nothing otherwise (a
    run whose replica died is answered here from what is stored, as without replicas)."""
    route = _ROUTE.get()
    if route is None or not route.open or route.forwarding.runs is None:
        return
    replica = await asyncio.to_thread(route.forwarding.runs.runner, run_id)
    target = route.forwarding.at(replica) if replica is not None else None
    if target is not None:
        log.info("forwarding to replica %s, which runs the response %s", target.replica, run_id)
        raise Redirected(ForwardedResponse(route, target))


@contextlib.contextmanager
def routed(forwarding: Forwarding, body: bytes) -> Iterator[Route]:
    """Work of a request served apart from its HTTP exchange (an MCP tool call runs in the MCP
    SDK's task, its response already started): its hooks raise ``Redirected`` as an HTTP request's
    do, and the caller sends ``body`` on itself (``service.mcp.forwarding``)."""
    route = Route(forwarding, chunks=[body], complete=True)
    token = _ROUTE.set(route)
    try:
        yield route
    finally:
        _ROUTE.reset(token)


@contextlib.contextmanager
def staying_here() -> Iterator[None]:
    """Work started by a request that runs here whatever it finds (a background response)."""
    token = _ROUTE.set(None)
    try:
        yield
    finally:
        _ROUTE.reset(token)


class ForwardedResponse(Response):
    """The answer of the replica the request belongs to, passed through as it comes."""

    def __init__(self, route: Route, target: Target) -> None:
        super().__init__()
        self.route = route
        self.target = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await self.route.body(receive)
        try:
            upstream = await self.route.forwarding.open(self.target, scope, body)
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            # Nothing reached it: it died since the last round. Served here instead (ForwardScope).
            log.warning(
                "replica %s is unreachable (%s): served here", self.target.replica, type(error).__name__
            )
            self.route.unreachable = self.target
            return
        except httpx.HTTPError as error:
            log.warning("forwarding to replica %s failed (%s)", self.target.replica, type(error).__name__)
            failed = ForwardFailed(
                f"The replica {self.target.replica!r} that serves this request did not answer."
            )
            await error_response(failed)(scope, receive, send)
            return
        # A client that goes away closes the forwarded request too: its replica stops the page.
        pump = asyncio.ensure_future(self._pump(upstream, send))
        watcher = asyncio.ensure_future(_disconnected(receive))
        try:
            await asyncio.wait({pump, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            if not pump.done():
                pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            await upstream.aclose()

    async def _pump(self, upstream: httpx.Response, send: Send) -> None:
        headers = [
            (name.lower(), value) for name, value in upstream.headers.raw if name.lower() not in _HOP_BY_HOP
        ]
        await send({"type": "http.response.start", "status": upstream.status_code, "headers": headers})
        events = upstream.headers.get("content-type", "").startswith("text/event-stream")
        try:
            async for chunk in upstream.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.HTTPError as error:
            log.warning("the answer of replica %s broke off (%s)", self.target.replica, type(error).__name__)
            if events:  # the error-after-first-byte contract (service.streaming)
                failed = ForwardFailed(f"The replica {self.target.replica!r} stopped answering.")
                payload = error_body(failed).model_dump_json()
                tail = f"data: {payload}\n\ndata: [DONE]\n\n".encode()
                await send({"type": "http.response.body", "body": tail, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class ForwardScope:
    """Pure ASGI, innermost: gives each API request that did not come from a replica its ``Route``
    (the hooks read it), records its body as the app reads it, and serves it here after all when
    the replica it was forwarded to could not be reached."""

    def __init__(self, app: ASGIApp, *, prefixes: Sequence[str]) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state") or {}
        forwarding = state.get(FORWARDING_KEY)
        path = str(scope.get("path", ""))
        if (
            scope["type"] != "http"
            or not isinstance(forwarding, Forwarding)
            or state.get(FORWARDED_KEY) is not None
            or not any(path == prefix or path.startswith(prefix + "/") for prefix in self.prefixes)
        ):
            await self.app(scope, receive, send)
            return
        route = Route(forwarding)

        async def recording() -> Message:
            message = await receive()
            if message["type"] == "http.request" and not route.complete:
                route.chunks.append(message.get("body", b""))
                route.complete = not message.get("more_body", False)
            return message

        async def tracking(message: Message) -> None:
            if message["type"] == "http.response.start":
                route.started = True
            await send(message)

        token = _ROUTE.set(route)
        try:
            await self.app(scope, recording, tracking)
        finally:
            _ROUTE.reset(token)
            route.ended = True
        if route.unreachable is not None and not route.started:
            body = await route.body(receive)
            await self.app(scope, replay(body, receive), send)  # no route now: served here


class ForwardedGate:
    """Pure ASGI, outside the API-key gate: a request that claims to come from another replica
    (``X-Gateway-Forwarded-By`` or a signature header) proves it, or is refused before anything
    else; a proven one is marked (``FORWARDED_KEY``: the key gate admits it without counting it
    again, ``ForwardScope`` never forwards it again)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        by = header(scope, BY_HEADER.encode())
        signature = header(scope, SIGNATURE_HEADER.encode())
        if by is None and signature is None:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        forwarding = state.get(FORWARDING_KEY)
        if not isinstance(forwarding, Forwarding):
            refused = ForwardRefused(
                "This replica does not accept forwarded requests (cluster.secret is not set here)."
            )
            await error_response(refused)(scope, receive, send)
            return
        body = await read_body(receive, self.max_bytes)
        if body is None:
            await error_response(PayloadTooLarge.body_over(self.max_bytes))(scope, receive, send)
            return
        path = bytes(scope.get("raw_path") or str(scope["path"]).encode()).decode("latin-1")
        query = bytes(scope.get("query_string") or b"").decode("latin-1")
        try:
            if by is None or not _REPLICA_ID.match(by):
                raise BadForward("The request claims to be forwarded but names no replica.")
            verify(
                forwarding.secret,
                str(scope["method"]),
                f"{path}?{query}" if query else path,
                by,
                body,
                signature,
            )
        except BadForward as refusal:
            log.warning("refused a forwarded request to %s: %s", scope.get("path", ""), refusal)
            await error_response(ForwardNotTrusted(str(refusal)))(scope, receive, send)
            return
        state[FORWARDED_KEY] = by
        await self.app(scope, replay(body, receive), send)
