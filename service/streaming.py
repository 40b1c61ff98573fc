"""Server-sent events: framing, keep-alives, the error-after-first-byte contract, and the ASGI
response that stops the producer when the client goes away.

Frames are ``data: <json>\\n\\n``; a silence longer than the keep-alive interval is filled with the
comment ``: keep-alive\\n\\n``; an error raised after the first byte becomes one
``data: {"error": ...}`` event (the status code can no longer change); every stream ends with
``data: [DONE]``.

On disconnect the producing task is cancelled once (plain asyncio cancellation, not a level-
triggered cancel scope) and the chunk iterator is closed, so its ``finally`` blocks can still await
their cleanup: stopping the page's answer and returning the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.responses import Response

from service.errors import ClientDisconnected, error_body, error_response

log = logging.getLogger(__name__)

__all__ = [
    "DONE",
    "KEEP_ALIVE",
    "EventStreamResponse",
    "cancel_on_disconnect",
    "settle",
    "sse_data",
    "sse_events",
    "wait_for_disconnect",
    "with_keep_alive",
]

DONE = "data: [DONE]\n\n"
KEEP_ALIVE = ": keep-alive\n\n"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
T = TypeVar("T")


def sse_data(payload: BaseModel | dict[str, Any]) -> str:
    """One ``data:`` event; a model is dumped as its own serializer says (response models drop
    their null fields)."""
    if isinstance(payload, BaseModel):
        text = payload.model_dump_json()
    else:
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return f"data: {text}\n\n"


class _Tick:
    """Marker for "nothing arrived within the keep-alive interval"."""


_TICK = _Tick()


async def with_keep_alive(source: AsyncIterator[Any], interval: float) -> AsyncIterator[Any]:
    """Yield the items of ``source``, and ``_TICK`` after each ``interval`` of silence.

    The pending ``__anext__`` runs in its own task so waiting for it can time out without
    cancelling it; when the consumer stops early that task is cancelled and awaited, then the
    source is closed.
    """
    pending: asyncio.Task[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(source.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=interval)
            if not done:
                yield _TICK
                continue
            task, pending = pending, None
            try:
                item = task.result()
            except StopAsyncIteration:
                return
            yield item
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


async def sse_events(chunks: AsyncIterator[BaseModel], *, keep_alive: float) -> AsyncIterator[str]:
    """SSE text for a chunk iterator: data events, keep-alives, one error event, then ``[DONE]``."""
    try:
        async for item in with_keep_alive(chunks, keep_alive):
            yield KEEP_ALIVE if item is _TICK else sse_data(item)
    except Exception as exc:
        log.warning("stream failed after the first byte: %s", type(exc).__name__)
        yield sse_data(error_body(exc))
    yield DONE


class EventStreamResponse(Response):
    """Streams a chunk iterator as SSE; the first chunk decides the status.

    The first chunk is awaited before any byte is sent (that is when the lease is taken), so an
    error raised before it (unknown model, no capacity, no healthy account) is a real HTTP error
    with its own status. Later errors follow the error-event contract of ``sse_events``. A client
    disconnect at any point cancels the producer once and closes the chunk iterator.
    """

    media_type = "text/event-stream"

    def __init__(
        self, chunks: AsyncIterator[BaseModel], *, keep_alive: float, cleanup_timeout: float
    ) -> None:
        super().__init__(status_code=200, media_type=self.media_type)
        self.chunks = chunks
        self.keep_alive = keep_alive
        self.cleanup_timeout = cleanup_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        producer = asyncio.ensure_future(self._produce(scope, receive, send))
        watcher = asyncio.ensure_future(wait_for_disconnect(receive))
        try:
            await asyncio.wait({producer, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            if not producer.done():
                producer.cancel()
            await settle(producer, self.cleanup_timeout)

    async def _produce(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with contextlib.aclosing(self.chunks) as chunks:  # type: ignore[type-var]
            try:
                first = await anext(chunks)
            except Exception as exc:
                await error_response(exc)(scope, receive, send)
                return
            await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
            await _send_text(send, sse_data(first))
            async for text in sse_events(chunks, keep_alive=self.keep_alive):
                await _send_text(send, text)
            await send({"type": "http.response.body", "body": b"", "more_body": False})


class OpenEventStreamResponse(EventStreamResponse):
    """An event stream that starts before its first event, for work that takes long before it has
    anything to say (an image being made, a research being planned and confirmed): the request was
    checked already, so the client gets 200 and keep-alives at once; a later failure is the error
    event of ``sse_events``."""

    async def _produce(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with contextlib.aclosing(self.chunks) as chunks:  # type: ignore[type-var]
            await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
            await _send_text(send, KEEP_ALIVE)
            async for text in sse_events(chunks, keep_alive=self.keep_alive):
                await _send_text(send, text)
            await send({"type": "http.response.body", "body": b"", "more_body": False})


_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


async def _send_text(send: Send, text: str) -> None:
    await send({"type": "http.response.body", "body": text.encode(), "more_body": True})


async def cancel_on_disconnect(work: Awaitable[T], receive: Receive, *, cleanup_timeout: float) -> T:
    """Await ``work`` unless the client disconnects first; then cancel it once and let it clean up.

    For non-streaming routes: a client that gives up must still stop the page and free the lease.
    """
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not task.done():
            task.cancel()
            await settle(task, cleanup_timeout)
    if task.cancelled():
        raise ClientDisconnected("The client disconnected before the answer was ready.")
    return task.result()


async def settle(task: asyncio.Future[Any], limit: float) -> None:
    """Wait (bounded) for a cancelled task's cleanup; a dead client's OSError is not an error."""
    done, _ = await asyncio.wait({task}, timeout=limit)
    if not done:
        log.warning("cleanup did not finish within %.1fs", limit)
        return
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(exc, OSError):
        log.warning("stream ended with %s", type(exc).__name__)


async def wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
