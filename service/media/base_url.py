"""The base URL of the request being served, for links built deep inside it.

``MediaDelivery.url_for`` has no request at hand, so ``RequestBaseUrl`` (a pure ASGI layer)
records each HTTP request's own base URL (scheme, ``Host`` header, ASGI ``root_path``) in a context
variable; tasks and worker threads started while serving the request inherit it. Behind a proxy
the request's Host may be an internal name: ``media.public_base_url`` then wins.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

from service.asgi import header

__all__ = ["RequestBaseUrl", "base_url_of", "current_base_url"]

_BASE_URL: ContextVar[str | None] = ContextVar("request_base_url", default=None)
# A Host header is the client's word: anything beyond a host name, an IP literal and a port is
# ignored in favour of the address the server listens on.
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def base_url_of(scope: Scope) -> str:
    scheme = scope.get("scheme", "http")
    host = header(scope, b"host")
    if not host or not _HOST.match(host):
        server = scope.get("server") or ("localhost", None)
        host_name, port = server[0], server[1]
        default = {"http": 80, "https": 443}.get(scheme)
        host = host_name if port in (None, default) else f"{host_name}:{port}"
    return f"{scheme}://{host}{scope.get('root_path', '')}".rstrip("/")


def current_base_url() -> str | None:
    """The base URL of the request this code runs for, if any."""
    return _BASE_URL.get()


class RequestBaseUrl:
    """Pure ASGI: remember every HTTP request's base URL while it is served."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _BASE_URL.set(base_url_of(scope))
        try:
            await self.app(scope, receive, send)
        finally:
            _BASE_URL.reset(token)
