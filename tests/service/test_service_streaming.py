"""SSE framing: data events, keep-alives during silences, one error event, always [DONE]."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from pydantic import BaseModel

from service.chat.protocol import ChatCompletionChunk, ChunkChoice, Delta
from service.errors import UpstreamFailed
from service.streaming import DONE, KEEP_ALIVE, sse_data, sse_events, with_keep_alive


class Item(BaseModel):
    n: int
    note: str | None = None


async def _collect(events: AsyncIterator[str]) -> list[str]:
    return [event async for event in events]


def test_sse_data_framing() -> None:
    assert sse_data(Item(n=1)) == 'data: {"n":1,"note":null}\n\n'
    assert sse_data({"a": "é"}) == 'data: {"a":"é"}\n\n'


def test_response_models_drop_nulls_but_keep_finish_reason() -> None:
    chunk = ChatCompletionChunk(id="c", created=1, model="m", choices=[ChunkChoice(delta=Delta(content="x"))])
    assert json.loads(sse_data(chunk).removeprefix("data: ")) == {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": None}],
    }


async def test_events_end_with_done() -> None:
    async def items() -> AsyncIterator[BaseModel]:
        yield Item(n=1)
        yield Item(n=2)

    assert await _collect(sse_events(items(), keep_alive=5)) == [
        'data: {"n":1,"note":null}\n\n',
        'data: {"n":2,"note":null}\n\n',
        DONE,
    ]


async def test_error_after_first_byte_is_one_error_event_then_done() -> None:
    async def items() -> AsyncIterator[BaseModel]:
        yield Item(n=1)
        raise UpstreamFailed("Gemini rejected the request (code 1037).", gemini_code=1037)

    events = await _collect(sse_events(items(), keep_alive=5))
    assert events[0] == 'data: {"n":1,"note":null}\n\n' and events[-1] == DONE and len(events) == 3
    error = json.loads(events[1].removeprefix("data: "))["error"]
    assert error["code"] == "gemini_1037" and error["type"] == "upstream_error"


async def test_keep_alive_fills_silences_without_losing_items() -> None:
    # The silence lasts until the client has seen two keep-alives: an order of events, not a clock.
    heard = asyncio.Event()

    async def items() -> AsyncIterator[BaseModel]:
        yield Item(n=1)
        await heard.wait()
        yield Item(n=2)

    events: list[str] = []
    async with asyncio.timeout(10):
        async for event in sse_events(items(), keep_alive=0.05):
            events.append(event)
            if events.count(KEEP_ALIVE) == 2:
                heard.set()
    assert events[0] == 'data: {"n":1,"note":null}\n\n'
    assert events[-2:] == ['data: {"n":2,"note":null}\n\n', DONE]
    silence = events[1:-2]
    assert len(silence) >= 2 and set(silence) == {KEEP_ALIVE}
    assert KEEP_ALIVE == ": keep-alive\n\n"


async def test_closing_early_cancels_the_pending_item_and_runs_the_source_cleanup() -> None:
    cleaned = asyncio.Event()

    async def items() -> AsyncIterator[int]:
        try:
            yield 1
            await asyncio.Event().wait()  # silent until the consumer goes away
            yield 2
        finally:
            await asyncio.sleep(0)  # cleanup may await (stop the page, give the lease back)
            cleaned.set()

    stream = with_keep_alive(items(), 0.05)
    assert await anext(stream) == 1
    await anext(stream)  # a keep-alive tick while the source sleeps
    await stream.aclose()  # type: ignore[attr-defined]
    assert cleaned.is_set()
