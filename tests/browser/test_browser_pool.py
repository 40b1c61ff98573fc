"""The pool end to end against the simulator: streaming, scheduling, cooldown, crash, cancel, cookies.

Pools run in shared launch mode on the session's lent Chromium; the launch mode is varied where it
changes the path (a whole turn, a killed browser, a crashed page, cookies across a restart), the
page's generation where generation-specific steps are on it (a whole turn, the offered tools)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Error as PlaywrightError

from browser import (
    AccountSpec,
    AccountState,
    BrowserPool,
    LaunchMode,
    ModeFamily,
    NoCapacity,
    PoolSettings,
    TargetClosed,
    Tool,
    TurnRequest,
)
from browser._cookies import PSIDTS
from browser._launcher import profile_dir
from browser._store import CookieStore
from tests.browser.conftest import Lender, Sim, assert_answer_read_from_page, cookie
from tests.browser.test_browser_launcher import kill_browser_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FRAME = 0.1  # seconds between frames while a test measures streaming


def _settings(
    url: str, data_dir: Path, mode: LaunchMode = LaunchMode.SHARED, **extra: object
) -> PoolSettings:
    values: dict[str, object] = {
        "gemini_url": url,
        "data_dir": data_dir,
        "launch_mode": mode,
        "ui_timeout": 5,
        "navigation_timeout": 15,
        "first_frame_timeout": 30,
        "idle_timeout": 30,
        "queue_timeout": 10,
        "health_interval": 0.5,
        **extra,
    }
    return PoolSettings.model_validate(values)


@pytest.fixture
async def pool(sim_url: str, tmp_path: Path, lender: Lender) -> AsyncIterator[BrowserPool]:
    async with BrowserPool(_settings(sim_url, tmp_path), **await lender.to()) as running:
        yield running


@pytest.fixture
async def gen_pool(gen_url: str, tmp_path: Path, lender: Lender) -> AsyncIterator[BrowserPool]:
    """``pool`` on ``gen_url`` (the newest and the oldest page generation)."""
    async with BrowserPool(_settings(gen_url, tmp_path), **await lender.to()) as running:
        yield running


@pytest.fixture(params=[LaunchMode.SHARED, LaunchMode.PERSISTENT])
def mode(request: pytest.FixtureRequest) -> LaunchMode:
    """The launch mode, for the tests whose path it changes."""
    return LaunchMode(request.param)


@pytest.fixture
async def owned_pool(
    mode: LaunchMode, sim_url: str, tmp_path: Path, lender: Lender
) -> AsyncIterator[BrowserPool]:
    """A pool in ``mode`` with a browser of its own (lent Playwright only): its test may kill it."""
    async with BrowserPool(_settings(sim_url, tmp_path, mode), **await lender.to(browser=False)) as running:
        yield running


async def test_a_whole_turn_in_either_launch_mode(owned_pool: BrowserPool, sim: Sim) -> None:
    await owned_pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
    async with owned_pool.turn(TurnRequest(prompt="either mode", mode=ModeFamily.PRO)) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.completed and "Echo: either mode" in turn.final.text


async def test_plain_turn_streams(gen_pool: BrowserPool, gen_sim: Sim) -> None:
    pool, sim = gen_pool, gen_sim
    info = await pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
    assert info.state is AccountState.READY and info.tier == "paid"
    # Slow, coarse pacing so that streaming is measurable: each text frame comes FRAME s after the last.
    sim.config(frame_interval=FRAME, snapshot_chars=30)
    prompt = "Say hello\nin two lines"
    texts: list[str] = []
    first_text: float | None = None
    async with pool.turn(TurnRequest(prompt=prompt, mode=ModeFamily.PRO)) as turn:
        assert turn.account_id == "main"
        async for snapshot in turn:
            if snapshot.text and first_text is None:
                first_text = time.monotonic()
            texts.append(snapshot.text)
        ended = time.monotonic()
    assert turn.final is not None and turn.final.completed
    texts = [text for text in texts if text]  # the locator and thought-only snapshots carry no text yet
    frames = len(set(texts))
    assert frames >= 10, "the answer should arrive as many growing snapshots"
    assert texts[0] and texts[-1].startswith(texts[0]) and len(texts[0]) < len(texts[-1])
    assert "Echo: Say hello\nin two lines" in texts[-1]
    # The first text was handed over as its frame arrived, not when the body ended: the server spent
    # (frames - 1) * FRAME seconds between the first and the last text frame; at least half of that
    # must separate our first text snapshot from the end (buffering until the end gives ~0).
    assert first_text is not None
    assert ended - first_text > 0.5 * (frames - 1) * FRAME
    assert turn.final.served_model_id == "e6fa609c3fa255c0"
    assert [e["outcome"] for e in sim.requests() if e.get("prompt") == prompt] == ["completed"]
    assert pool.accounts()[0].active_turns == 0


async def test_signed_out_account_gets_no_requests(pool: BrowserPool) -> None:
    await pool.add_account(AccountSpec(name="gone", psid=cookie("nobody")))
    await pool.add_account(AccountSpec(name="good", psid=cookie("paid")))
    states = {info.id: info.state for info in pool.accounts()}
    assert states == {"gone": AccountState.SIGNED_OUT, "good": AccountState.READY}
    for index in range(3):
        async with pool.turn(TurnRequest(prompt=f"q{index}")) as turn:
            assert turn.account_id == "good"
            async for _ in turn:
                pass


async def test_a_tool_goes_only_to_accounts_whose_page_offers_it(gen_pool: BrowserPool) -> None:
    """No tier rule: what the page offers decides (fidelity.md D8). Free accounts offer Create image
    but not Create video."""
    pool = gen_pool
    await pool.add_account(AccountSpec(name="free", psid=cookie("free")))
    await pool.add_account(AccountSpec(name="paid", psid=cookie("paid")))
    served: list[str] = []
    for index in range(3):
        async with pool.turn(
            TurnRequest(prompt=f"film {index}", mode=ModeFamily.PRO, tool=Tool.VIDEO)
        ) as turn:
            served.append(turn.account_id)
            async for _ in turn:
                pass
    assert served == ["paid"] * 3
    images = {
        (await _served(pool, TurnRequest(prompt=f"cat {index}", tool=Tool.IMAGE, account_id=name)))
        for index, name in enumerate(("free", "paid"))
    }
    assert images == {"free", "paid"}


async def _served(pool: BrowserPool, request: TurnRequest) -> str:
    async with pool.turn(request) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.completed
    return turn.account_id


async def test_a_spent_free_quota_cools_that_quota_only(pool: BrowserPool, sim: Sim) -> None:
    """Free image generation runs out (FREE: a daily allowance): 1037 with its reset cools the image
    quota on that account; its text turns go on, and images move to another account."""
    sim.config(free_image_turns=1)
    await pool.add_account(AccountSpec(name="free", psid=cookie("free")))
    assert await _served(pool, TurnRequest(prompt="cat one", tool=Tool.IMAGE)) == "free"
    with pytest.raises(NoCapacity) as spent:
        await _served(pool, TurnRequest(prompt="cat two", tool=Tool.IMAGE))
    assert "1037" in str(spent.value)
    (info,) = pool.accounts()
    assert set(info.cooling_until) == {"image"} and info.cooling_until["image"] > time.time()
    assert await _served(pool, TurnRequest(prompt="words still")) == "free"
    await pool.add_account(AccountSpec(name="paid", psid=cookie("paid")))
    assert await _served(pool, TurnRequest(prompt="cat three", tool=Tool.IMAGE)) == "paid"


async def test_usage_limit_cools_then_recovers(pool: BrowserPool, sim: Sim) -> None:
    psid = cookie("paid")
    await pool.add_account(AccountSpec(name="only", psid=psid))
    sim.behaviours(psid, {"kind": "usage_limit", "reset_seconds": 2})
    # Nowhere to move the turn: the usage limit is a capacity answer naming the wait until the reset.
    with pytest.raises(NoCapacity) as info:
        async with pool.turn(TurnRequest(prompt="limited")) as turn:
            async for _ in turn:
                pass
    assert "1037" in str(info.value) and 0 < info.value.retry_after <= 60
    account = pool.accounts()[0]
    assert account.state is AccountState.COOLING
    until = account.cooling_until[ModeFamily.FLASH]
    assert time.time() < until <= time.time() + 60
    await asyncio.sleep(max(0.0, until - time.time()) + 0.2)
    async with pool.turn(TurnRequest(prompt="after the reset")) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and "after the reset" in turn.final.text


async def test_transient_1013_is_retried_once(pool: BrowserPool, sim: Sim) -> None:
    psid = cookie("paid")
    await pool.add_account(AccountSpec(name="only", psid=psid))
    sim.behaviours(psid, {"kind": "error", "code": 1013})
    async with pool.turn(TurnRequest(prompt="retry me")) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and "retry me" in turn.final.text
    assert [e["outcome"] for e in sim.requests() if e.get("prompt") == "retry me"] == ["error", "completed"]


async def test_an_answer_the_decoder_cannot_read_is_read_from_the_page(pool: BrowserPool, sim: Sim) -> None:
    psid = cookie("paid")
    await pool.add_account(AccountSpec(name="only", psid=psid))
    # The site moves the answer to a payload slot our decoder does not know; its own page still shows it.
    sim.behaviours(psid, {"kind": "format_drift"})
    prompt = "read me from the page"
    await assert_answer_read_from_page(pool, prompt)
    entries = [e for e in sim.requests() if e.get("prompt") == prompt]
    assert [(e["behaviour"]["kind"], e["outcome"]) for e in entries] == [("format_drift", "completed")]


async def test_cancel_mid_stream_stops_the_answer_and_returns_the_lease(pool: BrowserPool, sim: Sim) -> None:
    psid = cookie("paid")
    await pool.add_account(AccountSpec(name="only", psid=psid))
    account = pool._accounts["only"]
    # No background reload of /app once the tab is back (it would abort the request by itself and
    # hide the page's stopped answer): only the Stop click may end the request in this test.
    account._blank._delay = 3600
    sim.behaviours(psid, {"kind": "stall", "after_frames": 3})

    async def consume() -> None:
        async with pool.turn(TurnRequest(prompt="cancel me")) as turn:
            async for _ in turn:
                started.set()

    started = asyncio.Event()
    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.accounts()[0].active_turns == 0
    outcomes = await _outcomes(sim, "cancel me", until=["client_disconnected"])
    assert outcomes == ["client_disconnected"]
    assert account.context is not None
    page = account.context.pages[0]
    assert "/app" in page.url
    stopped = page.locator(".stopped-response")
    await stopped.wait_for(state="visible", timeout=10_000)
    assert await stopped.inner_text() == "You stopped this response"


async def _outcomes(sim: Sim, prompt: str, *, until: list[str], within: float = 10.0) -> list[str]:
    """The simulator's outcomes of ``prompt``'s requests once they equal ``until`` (bounded poll)."""
    deadline = time.monotonic() + within
    while True:
        outcomes = [e["outcome"] for e in sim.requests() if e.get("prompt") == prompt]
        if outcomes == until or time.monotonic() > deadline:
            return outcomes
        await asyncio.sleep(0.05)


async def _kill_chromium(pool: BrowserPool, account_id: str) -> None:
    """SIGKILL the Chromium process that serves ``account_id`` and wait until Playwright noticed."""
    context = pool._accounts[account_id].context
    assert context is not None
    if pool.settings.launch_mode is LaunchMode.SHARED:
        await kill_browser_of(context)
        return
    # A persistent profile's SingletonLock is a symlink to "<hostname>-<pid>" of its browser process.
    lock = profile_dir(pool.settings, account_id) / "SingletonLock"
    pid = int(os.readlink(lock).rsplit("-", 1)[1])
    closed = asyncio.Event()
    # The account's context is a Protocol (browser._account_context): its page tells the close.
    context.pages[0].on("close", lambda _: closed.set())
    os.kill(pid, signal.SIGKILL)
    await asyncio.wait_for(closed.wait(), 20)


async def test_killed_browser_fails_the_turn_then_recovers(owned_pool: BrowserPool, sim: Sim) -> None:
    pool = owned_pool
    psid = cookie("paid")
    await pool.add_account(AccountSpec(name="only", psid=psid))
    sim.behaviours(psid, {"kind": "stall", "after_frames": 3})
    killed = False
    with pytest.raises(TargetClosed):
        async with pool.turn(TurnRequest(prompt="doomed")) as turn:
            async for _ in turn:
                # Snapshots already decoded may still arrive after the kill: kill only once.
                if not killed:
                    killed = True
                    await _kill_chromium(pool, "only")
    await _next_turn_works(pool, sim)


async def _next_turn_works(pool: BrowserPool, sim: Sim) -> None:
    assert pool.accounts()[0].active_turns == 0
    for _ in range(200):
        if pool.accounts()[0].state is AccountState.READY:
            break
        await asyncio.sleep(0.1)
    assert pool.accounts()[0].state is AccountState.READY
    async with pool.turn(TurnRequest(prompt="alive again")) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and "alive again" in turn.final.text
    assert [e["outcome"] for e in sim.requests() if e.get("prompt") == "alive again"] == ["completed"]


async def test_crashed_page_fails_the_turn_then_recovers(
    simulators: dict[str, str], tmp_path: Path, mode: LaunchMode, lender: Lender
) -> None:
    sim = Sim(simulators["mid2026"])
    sim.reset()
    async with BrowserPool(_settings(sim.base_url, tmp_path, mode), **await lender.to(mode)) as pool:
        psid = cookie("paid")
        await pool.add_account(AccountSpec(name="only", psid=psid))
        sim.behaviours(psid, {"kind": "stall", "after_frames": 3})
        crashed = False
        with pytest.raises(TargetClosed):
            async with asyncio.timeout(20), pool.turn(TurnRequest(prompt="doomed")) as turn:
                async for _ in turn:
                    if not crashed:
                        crashed = True
                        assert turn._page is not None
                        # CDP Page.crash kills the page's renderer; the call itself never answers.
                        session = await turn._page.context.new_cdp_session(turn._page)
                        with contextlib.suppress(TimeoutError, PlaywrightError):
                            await asyncio.wait_for(session.send("Page.crash"), 1)
        await _next_turn_works(pool, sim)


async def test_rotated_cookies_survive_a_restart(
    sim: Sim, tmp_path: Path, mode: LaunchMode, lender: Lender
) -> None:
    spec = AccountSpec(name="rot", psid=cookie("paid"), psidts="initial-ts")
    store = CookieStore(tmp_path)
    sim.config(rotation_interval=0.3)  # the page rotates __Secure-1PSIDTS every 0.3 s
    lent = await lender.to(mode)
    async with BrowserPool(_settings(sim.base_url, tmp_path, mode, cookie_save_interval=0.2), **lent) as pool:
        await pool.add_account(spec)
        rotated = None
        for _ in range(100):
            await asyncio.sleep(0.1)
            rotated = await _stored_psidts(store, "rot")
            if rotated != "initial-ts":
                break
        assert rotated and rotated != "initial-ts"
    # Closing saved the newest value; from now on the page never rotates again (read at page load).
    last = await _stored_psidts(store, "rot")
    assert last and last != "initial-ts"
    sim.config(rotation_interval=3600)
    rotations = len(sim.rotations())
    async with BrowserPool(_settings(sim.base_url, tmp_path, mode, cookie_save_interval=60), **lent) as pool:
        await pool.add_account(spec)  # the same export as before: the store's newer cookies win
        context = pool._accounts["rot"].context
        assert context is not None
        live = {c["name"]: c["value"] for c in await context.cookies()}
        assert live[PSIDTS] == last
    assert len(sim.rotations()) == rotations


async def _stored_psidts(store: CookieStore, account_id: str) -> str | None:
    stored = await store.load(account_id)
    assert stored is not None
    return {c.name: c.value for c in stored.cookies}.get(PSIDTS)
