"""MCP ``video_status`` on a finished video answers the link it delivered first while that link
lasts: polling stores one copy of the video, not one per call (service.mcp.video_links). Through the
official ``mcp`` client on a real uvicorn gateway over a scripted pool, and the reuse rules on a real
``MediaDelivery`` with a clock of the test's."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from mcp.types import CallToolResult

from service.mcp.video_links import REUSE_MARGIN, VideoLinks, link_lifetime
from service.media.config import MediaSettings
from service.media.delivery import MediaDelivery
from tests.service.scripted_pool import ScriptedPool, finished_video_pool
from tests.service.test_admin_accounts import gateway
from tests.service.test_mcp_door import mcp_session

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8


def _finished_video_pool() -> ScriptedPool:
    return finished_video_pool(VIDEO)


def _media_files(data_dir: Path) -> list[Path]:
    return sorted(path for path in (data_dir / "media").iterdir() if path.suffix == ".mp4")


async def test_polling_a_finished_video_gives_one_link_and_stores_one_copy(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with gateway(data_dir, _finished_video_pool(), video_poll_interval=0.01) as url:
        async with mcp_session(url) as session:
            started = await session.call_tool("make_video", {"prompt": "a heron at dawn"})
            assert started.structured_content is not None, started
            job = started.structured_content["job_id"]
            status: CallToolResult = started
            for _ in range(300):  # bounded: the scripted render is done at the second poll
                status = await session.call_tool("video_status", {"job_id": job})
                assert status.structured_content is not None
                if status.structured_content["status"] != "in_progress":
                    break
                await asyncio.sleep(0.02)
            again = await session.call_tool("video_status", {"job_id": job})
            once_more = await session.call_tool("video_status", {"job_id": job, "include_data": True})
        assert not status.is_error and status.structured_content["status"] == "completed"
        links = [result.structured_content["url"] for result in (status, again, once_more)]  # type: ignore[index]
        assert links[0] == links[1] == links[2]
        assert len(_media_files(data_dir)) == 1
        async with httpx.AsyncClient(timeout=15) as client:
            fetched = await client.get(links[0])
        assert fetched.status_code == 200 and fetched.content == VIDEO


async def test_a_link_is_delivered_again_near_its_end_or_once_its_copy_is_gone(tmp_path: Path) -> None:
    now = [1_000_000.0]
    settings = MediaSettings(public_base_url="http://gw.example", link_ttl=3600, max_age=7200)
    lifetime = link_lifetime(settings)
    assert lifetime == 3600
    async with MediaDelivery(settings, tmp_path, clock=lambda: now[0]) as media:
        links = VideoLinks(clock=lambda: now[0])
        delivered: list[str] = []

        async def deliver() -> str:
            url = await media.url_for(VIDEO, "video/mp4", suffix=".mp4")
            delivered.append(url)
            return url

        first = await links.link("key-a", "video_1", media, lifetime, deliver)
        assert await links.link("key-a", "video_1", media, lifetime, deliver) == first
        other = await links.link("key-b", "video_1", media, lifetime, deliver)  # another key's job
        assert other != first and len(delivered) == 2
        now[0] += lifetime - REUSE_MARGIN - 1  # still a minute of life: the same link
        assert await links.link("key-a", "video_1", media, lifetime, deliver) == first
        now[0] += 2  # less than a minute left: a fresh one
        renewed = await links.link("key-a", "video_1", media, lifetime, deliver)
        assert renewed != first and len(delivered) == 3
        # The copy evicted before its time (the size limit): delivered again at once.
        (tmp_path / "media" / renewed.split("?")[0].rsplit("/", 1)[-1]).unlink()
        assert await links.link("key-a", "video_1", media, lifetime, deliver) != renewed
        assert len(delivered) == 4
        # Two calls at once for a job never seen: one delivery.
        both = await asyncio.gather(
            *(links.link("key-c", "video_2", media, lifetime, deliver) for _ in range(2))
        )
        assert both[0] == both[1] and len(delivered) == 5
