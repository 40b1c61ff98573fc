"""Request ids: every HTTP request gets one, taken from its ``X-Request-Id`` header when that is a
sensible id (a proxy in front may have set it) or made here, and every response carries it back in
``X-Request-Id``. ``CURRENT_REQUEST_ID`` holds it while the request is served, so anything below
(the dashboard's error list, every log line: ``service.logs``) can name the request without being
handed it. When the response has ended, one line says how it went: method, path (never the query
string: a media link's signature is there), status and duration.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.asgi import header

log = logging.getLogger(__name__)

__all__ = ["CURRENT_REQUEST_ID", "HEADER", "REQUEST_ID_KEY", "RequestIds", "request_id_for", "request_id_of"]

HEADER = "X-Request-Id"
# An id from outside is kept only when it cannot smuggle anything into a header, a log line or the
# dashboard: a bounded run of safe characters. Anything else is replaced, not echoed.
_ACCEPTED = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")

CURRENT_REQUEST_ID: ContextVar[str | None] = ContextVar("current_request_id", default=None)
# The id is also kept in the request's scope: work done for the request in a task of its own (an
# MCP tool runs in its session's task, not the request's) reads it there.
REQUEST_ID_KEY = "request_id"


def request_id_of(scope: Scope) -> str | None:
    """The id ``RequestIds`` gave the request of ``scope``."""
    value = (scope.get("state") or {}).get(REQUEST_ID_KEY)
    return value if isinstance(value, str) else None


def request_id_for(presented: str | None) -> str:
    """The id a request is known by: ``presented`` when acceptable, else a new ``req_<hex>``."""
    if presented is not None and _ACCEPTED.match(presented):
        return presented
    return "req_" + secrets.token_hex(12)


class RequestIds:
    """Pure ASGI: give each HTTP request its id and return it in the response's headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(header(scope, HEADER.lower().encode()))
        scope.setdefault("state", {})[REQUEST_ID_KEY] = request_id
        encoded = request_id.encode()
        started, status = time.monotonic(), 0

        async def with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", encoded)]}
            await send(message)

        token = CURRENT_REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, with_id)
        finally:
            method, path, spent = scope.get("method", ""), scope.get("path", ""), time.monotonic() - started
            fields = {"method": method, "path": path, "status": status or 500, "duration": round(spent, 3)}
            log.info("%s %s answered %d in %.3f s", method, path, status or 500, spent, extra=fields)
            CURRENT_REQUEST_ID.reset(token)
