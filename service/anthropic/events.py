"""Anthropic's stream: chat chunks (``service.chat``) become ``message_start``, then per block
``content_block_start``/``_delta``/``_stop`` (``thinking_delta`` + ``signature_delta`` for thoughts
when thinking was asked for, ``text_delta`` for the answer, ``input_json_delta`` for a tool call),
``message_delta`` (stop_reason, usage) and ``message_stop``; ``ping`` fills silences. Frames are
``event: <type>`` + ``data:``, as Anthropic's SDKs dispatch on the event name.

The first chunk is awaited before any byte is sent, so an error before it is an HTTP error (in
Anthropic's shape, ``service.anthropic.errors``); a later one is an ``error`` event.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from service.anthropic.convert import new_message_id, signature_for, stop_reason_for, thinking_enabled
from service.anthropic.errors import error_event
from service.anthropic.protocol import MessagesRequest
from service.chat.protocol import ChatCompletionChunk
from service.errors import error_response
from service.streaming import EventStreamResponse, Receive, Scope, Send, with_keep_alive

log = logging.getLogger(__name__)

__all__ = ["AnthropicEventStream", "MessageEvents", "frame"]

Event = dict[str, Any]
_PING: Event = {"type": "ping"}
_SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def frame(event: Event) -> str:
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event['type']}\ndata: {data}\n\n"


class MessageEvents:
    """The event sequence of one message, fed chat chunk by chat chunk."""

    def __init__(self, request: MessagesRequest, input_tokens: int = 0) -> None:
        self.request = request
        self.thinking = thinking_enabled(request)
        self.index = -1
        self.open: str | None = None  # "thinking", "text" or "tool:<n>": the block being streamed
        self.thoughts = ""
        self.finish_reason: str | None = None
        self.stop_sequence: str | None = None  # the sequence the chat says cut the answer
        self.input_tokens = input_tokens
        self.output_tokens = 0

    def start(self) -> list[Event]:
        message: Event = {
            "id": new_message_id(),
            "type": "message",
            "role": "assistant",
            "model": self.request.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self.input_tokens, "output_tokens": 0},
        }
        return [{"type": "message_start", "message": message}]

    def feed(self, chunk: ChatCompletionChunk) -> list[Event]:
        events: list[Event] = []
        if chunk.usage is not None:
            self.input_tokens = chunk.usage.prompt_tokens
            self.output_tokens = chunk.usage.completion_tokens
        for choice in chunk.choices:
            delta = choice.delta
            if delta.reasoning_content and self.thinking:
                events += self._switch("thinking")
                self.thoughts += delta.reasoning_content
                events.append(self._delta({"type": "thinking_delta", "thinking": delta.reasoning_content}))
            if delta.content:
                events += self._switch("text")
                events.append(self._delta({"type": "text_delta", "text": delta.content}))
            for call in delta.tool_calls or ():
                if call.id is not None:  # a call's first delta names it; its arguments follow
                    use = {"type": "tool_use", "id": call.id, "name": call.function.name or "", "input": {}}
                    events += self._switch(f"tool:{call.index}", use)
                if call.function.arguments:
                    json_delta = {"type": "input_json_delta", "partial_json": call.function.arguments}
                    events.append(self._delta(json_delta))
            if choice.finish_reason is not None:
                self.finish_reason = choice.finish_reason
                self.stop_sequence = choice.stop_sequence
        return events

    def finish(self) -> list[Event]:
        events = self._switch("text") if self.index < 0 else []  # a message has a text block at least
        events += self._close()
        delta = {
            "stop_reason": stop_reason_for(self.finish_reason, self.stop_sequence),
            "stop_sequence": self.stop_sequence,
        }
        events.append(
            {"type": "message_delta", "delta": delta, "usage": {"output_tokens": self.output_tokens}}
        )
        events.append({"type": "message_stop"})
        return events

    def _switch(self, kind: str, block: Event | None = None) -> list[Event]:
        if self.open == kind:
            return []
        events = self._close()
        self.index += 1
        self.open = kind
        if block is None:
            block = {"type": "text", "text": ""} if kind == "text" else {"type": "thinking", "thinking": ""}
        events.append({"type": "content_block_start", "index": self.index, "content_block": block})
        return events

    def _close(self) -> list[Event]:
        if self.open is None:
            return []
        events: list[Event] = []
        if self.open == "thinking":
            events.append(self._delta({"type": "signature_delta", "signature": signature_for(self.thoughts)}))
        events.append({"type": "content_block_stop", "index": self.index})
        self.open = None
        return events

    def _delta(self, delta: Event) -> Event:
        return {"type": "content_block_delta", "index": self.index, "delta": delta}


class AnthropicEventStream(EventStreamResponse):
    """Chat chunks streamed as Anthropic's events (the disconnect handling is the parent's). With
    ``opens_early`` (a serving that takes long before its first chunk: images, research) the stream
    opens at once with ``message_start`` and pings, and any failure is an ``error`` event."""

    def __init__(
        self,
        chunks: AsyncIterator[ChatCompletionChunk],
        events: MessageEvents,
        *,
        keep_alive: float,
        cleanup_timeout: float,
        opens_early: bool = False,
    ) -> None:
        super().__init__(chunks, keep_alive=keep_alive, cleanup_timeout=cleanup_timeout)
        self.events = events
        self.opens_early = opens_early

    async def _produce(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with contextlib.aclosing(self.chunks) as chunks:  # type: ignore[type-var]
            opening = self.events.start()
            if not self.opens_early:
                try:
                    opening += self.events.feed(await anext(chunks))  # type: ignore[arg-type]
                except StopAsyncIteration:
                    pass
                except Exception as exc:
                    await error_response(exc)(scope, receive, send)
                    return
            await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
            await self._send(send, opening)
            try:
                async for item in with_keep_alive(chunks, self.keep_alive):
                    if isinstance(item, ChatCompletionChunk):
                        await self._send(send, self.events.feed(item))
                    else:
                        await self._send(send, [_PING])
                await self._send(send, self.events.finish())
            except Exception as exc:
                log.warning("anthropic stream failed after the first byte: %s", type(exc).__name__)
                await self._send(send, [error_event(exc)])
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _send(send: Send, events: list[Event]) -> None:
        if events:
            text = "".join(frame(event) for event in events)
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})
