"""A music answer's MP4 (the track with its cover image, ``c[12][86][1]``, protocol.md §6): delivered
as a link beside the MP3's on chat completions and as a second resource link of MCP ``make_music``;
an MP4 that cannot be downloaded leaves the MP3 answer whole (docs/guides/music.md). Real uvicorn
over a scripted pool; the links downloaded without a key."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path

import httpx
from mcp.types import AudioContent, ResourceLink

from browser import Media, MusicInfo, TurnSnapshot
from simulator.music import mp3
from tests.service.conftest import Served
from tests.service.scripted_pool import Script, ScriptedPool
from tests.service.test_admin_accounts import gateway
from tests.service.test_mcp_door import mcp_session

MODEL = "gemini-2.5-flash-music"
MP3_URL = "https://contribution.usercontent.google.com/download?c=t&filename=track.mp3"
MP4_URL = "https://contribution.usercontent.google.com/download?c=t&filename=track.mp4"
TRACK = mp3("a song about tea")
VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4
SAID = "Here's a 30-second track for you, made with Lyria."


def _pool(*, video: Media | None) -> ScriptedPool:
    pool = ScriptedPool()
    music = MusicInfo(MP3_URL, None, MP4_URL, None)
    pool.queue(Script([TurnSnapshot(cid="c_1", text=SAID, music=music, completed=True, frames=1)]))
    pool.media[MP3_URL] = Media(TRACK, "audio/mpeg", MP3_URL)
    if video is not None:
        pool.media[MP4_URL] = video
    return pool


def _links(content: str) -> dict[str, str]:
    return dict(re.findall(r"\[(track\.mp[34])\]\((\S+?)\)", content))


def test_the_tracks_mp4_is_a_second_delivered_link(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(_pool(video=Media(VIDEO, "video/mp4", MP4_URL)))
    answer = served.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "a song about tea"}]
    )
    message = answer.choices[0].message
    assert message.audio is not None and base64.b64decode(message.audio.data) == TRACK
    links = _links(message.content or "")
    assert sorted(links) == ["track.mp3", "track.mp4"]
    video = httpx.get(links["track.mp4"], timeout=10)
    assert video.content == VIDEO and video.headers["content-type"] == "video/mp4"
    assert httpx.get(links["track.mp3"], timeout=10).content == TRACK


def test_an_mp4_that_does_not_download_leaves_the_mp3_answer(
    serve_gateway: Callable[..., Served], tmp_path: Path
) -> None:
    for index, video in enumerate((None, Media(b"<html>", "text/html", MP4_URL))):  # failed, not a video
        served = serve_gateway(_pool(video=video), data_dir=tmp_path / f"data-{index}")
        answer = served.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "a song about tea"}]
        )
        message = answer.choices[0].message
        assert message.audio is not None and base64.b64decode(message.audio.data) == TRACK
        assert sorted(_links(message.content or "")) == ["track.mp3"]


async def test_make_music_links_the_mp4_too(tmp_path: Path) -> None:
    with gateway(tmp_path / "data", _pool(video=Media(VIDEO, "video/mp4", MP4_URL))) as url:
        async with mcp_session(url) as session:
            made = await session.call_tool("make_music", {"prompt": "a song about tea"})
        assert not made.is_error and made.structured_content is not None
        (audio,) = [block for block in made.content if isinstance(block, AudioContent)]
        assert base64.b64decode(audio.data) == TRACK
        links = {block.name: block for block in made.content if isinstance(block, ResourceLink)}
        assert sorted(links) == ["track.mp3", "track.mp4"] and links["track.mp4"].mime_type == "video/mp4"
        assert made.structured_content["video_url"] == str(links["track.mp4"].uri)
        async with httpx.AsyncClient(timeout=10) as http:
            assert (await http.get(str(links["track.mp4"].uri))).content == VIDEO
