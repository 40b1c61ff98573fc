"""A pure ASGI middleware that enforces ``max_body_bytes`` before anything parses the body.

A declared ``Content-Length`` over the limit is refused at once; otherwise the body is read (and
counted) up front and replayed to the app, so chunked uploads cannot slip past the limit either.
Pure ASGI rather than ``BaseHTTPMiddleware`` so streaming responses pass through untouched.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from service.asgi import header, read_body, replay
from service.errors import PayloadTooLarge, error_response

__all__ = ["BodySizeLimit"]


class BodySizeLimit:
    """Reject HTTP request bodies larger than ``max_bytes`` with an OpenAI-shaped 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        body = await read_body(receive, self.max_bytes)
        if body is None:
            await self._refuse(scope, receive, send)
            return
        await self.app(scope, replay(body, receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        exc = PayloadTooLarge(f"Request body exceeds the limit of {self.max_bytes} bytes.")
        await error_response(exc)(scope, receive, send)


def _declared_length(scope: Scope) -> int:
    try:
        return int(header(scope, b"content-length") or 0)
    except ValueError:
        return 0
