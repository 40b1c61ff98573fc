"""API-key authentication: ``Authorization: <key>`` or ``Authorization: Bearer <key>``.

Keys are compared with ``hmac.compare_digest`` against EVERY configured key (no early exit), so
the time taken does not reveal which key, or how much of one, matched. A caller is identified
downstream by a digest of its key, never by the key itself.

``ApiKeyGate`` checks the key as the outermost middleware, before anything reads or parses the
body: a caller without a valid key gets 401 whatever it sent (malformed JSON, an oversized body,
an unknown route), and cannot make the gateway buffer a body at all. It leaves the ``Caller`` in
the request's state for routes (``service.state.CallerDep``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from service.asgi import header
from service.errors import AuthenticationFailed, error_response

__all__ = [
    "CALLER_KEY",
    "OPEN_CALLER",
    "ApiKeyGate",
    "Caller",
    "authenticate",
    "match_key",
    "presented_key",
]

# Where ``ApiKeyGate`` leaves the authenticated caller in the request state.
CALLER_KEY = "caller"


@dataclass(frozen=True)
class Caller:
    """Who is calling: ``identity`` is a digest of the API key (or ``"open"`` without auth)."""

    identity: str


OPEN_CALLER = Caller(identity="open")


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
    candidate = presented.encode()
    found: int | None = None
    for index, key in enumerate(keys):
        if hmac.compare_digest(candidate, key.get_secret_value().encode()):
            found = index
    return found


def authenticate(header: str | None, keys: Sequence[SecretStr], *, open_access: bool) -> Caller:
    """The caller for a request, or ``AuthenticationFailed``. Open access admits everyone."""
    key = presented_key(header)
    if open_access and not keys:
        return OPEN_CALLER
    if key is None:
        if open_access:
            return OPEN_CALLER
        raise AuthenticationFailed("Missing API key: send Authorization: Bearer <key>.")
    if match_key(key, keys) is None:
        raise AuthenticationFailed()
    return Caller(identity=hashlib.sha256(key.encode()).hexdigest()[:32])


class ApiKeyGate:
    """Pure ASGI: authenticate every HTTP request from its headers alone, before the body is read."""

    def __init__(self, app: ASGIApp, *, keys: Sequence[SecretStr], open_access: bool) -> None:
        self.app = app
        self.keys = tuple(keys)
        self.open_access = open_access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            caller = authenticate(header(scope, b"authorization"), self.keys, open_access=self.open_access)
        except AuthenticationFailed as exc:
            # The body is never read: the server discards it (or closes the connection).
            await error_response(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})[CALLER_KEY] = caller
        await self.app(scope, receive, send)
