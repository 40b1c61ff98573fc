"""What the pure ASGI layers (``ApiKeyGate``, ``BodySizeLimit``, the cluster's forwarding) share:
reading the request head, and handing on a body they had to read first."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope

__all__ = ["header", "replay"]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the (lower-case) header ``name`` in an ASGI HTTP scope."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app ``body`` (already read whole) first, then ``receive``'s
    messages (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
