"""The ONE place this door's errors take Anthropic's shape: ``{"type": "error", "error": {"type",
"message"}}``. ``AnthropicErrors`` wraps the app and rewrites the gateway's error bodies on the
Messages paths, whoever made them (the API-key gate's 401/429, the body-size limit, request
validation, ``service.errors``' handlers): the status stays, Anthropic's error type follows from it.
Errors after the first byte of a stream are ``error`` events (``service.anthropic.events``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import ServiceError, error_body, status_and_type

__all__ = ["AnthropicErrors", "anthropic_error", "error_event", "error_type"]

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def error_type(status: int) -> str:
    return _TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def anthropic_error(status: int, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type(status), "message": message}}


def error_event(exc: BaseException) -> dict[str, Any]:
    """The ``error`` event for a failure after the stream started (unexpected ones stay vague)."""
    status = status_and_type(exc)[0] if isinstance(exc, ServiceError) else 500
    return anthropic_error(status, error_body(exc).error.message)


class AnthropicErrors:
    """Pure ASGI: on paths under ``prefixes``, error responses (status >= 400) get Anthropic's body."""

    def __init__(self, app: ASGIApp, *, prefixes: Sequence[str]) -> None:
        self.app = app
        self.prefixes = tuple(prefixes)

    def _covers(self, scope: Scope) -> bool:
        path = str(scope.get("path", ""))
        return any(path == prefix or path.startswith(prefix + "/") for prefix in self.prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._covers(scope):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body = bytearray()

        async def rewriting(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start" and message["status"] >= 400:
                start = message  # held until the (small) error body is complete
                return
            if start is None:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body", False):
                return
            status = int(start["status"])
            new_body = json.dumps(anthropic_error(status, _message(bytes(body), status))).encode()
            headers = [
                (name, value)
                for name, value in start.get("headers", [])
                if name.lower() not in (b"content-length", b"content-type")
            ]
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(new_body)).encode()),
            ]
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": new_body, "more_body": False})

        await self.app(scope, receive, rewriting)


def _message(body: bytes, status: int) -> str:
    try:
        parsed = json.loads(body)
        message = parsed["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return f"HTTP {status}"
    return str(message)
