"""Pool features against the simulator: media downloads (text hop, redirect, original size, video
polling), gems, screenshots and capability re-checks, in both local launch modes."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from browser import (
    AccountSpec,
    AccountState,
    BrowserPool,
    HTTPStatusError,
    ModeFamily,
    Tool,
    TurnRequest,
    UpstreamRejected,
    UpstreamTimeout,
)
from browser._capabilities import Capabilities
from browser._media import fetch_media
from tests.browser.conftest import Lender, Sim, cookie
from tests.browser.test_browser_pool import _settings
from tests.support.servers import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
async def pool(
    simulators: dict[str, str], tmp_path_factory: pytest.TempPathFactory, lender: Lender
) -> AsyncIterator[BrowserPool]:
    """One paid account, shared by this module's tests. Shared launch mode only: media, videos,
    gems and checks go through the account's context, whichever way it was launched."""
    directory: Path = tmp_path_factory.mktemp("pool")
    async with BrowserPool(_settings(simulators["oct2026"], directory), **await lender.to()) as running:
        await running.add_account(AccountSpec(name="paid", psid=cookie("paid")))
        yield running


@pytest.fixture
def msim(simulators: dict[str, str]) -> Sim:
    with httpx.Client(base_url=simulators["oct2026"], timeout=10) as client:
        client.post("/_sim/reset").raise_for_status()
    return Sim(simulators["oct2026"])


@pytest.fixture(scope="module")
def redirector(simulators: dict[str, str]) -> Iterator[str]:
    """``/r?to=<url>`` answers 302 to ``url``: a redirect hop on another port of the same host."""

    async def redirect(request: Request) -> RedirectResponse:
        return RedirectResponse(request.query_params["to"], status_code=302)

    with serve(Starlette(routes=[Route("/r", redirect)])) as url:
        yield url


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_MAGIC)
    with Image.open(io.BytesIO(data)) as image:
        return image.size


async def test_image_download_follows_the_text_hop_and_redirects(
    pool: BrowserPool, msim: Sim, redirector: str
) -> None:
    from simulator.answers import image_specs

    prompt = "a lighthouse at dusk"
    async with pool.turn(TurnRequest(prompt=prompt, tool=Tool.IMAGE)) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.images
    url = turn.final.images[0].url
    spec = image_specs(prompt, 1, "", 1)[0]  # the size depends on the prompt alone
    stated = (spec.width, spec.height)

    base = url.rsplit("=", 1)[0]
    original = await turn.fetch_media_full(f"{base}=d-I?alr=yes")
    assert original.mime == "image/png" and "/rd-gg-dl/" in original.url
    assert _png_size(original.data) == stated

    assert await turn.fetch_media(f"{base}=s0") == original.data
    preview = await turn.fetch_media_full(url)
    assert preview.mime == "image/jpeg" and max(Image.open(io.BytesIO(preview.data)).size) == 1024

    hopped = await turn.fetch_media_full(f"{redirector}/r?to={quote(base + '=d-I?alr=yes', safe='')}")
    assert hopped.data == original.data and "/rd-gg-dl/" in hopped.url


async def test_media_needs_the_accounts_cookies(pool: BrowserPool, msim: Sim) -> None:
    async with pool.turn(TurnRequest(prompt="a red kite", tool=Tool.IMAGE)) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None
    url = turn.final.images[0].url
    assert pool._launcher is not None
    bare = await pool._launcher.new_context("no-cookies", None)
    try:
        # An HTTP status is ours to report, not a Gemini code (it used to read as ``gemini_0``).
        with pytest.raises(HTTPStatusError) as info:
            await fetch_media(bare.request, url, base_url=pool.settings.base_url, timeout_s=10)
        assert info.value.status == 403 and not isinstance(info.value, UpstreamRejected)
    finally:
        await bare.close()
    assert (await turn.fetch_media_full(url)).mime == "image/jpeg"


async def test_a_video_job_is_followed_from_its_chip_to_its_chat(pool: BrowserPool, msim: Sim) -> None:
    """The answer carries only the job chip (fidelity.md J1, J3): the job is polled with kwDCne and the
    video read from the chat's history (hNvQHb, field 60) once it rendered."""
    msim.config(video_render_seconds=600)  # rendering until the test says otherwise
    async with pool.turn(TurnRequest(prompt="a kite", mode=ModeFamily.PRO, tool=Tool.VIDEO)) as turn:
        async for _ in turn:
            pass
    final = turn.final
    assert final is not None and final.completed and final.cid and final.video is not None
    assert (final.video.pending, final.video.video_url) == (True, None) and final.video.job_id
    job, cid, account = final.video.job_id, final.cid, turn.account_id
    assert await pool.video_job(account, job, cid) is False
    assert await pool.chat_video(account, cid) is None, "no URL while the job renders"
    msim.config(video_render_seconds=0)  # rendered now
    assert await pool.video_job(account, job, cid) is True
    found = await pool.chat_video(account, cid)
    assert found is not None and found.video_url
    url = found.video_url
    video = await turn.wait_for_media(url, max_wait=30, interval=0.25)
    assert video.ready and video.mime == "video/mp4" and video.data[4:8] == b"ftyp"
    rpcs = [(entry["rpcid"], entry["payload"]) for entry in msim.rpcs()]
    assert ("kwDCne", [final.video.job_id]) in rpcs
    assert any(rpc == "hNvQHb" and payload[0] == final.cid for rpc, payload in rpcs)


async def test_a_chats_video_is_read_back_from_its_history(pool: BrowserPool, msim: Sim) -> None:
    """hNvQHb from inside the account's page finds the video (a video job whose answer was lost
    re-opens its chat this way); in the stream form the answer named the same URLs (J2, J4)."""
    msim.config(video_flow="stream")
    async with pool.turn(TurnRequest(prompt="a kite", mode=ModeFamily.PRO, tool=Tool.VIDEO)) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.video is not None and turn.final.cid
    found = await pool.chat_video(turn.account_id, turn.final.cid)
    assert found is not None
    assert (found.video_url, found.thumbnail_url) == (
        turn.final.video.video_url,
        turn.final.video.thumbnail_url,
    )
    async with pool.turn(TurnRequest(prompt="no video here")) as plain:
        async for _ in plain:
            pass
    assert plain.final is not None and plain.final.cid
    assert await pool.chat_video(plain.account_id, plain.final.cid) is None
    read = {entry["payload"][0] for entry in msim.rpcs() if entry["rpcid"] == "hNvQHb"}
    assert {turn.final.cid, plain.final.cid} <= read


async def test_video_answers_206_until_rendered_then_200(pool: BrowserPool, msim: Sim) -> None:
    """The stream form (the URL in the answer) answers 206 while it renders (J4)."""
    msim.config(video_flow="stream", video_render_seconds=5.0)
    async with pool.turn(TurnRequest(prompt="a paper boat", mode=ModeFamily.PRO, tool=Tool.VIDEO)) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.video is not None
    video_url = turn.final.video.video_url
    assert video_url
    early = await turn.fetch_media_full(video_url)
    assert early.status == 206 and not early.ready and early.data == b""
    with pytest.raises(UpstreamTimeout):
        await turn.wait_for_media(video_url, max_wait=0.3, interval=0.1)
    video = await turn.wait_for_media(video_url, max_wait=30, interval=0.25)
    assert video.ready and video.mime == "video/mp4" and video.data[4:8] == b"ftyp"


async def test_gem_opens_its_page_and_is_sent(pool: BrowserPool, msim: Sim) -> None:
    async with pool.turn(TurnRequest(prompt="a story please", gem="storybook")) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.completed and len(turn.final.images) == 2
    entries = [e for e in msim.requests() if e.get("prompt") == "a story please"]
    assert [e["gem"] for e in entries] == ["storybook"]
    # The page moves to the new chat's URL after sending; the request was made from the gem's page.
    assert re.search(r"/gem/storybook\b", entries[0]["headers"].get("referer", "")), entries[0]["headers"]


async def test_custom_gems_are_listed_and_their_chat_stays_on_the_gem(pool: BrowserPool, msim: Sim) -> None:
    gem = {"name": "Pirate", "description": "Talks like a pirate.", "prompt": "Answer as a pirate."}
    async with httpx.AsyncClient(base_url=msim.base_url, timeout=10) as client:
        (await client.post("/_sim/gems", json={"account": "paid", "gems": [gem]})).raise_for_status()
    gems = await pool.refresh_gems("paid")
    [pirate] = [g for g in gems if not g.premade]
    assert (pirate.name, pirate.description) == ("Pirate", gem["description"])
    assert pirate.instructions == gem["prompt"]
    assert "storybook" in [g.id for g in gems if g.premade] and pool.accounts()[0].gems == gems
    assert any(rpc["rpcid"] == "CNgdBe" for rpc in msim.rpcs())

    on_gem = {"paid": pirate.id}
    async with pool.turn(TurnRequest(prompt="ahoy there", gem_by_account=on_gem)) as turn:
        async for _ in turn:
            pass
    first = turn.final
    assert first is not None and first.completed and "Answering as the Gem \u201cPirate\u201d" in first.text
    follow = TurnRequest(prompt="and then?", gem_by_account=on_gem, account_id="paid", chat_id=first.cid)
    async with pool.turn(follow) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.cid == first.cid and "Pirate" in turn.final.text
    entries = [e for e in msim.requests() if e.get("prompt") in ("ahoy there", "and then?")]
    assert [e["gem"] for e in entries] == [pirate.id, pirate.id]
    assert entries[1]["sent_cid"] == first.cid
    hex_id = first.cid.removeprefix("c_")
    assert f"/gem/{pirate.id}" in entries[0]["headers"].get("referer", "")
    assert f"/gem/{pirate.id}/{hex_id}" in entries[1]["headers"].get("referer", "")


async def test_screenshot_is_a_png_of_the_warm_page(pool: BrowserPool) -> None:
    shot = await pool.screenshot("paid")
    width, height = _png_size(shot)
    assert width > 100 and height > 100


async def test_check_account_rereads_capabilities(pool: BrowserPool, msim: Sim) -> None:
    account = pool._accounts["paid"]
    account.capabilities = Capabilities(tier="anon")  # as if the page had lost its menus
    assert pool.accounts()[0].modes == frozenset()
    info = await pool.check_account("paid")
    assert info.state is AccountState.READY and info.tier == "paid"
    assert info.modes == {ModeFamily.FLASH, ModeFamily.PRO}
    assert {Tool.IMAGE, Tool.VIDEO, Tool.CANVAS, Tool.DEEP_RESEARCH} <= info.tools


async def test_create_music_is_chosen_behind_more_tools_and_its_mp3_downloads(
    pool: BrowserPool, msim: Sim
) -> None:
    """The music row sits behind "More tools" (D4); the page sends code 21 (protocol.md §3.3), the
    answer's final frame names the track at c[12][86] and the MP3 downloads with the account's
    cookies (protocol.md §7)."""
    msim.config(music_render_seconds=0.2)
    assert Tool.MUSIC in pool.accounts()[0].tools
    async with pool.turn(TurnRequest(prompt="a song about tea", tool=Tool.MUSIC)) as turn:
        async for _ in turn:
            pass
    final = turn.final
    assert final is not None and final.completed and final.music is not None
    assert final.music.mp3_url and final.music.mp4_url and "Lyria" in final.text
    assert [entry.get("tool") for entry in msim.requests()] == [21]
    track = await turn.fetch_media_full(final.music.mp3_url)
    assert track.mime == "audio/mpeg" and track.data.startswith(b"ID3")
    assert b"\xff\xf3\x18\xc0" in track.data  # an MPEG-2 Layer III frame header (simulator/music.py)
