"""What the pure ASGI layers (``ApiKeyGate``, ``BodySizeLimit``, the cluster's forwarding) share:
reading the request head, reading a body whole within a limit, and handing it on."""

from __future__ import annotations

from starlette.types import Message, Receive, Scope

__all__ = ["header", "read_body", "replay"]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the (lower-case) header ``name`` in an ASGI HTTP scope."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or ``None`` as soon as it passes ``limit`` bytes. A disconnect ends
    the read: the app then sees what came and the disconnect."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


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
