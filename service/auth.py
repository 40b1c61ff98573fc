"""API-key authentication: ``Authorization: <key>``, ``Authorization: Bearer <key>``, or (Anthropic's
clients) ``x-api-key: <key>`` when there is no Authorization header.

Keys are compared as SHA-256 digests with ``hmac.compare_digest`` against EVERY configured key (no
early exit), so the time taken reveals neither which key, how much of one, nor a key's length
matched (compare_digest returns at once on a length mismatch; digests are all 32 bytes). A caller
is identified downstream by a digest of its key, never by the key itself.

``ApiKeyGate`` checks the key as the outermost middleware, before anything reads or parses the
body: a caller without a valid key gets 401 whatever it sent (malformed JSON, an oversized body,
an unknown route), and cannot make the gateway buffer a body at all. It leaves the ``Caller`` in
the request's state for routes (``service.state.CallerDep``). The one exception is ``GET`` on a
single path segment under each ``public_prefixes`` entry (the signed media links, whose signature is
their credential); those requests carry no caller. Paths under ``own_gates`` (health, admin,
metrics) pass untouched: they check their own credential (the admin key), never an API key.

Paths under a ``KeyDoor`` (the Gemini-native ``/v1beta`` routes) take the key as Google's clients send
it too, in ``x-goog-api-key`` or the ``key`` query parameter (never logged: ``service.request_ids``
logs the path without the query), and answer refusals in that door's own error shape.

Besides the configured keys, a ``KeyDirectory`` (``service.keys.KeyStore``) may know runtime keys;
it also admits each request against its key's limits (429 before the body is read).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs

from pydantic import SecretStr
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.asgi import header
from service.cluster.signing import FORWARDED_KEY
from service.errors import AuthenticationFailed, RateLimited, error_response

__all__ = [
    "CALLER_KEY",
    "CURRENT_CALLER",
    "OPEN_CALLER",
    "ApiKeyGate",
    "Caller",
    "KeyDirectory",
    "KeyDoor",
    "Release",
    "authenticate",
    "match_key",
    "presented_key",
]

# Where ``ApiKeyGate`` leaves the authenticated caller in the request state.
CALLER_KEY = "caller"


@dataclass(frozen=True)
class Caller:
    """Who is calling: ``identity`` is a digest of the API key (or ``"open"`` without auth);
    ``key_id`` names a stored key, ``accounts`` the group of accounts it may use (None: all) and
    ``scopes`` the model families and kinds of work it may use (None: all, ``service.key_scopes``)."""

    identity: str
    key_id: str | None = None
    accounts: frozenset[str] | None = None
    scopes: frozenset[str] | None = None


OPEN_CALLER = Caller(identity="open")

# The caller of the request being served (set by ``ApiKeyGate``), for layers below the routes.
CURRENT_CALLER: ContextVar[Caller | None] = ContextVar("current_caller", default=None)


# Ends one admitted request (``KeyDirectory.admit``): its concurrency slot is freed.
Release = Callable[[], Awaitable[None]]


class KeyDirectory(Protocol):
    """Runtime keys: ``lookup`` a presented key; ``admit`` one request (raises ``RateLimited``),
    returning the release awaited when the response has ended."""

    async def lookup(self, key: str) -> Caller | None: ...
    async def admit(self, caller: Caller) -> Release: ...


@dataclass(frozen=True)
class KeyDoor:
    """Routes under ``prefixes`` also take ``x-goog-api-key`` or ``?key=``; ``refuse`` shapes a
    refusal (``AuthenticationFailed``, ``RateLimited``) as that door's error response."""

    prefixes: tuple[str, ...]
    refuse: Callable[[BaseException], Response]
    missing: str = "Missing API key: send x-goog-api-key: <key> or ?key=<key>."

    def owns(self, path: str) -> bool:
        return any(path.startswith(prefix + "/") or path == prefix for prefix in self.prefixes)

    def presented(self, scope: Scope) -> str | None:
        """The key as Google's clients send it: the header first, then the query parameter."""
        sent = header(scope, b"x-goog-api-key")
        if sent:
            return sent
        query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
        keys = query.get("key")
        return keys[0] if keys else None


def presented_key(header: str | None) -> str | None:
    """The key in an Authorization header value, with or without the ``Bearer`` scheme."""
    if not header:
        return None
    value = header.strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


def match_key(presented: str, keys: Sequence[SecretStr]) -> int | None:
    """Index of the configured key equal to ``presented``; every key is compared, always."""
    candidate = hashlib.sha256(presented.encode()).digest()
    found: int | None = None
    for index, key in enumerate(keys):
        if hmac.compare_digest(candidate, hashlib.sha256(key.get_secret_value().encode()).digest()):
            found = index
    return found


async def authenticate(
    header: str | None,
    keys: Sequence[SecretStr],
    *,
    open_access: bool,
    directory: KeyDirectory | None = None,
) -> Caller:
    """The caller for a request, or ``AuthenticationFailed``. Open access admits everyone."""
    key = presented_key(header)
    if open_access and not keys:
        return OPEN_CALLER
    if key is None:
        if open_access:
            return OPEN_CALLER
        raise AuthenticationFailed("Missing API key: send Authorization: Bearer <key>.")
    if match_key(key, keys) is None:
        stored = await directory.lookup(key) if directory is not None else None
        if stored is None:
            raise AuthenticationFailed()
        return stored
    return Caller(identity=hashlib.sha256(key.encode()).hexdigest()[:32])


class ApiKeyGate:
    """Pure ASGI: authenticate every HTTP request from its headers alone, before the body is read."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: Sequence[SecretStr],
        open_access: bool,
        public_prefixes: Sequence[str] = (),
        own_gates: Sequence[str] = (),
        directory: KeyDirectory | None = None,
        doors: Sequence[KeyDoor] = (),
    ) -> None:
        self.app = app
        self.doors = tuple(doors)
        self.keys = tuple(keys)
        self.open_access = open_access
        self.public_prefixes = tuple(public_prefixes)
        self.own_gates = tuple(own_gates)
        self.directory = directory

    def _is_public(self, scope: Scope) -> bool:
        if scope.get("method") != "GET":
            return False
        path = str(scope.get("path", ""))
        for prefix in self.public_prefixes:
            rest = path[len(prefix) :] if path.startswith(prefix) else ""
            if rest and "/" not in rest:
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._is_public(scope) or self._has_own_gate(scope):
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        door = next((door for door in self.doors if door.owns(path)), None)
        sent = header(scope, b"authorization") or header(scope, b"x-api-key")
        if door is not None and not sent:
            sent = door.presented(scope)
        try:
            caller = await authenticate(
                sent,
                self.keys,
                open_access=self.open_access,
                directory=self.directory,
            )
            # A request another replica forwarded was admitted there (service.cluster.forward).
            forwarded = (scope.get("state") or {}).get(FORWARDED_KEY) is not None
            release = (
                await self.directory.admit(caller) if self.directory is not None and not forwarded else None
            )
        except (AuthenticationFailed, RateLimited) as exc:
            # The body is never read: the server discards it (or closes the connection).
            if door is not None and sent is None and isinstance(exc, AuthenticationFailed):
                exc = AuthenticationFailed(door.missing)  # name the door's own ways to send a key
            refusal = door.refuse(exc) if door is not None else error_response(exc)
            await refusal(scope, receive, send)
            return
        scope.setdefault("state", {})[CALLER_KEY] = caller
        token = CURRENT_CALLER.set(caller)
        try:
            await self.app(scope, receive, send)
        finally:
            CURRENT_CALLER.reset(token)
            if release is not None:
                await release()

    def _has_own_gate(self, scope: Scope) -> bool:
        path = str(scope.get("path", ""))
        return any(path == gate or path.startswith(gate + "/") for gate in self.own_gates)
