"""The MCP door on a cluster (issue 20 item 3): a tool call whose work lives on another replica is
carried out there (``service.mcp.forwarding``). Replicas as in ``test_cluster_forward`` (real Redis,
real uvicorn on loopback, scripted pools that record which replica typed what), called with the
official ``mcp`` client."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import AudioContent, BlobResourceContents, CallToolResult, EmbeddedResource

from browser import Media, MusicInfo, Tool, TurnSnapshot
from service.chat.longrun_research import report_text
from service.cluster.signing import BY_HEADER, SIGNATURE_HEADER
from service.logs import RequestIdFilter
from simulator.music import mp3
from tests.service.conftest import API_KEY
from tests.service.scripted_pool import Script, growing
from tests.service.test_cluster_forward import (  # noqa: F401 (replicas: a fixture)
    AUTH,
    SECRET,
    WAIT,
    Start,
    broken_owner,
    pair,
    replicas,
    script_a_video,
    until,
)
from tests.service.test_longrun_research import REPORT, planned, reported
from tests.service.test_mcp_door import text_of
from tests.support.servers import free_port

MODEL = "gemini-2.5-flash"


@asynccontextmanager
async def mcp_session(url: str) -> AsyncIterator[ClientSession]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(WAIT, read=WAIT)) as http,
        streamable_http_client(url + "/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def call(url: str, tool: str, arguments: dict[str, Any], **options: Any) -> CallToolResult:
    async with mcp_session(url) as session:
        return await session.call_tool(tool, arguments, **options)


def error_code(result: CallToolResult) -> str | None:
    assert result.structured_content is not None
    return result.structured_content.get("error", {}).get("code")


async def test_a_chat_for_a_model_only_a_serves_is_answered_by_a_through_b_s_mcp(
    replicas: Start,  # noqa: F811 (the fixture imported above)
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(RequestIdFilter())  # as the gateway's own handler: each record's request id
    # Rounds far apart: what B knows of A's accounts is A's first report, made before A served.
    a = replicas("a", 1, lease_ttl=60.0, renew_interval=30.0)
    b = replicas("b", 1, lease_ttl=60.0, renew_interval=30.0)
    assert b.ids() == set()  # A drives the only account
    (mine,) = a.ids()
    a.pool.queue(Script(growing("A answers", cid="c_9"), account_id=mine))

    first = await call(b.url, "chat", {"message": "who answers?", "model": MODEL})

    assert not first.is_error, text_of(first)
    assert first.structured_content is not None
    assert first.structured_content["text"] == "A answers"
    assert a.pool.requests[-1].prompt.endswith("who answers?") and b.pool.requests == []
    conversation = first.structured_content["conversation_id"]
    assert conversation and f"conversation_id: {conversation}" in text_of(first)

    a.pool.queue(Script(growing("A again", cid="c_9"), account_id=mine))
    again = await call(
        b.url, "chat", {"message": "and then?", "model": MODEL, "conversation_id": conversation}
    )

    assert again.structured_content is not None and again.structured_content["text"] == "A again"
    continued = a.pool.requests[-1]
    assert (continued.account_id, continued.chat_id, continued.prompt) == (mine, "c_9", "and then?")
    assert "MCP tool chat forwarded to replica a" in caplog.text
    assert SECRET not in caplog.text
    # One id for the call on both replicas: B's for the request that carried it, sent on to A.
    forwarded = [r for r in caplog.records if r.getMessage() == "MCP tool chat forwarded to replica a"]
    call_id = getattr(forwarded[-1], "request_id", None)
    assert call_id is not None
    answered = [
        r
        for r in caplog.records
        if r.getMessage().startswith("POST /mcp answered") and getattr(r, "request_id", None) == call_id
    ]
    assert len(answered) == 2, "B's line and A's line for the forwarded call"


async def test_music_only_a_can_make_comes_through_b_s_mcp_with_its_progress_lines(
    replicas: Start,  # noqa: F811 (the fixture imported above)
) -> None:
    a = replicas("a", 1, lease_ttl=60.0, renew_interval=30.0)
    b = replicas("b", 1, lease_ttl=60.0, renew_interval=30.0)
    assert b.ids() == set()  # A drives the only account
    (mine,) = a.ids()
    track, mp3_url = mp3("a song about tea"), "https://contribution.usercontent.google.com/download?c=t"
    said = "Here's a track about tea."
    music = MusicInfo(mp3_url, None, None, None)
    a.pool.queue(
        Script([TurnSnapshot(cid="c_m", text=said, music=music, completed=True, frames=1)], account_id=mine)
    )
    a.pool.media[mp3_url] = Media(track, "audio/mpeg", mp3_url)
    steps: list[str] = []

    async def progress(_: float, __: float | None, message: str | None) -> None:
        steps.append(message or "")

    made = await call(b.url, "make_music", {"prompt": "a song about tea"}, progress_callback=progress)

    assert not made.is_error, text_of(made)
    (audio,) = [block for block in made.content if isinstance(block, AudioContent)]
    assert base64.b64decode(audio.data) == track
    assert made.structured_content is not None and made.structured_content["transcript"] == said
    assert a.pool.requests[-1].tool is Tool.MUSIC and b.pool.requests == []
    assert any(line.startswith("Composing the track") for line in steps), steps  # A's wait, as progress


async def test_a_research_started_on_a_is_collected_through_b_s_mcp_with_its_progress(
    replicas: Start,  # noqa: F811 (the fixture imported above)
) -> None:
    research = {"research_max_wait": 0.2, "research_stream_max_wait": WAIT, "research_poll_interval": 0.01}
    a, b, mine = pair(replicas, overrides=research)
    a.pool.queue(planned(on=mine), reported(canvas=None, on=mine))
    a.pool.research_states.extend(["running"] * 100_000)  # polled until the test says done
    arguments = {"query": "tides", "model": "gemini-2.5-flash-deepsearch"}
    body = {"model": arguments["model"], "messages": [{"role": "user", "content": "tides"}]}
    async with httpx.AsyncClient(timeout=WAIT) as http:
        started = await http.post(a.url + "/v1/chat/completions", json=body, headers=AUTH)
    assert started.status_code == 504, started.text  # still running at Google: asked again later
    a.pool.research_reports.append(REPORT)
    b_reads = list(b.pool.lookups)
    steps: list[str] = []

    async def progress(_: float, __: float | None, message: str | None) -> None:
        steps.append(message or "")
        if len(steps) == 1:  # A still waits for the report, and its progress crossed B already
            a.pool.research_states.appendleft("done")

    collected = await call(b.url, "deep_research", arguments, progress_callback=progress)

    assert not collected.is_error, text_of(collected)
    assert collected.structured_content == {"report": report_text(REPORT), "model": arguments["model"]}
    assert steps, "no progress arrived through B"
    assert ("research_report", mine) in a.pool.lookups and b.pool.lookups == b_reads  # read on A


async def test_a_video_made_on_a_through_mcp_is_delivered_through_b_s_mcp(
    replicas: Start,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    a = replicas("a", 1)
    b = replicas("b", 1)
    (mine,) = a.ids()
    data = script_a_video(a, mine)
    started = await call(a.url, "make_video", {"prompt": "a paper boat"})
    assert not started.is_error, text_of(started)
    assert started.structured_content is not None
    job = started.structured_content["job_id"]

    def status() -> str:
        polled = httpx.get(f"{b.url}/v1/videos/{job}", headers=AUTH, timeout=WAIT)
        assert polled.status_code == 200, polled.text
        return str(polled.json()["status"])

    await asyncio.to_thread(until, lambda: status() == "completed", "the job is completed, as B sees it")
    assert not any((tmp_path / "b").rglob(f"{job}.mp4"))  # the file is A's only
    async with mcp_session(b.url) as session:
        polled = await session.call_tool("video_status", {"job_id": job, "include_data": True})
        again = await session.call_tool("video_status", {"job_id": job})

    assert polled.structured_content is not None and polled.structured_content["status"] == "completed"
    assert not polled.is_error, text_of(polled)
    link = polled.structured_content["url"]
    (embedded,) = [block for block in polled.content if isinstance(block, EmbeddedResource)]
    assert isinstance(embedded.resource, BlobResourceContents)
    assert base64.b64decode(embedded.resource.blob) == data  # A's file, carried back through B
    assert again.structured_content is not None and again.structured_content["url"] == link  # one link
    async with httpx.AsyncClient(timeout=WAIT) as http:
        fetched = await http.get(link)
    assert fetched.status_code == 200 and fetched.content == data
    assert "MCP tool video_status forwarded to replica a" in caplog.text


async def test_an_unreachable_owner_s_conversation_is_served_here(
    replicas: Start,  # noqa: F811 (the fixture imported above)
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    # A publishes a URL nothing listens on (it died since B's last look at the cluster).
    a, b, mine = pair(replicas, internal_url=f"http://127.0.0.1:{free_port()}")
    a.pool.queue(Script(growing("Hello from A", cid="c_1"), account_id=mine))
    first = await call(a.url, "chat", {"message": "hi", "model": MODEL})
    assert first.structured_content is not None, text_of(first)
    (theirs,) = b.ids()
    b.pool.queue(Script(growing("B folds", cid="c_b"), account_id=theirs))

    conversation = first.structured_content["conversation_id"]
    answer = await call(
        b.url, "chat", {"message": "still there?", "model": MODEL, "conversation_id": conversation}
    )

    assert not answer.is_error, text_of(answer)
    assert answer.structured_content is not None and answer.structured_content["text"] == "B folds"
    folded = b.pool.requests[-1]
    assert folded.chat_id is None  # a new chat, the history folded into its prompt
    assert "Hello from A" in folded.prompt and "still there?" in folded.prompt
    assert "replica a is unreachable" in caplog.text  # it was tried first


async def test_an_owner_that_fails_after_it_was_reached_is_a_forward_failed_tool_error(
    replicas: Start,  # noqa: F811 (the fixture imported above)
) -> None:
    with broken_owner(b"") as url:
        a, b, mine = pair(replicas, internal_url=url)
        a.pool.queue(Script(growing("Hello from A", cid="c_1"), account_id=mine))
        first = await call(a.url, "chat", {"message": "hi", "model": MODEL})
        assert first.structured_content is not None, text_of(first)
        conversation = first.structured_content["conversation_id"]
        answer = await call(
            b.url, "chat", {"message": "anyone?", "model": MODEL, "conversation_id": conversation}
        )

    assert answer.is_error and error_code(answer) == "forward_failed"
    assert "'a'" in text_of(answer)


def test_a_forged_forward_of_a_tool_call_is_refused(
    replicas: Start,  # noqa: F811 (the fixture imported above)
) -> None:
    b = replicas("b", 1)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_models"}}
    headers = {
        **AUTH,
        "accept": "application/json, text/event-stream",
        BY_HEADER: "a",
        SIGNATURE_HEADER: "t=1,v1=00",
    }
    refused = httpx.post(b.url + "/mcp", json=body, headers=headers, timeout=WAIT)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "invalid_forward_signature"
