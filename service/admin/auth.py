"""The admin key: ``Authorization: Bearer <admin key>`` on the admin API and ``/metrics``, or the
dashboard's session cookie, set by its login form. An API key is never an admin key (they are
separate settings), so an ordinary key gets 401 here.

Dashboard sessions are random tokens kept in memory (a restart signs the operator out); the
cookie is HttpOnly and SameSite=Strict, so another site cannot post the dashboard's forms with it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence

from fastapi import Request
from pydantic import SecretStr

from service.auth import match_key, presented_key
from service.errors import AuthenticationFailed

__all__ = ["SESSION_COOKIE", "AdminSessions", "check_admin"]

SESSION_COOKIE = "gateway_admin"
SESSION_TTL = 12 * 3600.0


class AdminSessions:
    """Dashboard sessions: token → expiry (monotonic)."""

    def __init__(self, ttl: float = SESSION_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def open(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self._clock() + self.ttl
        return token

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        now = self._clock()
        with self._lock:
            for stale in [t for t, until in self._tokens.items() if until <= now]:
                del self._tokens[stale]
            return any(secrets.compare_digest(token, known) for known in self._tokens)

    def close(self, token: str | None) -> None:
        with self._lock:
            self._tokens.pop(token or "", None)


def check_admin(request: Request, admin_keys: Sequence[SecretStr], sessions: AdminSessions) -> None:
    """Raise ``AuthenticationFailed`` unless the request carries an admin key or a live session."""
    if not admin_keys:
        raise AuthenticationFailed("The admin API is disabled: set GATEWAY_ADMIN_KEYS.")
    key = presented_key(request.headers.get("authorization"))
    if key is not None:
        if match_key(key, admin_keys) is None:
            raise AuthenticationFailed("Invalid admin key (API keys are not admin keys).")
        return
    if sessions.valid(request.cookies.get(SESSION_COOKIE)):
        return
    raise AuthenticationFailed("Missing admin key: send Authorization: Bearer <admin key>.")
