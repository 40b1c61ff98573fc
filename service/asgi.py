"""What the pure ASGI layers (``ApiKeyGate``, ``BodySizeLimit``) share: reading the request head."""

from __future__ import annotations

from starlette.types import Scope

__all__ = ["header"]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the (lower-case) header ``name`` in an ASGI HTTP scope."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
