"""Google's SSE stream (``alt=sse``): ``data: <GenerateContentResponse>`` events and no ``[DONE]``
(the google-genai SDK parses every data line as JSON). The status rule is the OpenAI stream's
(``service.streaming.EventStreamResponse``): an error before the first chunk is an HTTP error, a
later one a single ``data: {"error": ...}`` event, both in Google's envelope.

A silence is filled with an empty-text chunk (``KEEP_ALIVE_CHUNK``), not an SSE comment: the
Python google-genai SDK reads every non-blank line that is not ``data:`` as raw JSON (its
``_RawJsonLineBuffer``) and fails on ``: keep-alive``; the JS SDK (Gemini CLI) matches events with
a regular expression anchored on ``data:`` at the start of its buffer, so a comment there holds back
every later event. A chunk whose one part is ``""`` adds nothing to the text (``response.text``
is ``""``; Gemini CLI skips a chunk with an empty text part and does not fail the stream for it)."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from pydantic import BaseModel

from service.chat.compat_wire import FunctionCall, ToolCall, ToolCallDelta
from service.chat.protocol import ChatCompletionChunk
from service.errors import ServiceError, status_and_type
from service.gemini_native.errors import google_error, google_error_response
from service.gemini_native.functions import call_parts
from service.gemini_native.think_tags import ThinkStripper, think_block
from service.gemini_native.translate import from_chunk, usage_metadata
from service.gemini_native.wire import GenerateContentResponse, TextOut
from service.streaming import (
    _SSE_HEADERS,
    EventStreamResponse,
    Receive,
    Scope,
    Send,
    _send_text,
    sse_data,
    with_keep_alive,
)

log = logging.getLogger(__name__)

__all__ = ["KEEP_ALIVE_CHUNK", "GoogleArrayStreamResponse", "GoogleEventStreamResponse", "gemini_chunks"]

# A model turn with one empty text part: nothing to show, and valid JSON for every line reader.
KEEP_ALIVE_CHUNK: dict[str, Any] = {"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}}]}


async def gemini_chunks(
    chunks: AsyncIterator[ChatCompletionChunk], *, include_thoughts: bool = False, think_tags: bool = False
) -> AsyncIterator[GenerateContentResponse]:
    """Gemini chunks for chat chunks: text deltas, then the finish chunk carrying usageMetadata
    (the chat stream sends usage in a chunk of its own after the finish; it is folded in here).
    ``think_tags``: the text starts with a think block (``reasoning_format: think_tags``), taken out."""
    finish: GenerateContentResponse | None = None
    stripper = ThinkStripper() if think_tags else None
    calls: dict[int, ToolCall] = {}  # the answer's tool calls, gathered from their deltas
    thoughts: list[str] = []  # what the answer thought (usageMetadata.thoughtsTokenCount)
    said: list[str] = []  # the text as it came, a think block included (think_tags)
    async with contextlib.aclosing(chunks):  # type: ignore[type-var]
        async for chunk in chunks:
            if chunk.usage is not None and finish is not None:
                thought = think_block("".join(said)) or "".join(thoughts)
                finish.usageMetadata = usage_metadata(chunk.usage, thought)
                continue
            if chunk.choices:
                thoughts.append(chunk.choices[0].delta.reasoning_content or "")
            if chunk.choices and chunk.choices[0].delta.tool_calls:
                _gather(calls, chunk.choices[0].delta.tool_calls)
                continue
            text = None
            if stripper is not None and chunk.choices:
                choice = chunk.choices[0]
                said.append(choice.delta.content or "")
                text = stripper.feed(choice.delta.content or "")
                text += stripper.finish() if choice.finish_reason is not None else ""
            out = from_chunk(chunk, include_thoughts=include_thoughts, text=text)
            if out is None:
                continue
            if out.candidates[0].finishReason is not None:
                if calls:  # Google sends the calls as parts, in the last chunk
                    kept = [
                        part
                        for part in out.candidates[0].content.parts
                        if not isinstance(part, TextOut) or part.text
                    ]
                    out.candidates[0].content.parts = [*kept, *call_parts(list(calls.values()))]
                finish = out  # held until the usage chunk
                continue
            yield out
    if finish is not None:
        yield finish


def _gather(calls: dict[int, ToolCall], deltas: list[ToolCallDelta]) -> None:
    for delta in deltas:
        known = calls.get(delta.index)
        if known is None:
            known = calls[delta.index] = ToolCall(function=FunctionCall(name=delta.function.name or ""))
            if delta.id:
                known.id = delta.id
        known.function.arguments += delta.function.arguments or ""


def _error_payload(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, ServiceError):
        status, _ = status_and_type(exc)
        return google_error(status, exc.message)
    return google_error(500, "Internal error.")


class GoogleEventStreamResponse(EventStreamResponse):
    """``alt=sse``: ``data: <chunk>`` events, empty-text chunks as keep-alives, no ``[DONE]``."""

    headers_out: ClassVar[list[tuple[bytes, bytes]]] = _SSE_HEADERS

    def opening(self, first: BaseModel) -> str:
        return sse_data(first)

    def item(self, chunk: BaseModel) -> str:
        return sse_data(chunk)

    def keep_alive_text(self) -> str:
        return sse_data(KEEP_ALIVE_CHUNK)

    def failure(self, exc: BaseException) -> str:
        return sse_data(_error_payload(exc))

    def closing(self) -> str:
        return ""

    async def _produce(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with contextlib.aclosing(self.chunks) as chunks:  # type: ignore[type-var]
            try:
                first: BaseModel = await anext(chunks)
            except Exception as exc:
                await google_error_response(exc)(scope, receive, send)
                return
            await send({"type": "http.response.start", "status": 200, "headers": self.headers_out})
            await _send_text(send, self.opening(first))
            try:
                async for item in with_keep_alive(chunks, self.keep_alive):
                    await _send_text(
                        send, self.item(item) if isinstance(item, BaseModel) else self.keep_alive_text()
                    )
            except Exception as exc:
                log.warning("gemini stream failed after the first byte: %s", type(exc).__name__)
                await _send_text(send, self.failure(exc))
            await _send_text(send, self.closing())
            await send({"type": "http.response.body", "body": b"", "more_body": False})


class GoogleArrayStreamResponse(GoogleEventStreamResponse):
    """Without ``alt=sse`` Google streams one JSON array, an element per chunk; whitespace between
    elements keeps the connection alive, and a failure is a last ``{"error": ...}`` element."""

    headers_out: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),
    ]

    def opening(self, first: BaseModel) -> str:
        return "[" + first.model_dump_json()

    def item(self, chunk: BaseModel) -> str:
        return ",\r\n" + chunk.model_dump_json()

    def keep_alive_text(self) -> str:
        return "\r\n"

    def failure(self, exc: BaseException) -> str:
        return ",\r\n" + json.dumps(_error_payload(exc))

    def closing(self) -> str:
        return "]"
