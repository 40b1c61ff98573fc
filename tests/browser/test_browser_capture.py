"""CDP capture streams a body chunk by chunk, for XHR and fetch alike."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from browser._capture import BodyCapture
from browser.errors import TargetClosed, UpstreamTimeout
from tests.browser.streaming_app import Gate, create_app
from tests.conftest import NewContext
from tests.support.servers import serve

pytestmark = pytest.mark.browser

CHUNKS = [b")]}'\n\n", b"12\n[1,2,3]\n", '8\n["😄你好"]\n'.encode(), b"5\n[end]"]


@pytest.fixture
def gate() -> Gate:
    return Gate(CHUNKS)


@pytest.fixture
def app_url(gate: Gate) -> Iterator[str]:
    with serve(create_app(gate)) as url:
        yield url
        gate.release(len(CHUNKS))  # a stalled body ends, so the server stops without waiting on it


@pytest.mark.parametrize("button", ["#go-xhr", "#go-fetch"])
async def test_first_chunk_arrives_before_the_rest_is_written(
    new_context: NewContext, app_url: str, gate: Gate, button: str
) -> None:
    context = await new_context()
    page = await context.new_page()
    await page.goto(app_url)
    gate.release(1)
    received: list[bytes] = []
    async with BodyCapture(page) as capture:
        await page.click(button)
        async for chunk in capture.chunks(first_timeout=10, idle_timeout=10):
            received.append(chunk)
            # Only after each chunk was seen does the server get to write the next one:
            # if the capture buffered until the end, this loop would time out.
            gate.release(1)
    assert b"".join(received) == b"".join(CHUNKS)
    assert len(received) >= 2
    assert capture.response is not None and capture.response.status == 200


async def test_stalled_body_raises_upstream_timeout(
    new_context: NewContext, app_url: str, gate: Gate
) -> None:
    context = await new_context()
    page = await context.new_page()
    await page.goto(app_url)
    gate.release(1)
    async with BodyCapture(page) as capture:
        await page.click("#go-xhr")
        seen = 0
        with pytest.raises(UpstreamTimeout):
            async for _chunk in capture.chunks(first_timeout=10, idle_timeout=0.5):
                seen += 1
    assert seen == 1


async def test_closing_the_page_mid_body_raises_target_closed(
    new_context: NewContext, app_url: str, gate: Gate
) -> None:
    context = await new_context()
    page = await context.new_page()
    await page.goto(app_url)
    gate.release(1)
    async with BodyCapture(page) as capture:
        await page.click("#go-xhr")
        with pytest.raises(TargetClosed):
            async for _chunk in capture.chunks(first_timeout=10, idle_timeout=10):
                await page.close()
    await asyncio.sleep(0)
