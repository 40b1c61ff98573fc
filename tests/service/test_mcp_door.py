"""The MCP server at /mcp with the official ``mcp`` client, on a real uvicorn gateway over a
scripted pool (no page): the key gate before any MCP, tool listing by the key's scopes, argument
validation, result shaping (text, conversation ids, image content) and errors as ``isError``
results while the service keeps working."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import AudioContent, CallToolResult, ImageContent, ResourceLink, TextContent
from PIL import Image

from browser import Gem, Media, MusicInfo, Tool, TurnSnapshot, UpstreamRejected
from service.mcp.arguments import VIDEO_SIZES, MakeVideoArgs
from simulator.music import mp3
from tests.service.conftest import API_KEY
from tests.service.image_pool import ImagePool
from tests.service.scripted_pool import Hold, Script, account, png
from tests.service.test_admin_accounts import ADMIN_KEY, admin, gateway
from tests.service.test_service_http_chat import wait_until

TOOL_NAMES = {
    "chat",
    "generate_image",
    "edit_image",
    "make_video",
    "video_status",
    "deep_research",
    "make_music",
    "list_models",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ImagePool]]:
    pirate = Gem("aa11", "Pirate", "Talks like a pirate.", "You are a pirate.", premade=False)
    pool = ImagePool(account_list=[account("acct-1"), replace(account("acct-2"), gems=(pirate,))])
    with gateway(tmp_path_factory.mktemp("mcp") / "data", pool) as url:
        yield url, pool


@asynccontextmanager
async def mcp_session(url: str, key: str = API_KEY) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(15, read=30)) as http,
        streamable_http_client(url + "/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def text_of(result: CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


async def test_tools_are_listed_with_strict_schemas(served: tuple[str, ImagePool]) -> None:
    url, _ = served
    async with mcp_session(url) as session:
        listed = (await session.list_tools()).tools
    assert {tool.name for tool in listed} == TOOL_NAMES
    for tool in listed:
        assert tool.description and len(tool.description) > 40
        assert tool.input_schema["additionalProperties"] is False
    chat = next(tool for tool in listed if tool.name == "chat")
    assert chat.input_schema["required"] == ["model", "message"]
    assert set(chat.input_schema["properties"]) == {
        "model",
        "message",
        "conversation_id",
        "system",
        "temporary",
    }


def test_video_sizes_are_the_argument_enum() -> None:
    schema = MakeVideoArgs.schema_for_tool()
    assert schema["properties"]["size"]["enum"] == list(VIDEO_SIZES)


async def test_chat_continues_its_conversation_by_id(served: tuple[str, ImagePool]) -> None:
    url, pool = served
    async with mcp_session(url) as session:
        first = await session.call_tool("chat", {"model": "gemini-2.5-flash", "message": "Hi"})
        assert not first.is_error, text_of(first)
        assert first.content[0] == TextContent(type="text", text="You said: Hi")
        assert first.structured_content is not None
        conversation = first.structured_content["conversation_id"]
        assert conversation.startswith("conv_") and conversation in text_of(first)
        turns = len(pool.requests)
        second = await session.call_tool(
            "chat", {"model": "gemini-2.5-flash", "message": "Again", "conversation_id": conversation}
        )
    assert not second.is_error, text_of(second)
    assert second.structured_content is not None
    assert second.structured_content["conversation_id"] == conversation
    # The gateway's own conversation holds both turns, and the page's chat was continued with
    # only the new message (its history is already there).
    continued = pool.requests[turns]
    assert continued.chat_id is not None and continued.prompt == "Again"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        listed = await http.get(f"{url}/v1/conversations/{conversation}/items", params={"order": "asc"})
    items = listed.json()["data"]
    assert [item["role"] for item in items] == ["user", "assistant", "user", "assistant"]


async def test_another_keys_conversation_does_not_exist(served: tuple[str, ImagePool]) -> None:
    url, _ = served
    async with mcp_session(url) as session:
        first = await session.call_tool("chat", {"model": "gemini-2.5-flash", "message": "Hi"})
    assert first.structured_content is not None
    conversation = first.structured_content["conversation_id"]
    with admin(url) as client:
        other_key = client.post("/keys", json={"name": "other"}).json()["key"]
    async with mcp_session(url, other_key) as other:
        refused = await other.call_tool(
            "chat", {"model": "gemini-2.5-flash", "message": "Hi", "conversation_id": conversation}
        )
    assert refused.is_error and "not found" in text_of(refused)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"model": "gemini-2.5-flash"}, "message: required"),
        ({"model": "gemini-2.5-flash", "message": "hi", "temperature": 2}, "temperature: unknown argument"),
        ({"model": "gemini-2.5-flash", "message": ""}, "message: String should have at least 1 character"),
        ({"model": "no-such-model", "message": "hi"}, "no-such-model"),
        ({"model": "gemini-2.5-flash-imagen", "message": "hi"}, "is not a chat model"),
    ],
)
async def test_bad_chat_arguments_are_error_results(
    served: tuple[str, ImagePool], arguments: dict[str, Any], expected: str
) -> None:
    url, pool = served
    turns = len(pool.requests)
    async with mcp_session(url) as session:
        result = await session.call_tool("chat", arguments)
    assert result.is_error and expected in text_of(result)
    assert "Traceback" not in text_of(result)
    assert len(pool.requests) == turns  # refused before any turn


async def test_an_unknown_tool_is_a_protocol_error(served: tuple[str, ImagePool]) -> None:
    url, _ = served
    async with mcp_session(url) as session:
        with pytest.raises(MCPError, match="Unknown tool: telepathy"):
            await session.call_tool("telepathy", {})


async def test_an_upstream_failure_is_an_error_result_and_the_next_call_works(
    served: tuple[str, ImagePool],
) -> None:
    url, pool = served
    pool.queue(Script(enter_error=UpstreamRejected("Gemini refused the prompt")))
    async with mcp_session(url) as session:
        failed = await session.call_tool("chat", {"model": "gemini-2.5-flash", "message": "Hi"})
        assert failed.is_error and failed.structured_content is not None
        assert failed.structured_content["error"]["status"] >= 500
        assert "Traceback" not in text_of(failed)
        again = await session.call_tool("chat", {"model": "gemini-2.5-flash", "message": "Hi"})
    assert not again.is_error and text_of(again).startswith("You said: Hi")


def decoded_image(block: object) -> Image.Image:
    assert isinstance(block, ImageContent) and block.mime_type == "image/png"
    image = Image.open(io.BytesIO(base64.b64decode(block.data)))
    image.load()
    return image


async def test_generate_and_edit_answer_image_content(served: tuple[str, ImagePool]) -> None:
    url, pool = served
    async with mcp_session(url) as session:
        made = await session.call_tool("generate_image", {"prompt": "a lighthouse", "n": 2})
        assert not made.is_error, text_of(made)
        images = [block for block in made.content if isinstance(block, ImageContent)]
        assert len(images) == 2 and all(decoded_image(block).format == "PNG" for block in images)
        turns = len(pool.requests)
        edited = await session.call_tool(
            "edit_image", {"prompt": "make it blue", "image": base64.b64encode(png()).decode()}
        )
        assert not edited.is_error, text_of(edited)
        assert decoded_image(edited.content[0]).size[0] > 0
        (request,) = pool.requests[turns:]
        assert request.tool is Tool.IMAGE and [a.mime for a in request.attachments] == ["image/png"]
        broken = await session.call_tool("edit_image", {"prompt": "blue", "image": "not base64 at all!"})
        too_many = await session.call_tool("generate_image", {"prompt": "x", "n": 9})
    assert broken.is_error and "(argument: image)" in text_of(broken)
    assert too_many.is_error and "n: " in text_of(too_many)


async def test_list_models_and_tools_follow_the_keys_scopes(served: tuple[str, ImagePool]) -> None:
    url, _ = served
    with admin(url) as client:
        created = client.post("/keys", json={"name": "chatty", "scopes": ["chat", "flash"]})
    key = created.json()["key"]
    async with mcp_session(url, key) as session:
        listed = {tool.name for tool in (await session.list_tools()).tools}
        models = await session.call_tool("list_models", {})
        refused = await session.call_tool("generate_image", {"prompt": "a cat"})
        pro = await session.call_tool("chat", {"model": "gemini-2.5-pro", "message": "hi"})
    assert listed == {"chat", "list_models"}
    assert models.structured_content is not None
    assert {card["id"] for card in models.structured_content["models"]} == {
        "gemini-2.5-flash-free",
        "gemini-2.5-flash",
        "gem-pirate",  # a Gem answers from the default (Flash) model, as on /v1/models
    }
    for result, scope in ((refused, "images"), (pro, "pro")):
        assert result.is_error and result.structured_content is not None
        assert result.structured_content["error"]["code"] == "out_of_scope"
        assert repr(scope) in text_of(result)


async def test_the_key_gate_answers_401_before_any_mcp(served: tuple[str, ImagePool]) -> None:
    url, _ = served
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({}, {"Authorization": "Bearer sk-wrong"}):
        async with httpx.AsyncClient() as http:
            refused = await http.post(url + "/mcp", json=hello, headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "authentication_error"
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {API_KEY}"}) as http:
        for method in ("GET", "DELETE"):  # stateless: no stream to open, no session to end
            assert (await http.request(method, url + "/mcp")).status_code == 405
    # The official client cannot even initialize: the refusal reaches it as an MCP error.
    with pytest.raises(ExceptionGroup) as failed:
        async with mcp_session(url, "sk-wrong"):
            pass
    assert failed.group_contains(MCPError, match="error response", depth=None)


async def test_the_documented_curl_call_works_without_initialize(served: tuple[str, ImagePool]) -> None:
    """docs/guides/mcp.md: stateless, one JSON-RPC POST answers with one ``message`` event."""
    url, _ = served
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "chat", "arguments": {"model": "gemini-2.5-flash", "message": "Hello"}},
    }
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(headers=headers, timeout=15) as http:
        answered = await http.post(url + "/mcp", json=call)
    assert answered.status_code == 200 and answered.headers["content-type"].startswith("text/event-stream")
    (data,) = [line[len("data: ") :] for line in answered.text.splitlines() if line.startswith("data: {")]
    result = json.loads(data)["result"]
    assert result["isError"] is False and result["content"][0]["text"] == "You said: Hello"


async def test_a_keys_account_group_serves_its_tool_calls(served: tuple[str, ImagePool]) -> None:
    """The caller reaches the layers below the services (``CURRENT_CALLER``): a key limited to one
    account is served by that account only, as on /v1."""
    url, pool = served
    with admin(url) as client:
        key = client.post("/keys", json={"name": "grouped", "accounts": ["acct-2"]}).json()["key"]
    async with mcp_session(url, key) as session:
        for _ in range(2):
            answered = await session.call_tool("chat", {"model": "gemini-2.5-flash", "message": "Hi"})
            assert not answered.is_error, text_of(answered)
            assert pool.requests[-1].account_id == "acct-2"


async def test_a_key_over_its_rate_is_refused_before_mcp(served: tuple[str, ImagePool]) -> None:
    """Every MCP message is one request against the key's limits, as on /v1."""
    url, _ = served
    with admin(url) as client:
        key = client.post("/keys", json={"name": "slow-mcp", "per_minute": 2}).json()["key"]
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient(headers=headers, timeout=15) as http:
        statuses = [(await http.post(url + "/mcp", json=listing)).status_code for _ in range(2)]
        refused = await http.post(url + "/mcp", json=listing)
    assert statuses == [200, 200]
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limit_exceeded"
    # Counted like any route: by its template and status.
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as http:
        metrics = (await http.get(url + "/metrics")).text
    counted = [line for line in metrics.splitlines() if 'route="/mcp"' in line]
    assert any('status="200"' in line for line in counted), counted


async def test_a_call_its_client_abandons_gives_its_turn_back(served: tuple[str, ImagePool]) -> None:
    """A client that goes away mid-call (its HTTP request closed) stops the turn: the lease comes
    back at once, not when the answer would have ended."""
    url, pool = served
    release = threading.Event()
    pool.queue(Script([Hold(release, timeout=60)]))
    stops = pool.stops
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "chat", "arguments": {"model": "gemini-2.5-flash", "message": "hold"}},
    }
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json, text/event-stream"}
    try:
        async with (
            httpx.AsyncClient(headers=headers, timeout=15) as http,
            http.stream("POST", url + "/mcp", json=call) as held,
        ):
            assert held.status_code == 200
            assert await asyncio.to_thread(wait_until, lambda: pool.active == 1)
        # The request is closed: the gateway stops the turn and gives the lease back.
        assert await asyncio.to_thread(wait_until, lambda: pool.active == 0 and pool.stops > stops)
    finally:
        release.set()


async def test_a_video_job_from_an_image_runs_and_its_failure_is_an_error_result(
    served: tuple[str, ImagePool],
) -> None:
    """make_video starts the job at once (its image attached to the Create video turn); this
    scripted page answers without a video, so video_status ends with an error result saying so."""
    url, pool = served
    async with mcp_session(url) as session:
        started = await session.call_tool(
            "make_video", {"prompt": "a boat", "size": "720x1280", "image": base64.b64encode(png()).decode()}
        )
        assert not started.is_error, text_of(started)
        assert started.structured_content is not None
        job = started.structured_content["job_id"]
        assert job.startswith("video_") and job in text_of(started)
        status = started
        for _ in range(200):  # bounded: the scripted turn ends at once
            status = await session.call_tool("video_status", {"job_id": job})
            assert status.structured_content is not None
            if status.structured_content["status"] == "failed":
                break
            await asyncio.sleep(0.05)
        unknown = await session.call_tool("video_status", {"job_id": "video_nope"})
    assert status.is_error and status.structured_content is not None
    assert status.structured_content["error"]["code"] == "no_video"
    turn = next(request for request in reversed(pool.requests) if request.tool is Tool.VIDEO)
    assert turn.prompt == "a boat\n\nAspect ratio 9:16." and [a.mime for a in turn.attachments] == [
        "image/png"
    ]
    assert unknown.is_error and "No video job" in text_of(unknown)


async def test_an_accounts_gem_is_a_chat_model_of_the_list(served: tuple[str, ImagePool]) -> None:
    url, pool = served
    async with mcp_session(url) as session:
        models = await session.call_tool("list_models", {})
        answered = await session.call_tool("chat", {"model": "gem-pirate", "message": "Ahoy"})
    assert models.structured_content is not None
    cards = {card["id"]: card for card in models.structured_content["models"]}
    assert cards["gem-pirate"]["output"] == "text" and cards["gem-pirate"]["available"]
    assert not answered.is_error, text_of(answered)
    assert pool.requests[-1].gem_by_account == {"acct-2": "aa11"}  # only the account that has the Gem


async def test_a_temporary_chat_has_no_conversation(served: tuple[str, ImagePool]) -> None:
    url, pool = served
    async with mcp_session(url) as session:
        once = await session.call_tool(
            "chat", {"model": "gemini-2.5-flash", "message": "Hi", "temporary": True}
        )
        kept = await session.call_tool("chat", {"model": "gemini-2.5-flash", "message": "Hi"})
        assert kept.structured_content is not None
        conversation = kept.structured_content["conversation_id"]
        turns = len(pool.requests)
        mixed = await session.call_tool(
            "chat",
            {
                "model": "gemini-2.5-flash",
                "message": "Hi",
                "temporary": True,
                "conversation_id": conversation,
            },
        )
    assert not once.is_error, text_of(once)
    assert once.structured_content is not None
    assert once.structured_content["conversation_id"] is None and once.structured_content["temporary"]
    assert pool.requests[turns - 2].temporary and not pool.requests[turns - 1].temporary
    assert mixed.is_error and "conversation_id" in text_of(mixed)
    assert len(pool.requests) == turns  # refused before any page work


async def test_make_music_answers_audio_content_and_its_link(served: tuple[str, ImagePool]) -> None:
    url, pool = served
    track, mp3_url = mp3("a song about tea"), "https://contribution.usercontent.google.com/download?c=t"
    said = "Here's a track about tea."
    music = MusicInfo(mp3_url, None, None, None)
    pool.queue(Script([TurnSnapshot(cid="c_m", text=said, music=music, completed=True, frames=1)]))
    pool.media[mp3_url] = Media(track, "audio/mpeg", mp3_url)
    with admin(url) as client:
        created = client.post("/keys", json={"name": "composer", "scopes": ["music"]})
    async with mcp_session(url, created.json()["key"]) as session:
        listed = {tool.name for tool in (await session.list_tools()).tools}
        steps: list[str] = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            steps.append(message or "")

        made = await session.call_tool(
            "make_music", {"prompt": "a song about tea"}, progress_callback=on_progress
        )
        refused = await session.call_tool("chat", {"model": "gemini-2.5-flash", "message": "hi"})
    assert listed == {"make_music", "list_models"}
    assert not made.is_error, text_of(made)
    (audio,) = [block for block in made.content if isinstance(block, AudioContent)]
    assert audio.mime_type == "audio/mpeg" and base64.b64decode(audio.data) == track
    (link,) = [block for block in made.content if isinstance(block, ResourceLink)]
    async with httpx.AsyncClient() as http:
        assert (await http.get(str(link.uri))).content == track  # the signed link, no key needed
    assert made.structured_content is not None and made.structured_content["transcript"] == said
    assert said in text_of(made) and pool.requests[-1].tool is Tool.MUSIC
    assert any(line.startswith("Composing the track") for line in steps), steps  # the wait, as progress
    assert refused.is_error  # a music-only key does not chat


async def test_chat_under_temporary_by_default_is_temporary_unless_asked_not(tmp_path: Any) -> None:
    pool = ImagePool(account_list=[account("acct-1")])
    with gateway(tmp_path / "data", pool, temporary_chats_by_default=True) as url:
        async with mcp_session(url) as session:
            default = await session.call_tool("chat", {"model": "gemini-2.5-flash", "message": "Hi"})
            kept = await session.call_tool(
                "chat", {"model": "gemini-2.5-flash", "message": "Hi", "temporary": False}
            )
    assert not default.is_error, text_of(default)
    assert default.structured_content is not None and default.structured_content["conversation_id"] is None
    assert not kept.is_error, text_of(kept)
    assert kept.structured_content is not None and kept.structured_content["conversation_id"]
    assert [request.temporary for request in pool.requests] == [True, False]
