"""The MCP server end to end with the official ``mcp`` client (``mcp.client.streamable_http``):
uvicorn, the real BrowserPool on Chromium, the simulator as Google. One stack, and each tool called
once through it: chat continued by its conversation_id, an image made and one edited (decoded as
images), a video job started and followed to its video, a deep research report, the model list, and
a key the gateway refuses. The details (argument checks, scopes, result shapes) are tested without
a page in tests/service/test_mcp_door.py."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import (
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
)
from PIL import Image

from simulator.answers import sha16
from tests.e2e.conftest import KEY_A, WAIT, Stack, marker, running_stack
from tests.e2e.test_e2e_longrun_videos import VIDEO

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

FLASH = "gemini-2.5-flash"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e-mcp"), ("paid",)) as running:
        yield running


@asynccontextmanager
async def mcp_session(stack: Stack, key: str = KEY_A) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120)) as http,
        streamable_http_client(stack.url + "/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def texts(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def image_of(block: object) -> Image.Image:
    assert isinstance(block, ImageContent) and block.mime_type == "image/png"
    image = Image.open(io.BytesIO(base64.b64decode(block.data)))
    image.load()
    return image


async def test_every_tool_through_the_official_client(stack: Stack) -> None:
    async with mcp_session(stack) as session:
        tools = {tool.name for tool in (await session.list_tools()).tools}
        assert tools == {
            "chat",
            "generate_image",
            "edit_image",
            "make_video",
            "video_status",
            "deep_research",
            "make_music",
            "list_models",
        }

        # Chat, then the same conversation continued by its id: the page's chat is continued.
        word = marker()
        first = await session.call_tool("chat", {"model": FLASH, "message": f"Remember {word}"})
        assert not first.is_error, texts(first)
        (entry,) = stack.requests_with(word)
        assert f"sha256 {sha16(entry['prompt'])}" in texts(first)  # the page's own answer
        assert first.structured_content is not None
        conversation = first.structured_content["conversation_id"]
        later = marker()
        second = await session.call_tool(
            "chat", {"model": FLASH, "message": f"And {later}", "conversation_id": conversation}
        )
        assert not second.is_error, texts(second)
        assert second.structured_content is not None
        assert second.structured_content["conversation_id"] == conversation
        (follow_up,) = stack.requests_with(later)
        assert follow_up["cid"] == entry["cid"] and word not in follow_up["prompt"]

        # An image made, then edited from base64 data: image content, decoded as PNG images.
        made = await session.call_tool("generate_image", {"prompt": f"a lighthouse {marker()}"})
        assert not made.is_error, texts(made)
        picture = image_of(made.content[0])
        assert picture.format == "PNG" and picture.size[0] > 0
        data = base64.b64decode(made.content[0].data)  # type: ignore[union-attr]
        edited = await session.call_tool(
            "edit_image", {"prompt": f"make it blue {marker()}", "image": base64.b64encode(data).decode()}
        )
        assert not edited.is_error, texts(edited)
        assert image_of(edited.content[0]).format == "PNG"

        # A video job, followed to its video: a link and (small) the MP4 itself.
        started = await session.call_tool("make_video", {"prompt": f"a paper boat {marker()}"})
        assert not started.is_error, texts(started)
        assert started.structured_content is not None
        job = started.structured_content["job_id"]
        status = await _until_done(session, job)
        link = next(block for block in status.content if isinstance(block, ResourceLink))
        assert link.mime_type == "video/mp4" and "/media/" in str(link.uri)
        embedded = next(block for block in status.content if isinstance(block, EmbeddedResource))
        assert isinstance(embedded.resource, BlobResourceContents)
        assert base64.b64decode(embedded.resource.blob) == VIDEO

        # Deep research: the report, its steps reported as progress on the way.
        topic = f"tidal energy {marker()}"
        steps: list[str] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            steps.append(message or "")

        report = await session.call_tool("deep_research", {"query": topic}, progress_callback=on_progress)
        assert not report.is_error, texts(report)
        assert texts(report).startswith(f"# Research report: {topic}")
        said = "\n".join(steps)
        assert said.startswith(f"Research started: Research: {topic}") and "Report ready." in said

        models = await session.call_tool("list_models", {})
        assert models.structured_content is not None
        assert FLASH in {card["id"] for card in models.structured_content["models"]}


async def _until_done(session: ClientSession, job: str) -> CallToolResult:
    """Poll video_status until the job completes (bounded; the simulator renders in seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 4 * WAIT
    while True:
        status = await session.call_tool("video_status", {"job_id": job})
        assert not status.is_error, texts(status)
        assert status.structured_content is not None
        if status.structured_content["status"] == "completed":
            return status
        assert loop.time() < deadline, f"the video job is still {status.structured_content['status']}"
        await asyncio.sleep(0.2)


async def test_a_refused_key_never_gets_a_session(stack: Stack) -> None:
    with pytest.raises(ExceptionGroup) as failed:
        async with mcp_session(stack, key="sk-not-a-key"):
            pass
    assert failed.group_contains(MCPError, depth=None)
