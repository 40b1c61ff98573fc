"""The pool end to end against the simulator: streaming, scheduling, cooldown, crash, cancel, cookies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from browser import (
    AccountSpec,
    AccountState,
    BrowserPool,
    LaunchMode,
    ModeFamily,
    PoolSettings,
    TargetClosed,
    TurnRequest,
    UpstreamRejected,
)
from browser._cookies import PSIDTS
from browser._store import CookieStore
from tests.browser.conftest import Sim, cookie
from tests.browser.test_browser_launcher import kill_browser_of
from tests.support.servers import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _settings(
    url: str, data_dir: Path, mode: LaunchMode = LaunchMode.SHARED, **extra: object
) -> PoolSettings:
    values: dict[str, object] = {
        "gemini_url": url,
        "data_dir": data_dir,
        "launch_mode": mode,
        "ui_timeout": 5,
        "navigation_timeout": 15,
        "first_frame_timeout": 15,
        "idle_timeout": 10,
        "queue_timeout": 10,
        "health_interval": 0.5,
        **extra,
    }
    return PoolSettings.model_validate(values)


@pytest.fixture(params=[LaunchMode.SHARED, LaunchMode.PERSISTENT])
async def pool(request: pytest.FixtureRequest, sim_url: str, tmp_path: Path) -> AsyncIterator[BrowserPool]:
    async with BrowserPool(_settings(sim_url, tmp_path, request.param)) as running:
        yield running


async def test_plain_turn_streams(pool: BrowserPool, sim: Sim) -> None:
    info = await pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
    assert info.state is AccountState.READY and info.tier == "paid"
    prompt = "Say hello\nin two lines"
    texts: list[str] = []
    async with pool.turn(TurnRequest(prompt=prompt, mode=ModeFamily.PRO)) as turn:
        assert turn.account_id == "main"
        async for snapshot in turn:
            texts.append(snapshot.text)
    assert turn.final is not None and turn.final.completed
    texts = [text for text in texts if text]  # the locator and thought-only snapshots carry no text yet
    assert len(texts) >= 3, "the answer should arrive as several growing snapshots"
    assert texts[0] and texts[-1].startswith(texts[0]) and len(texts[0]) < len(texts[-1])
    assert "Echo: Say hello\nin two lines" in texts[-1]
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


async def test_paid_only_turns_never_go_to_a_free_account(pool: BrowserPool, sim: Sim) -> None:
    await pool.add_account(AccountSpec(name="free", psid=cookie("free")))
    await pool.add_account(AccountSpec(name="paid", psid=cookie("paid")))
    served: list[str] = []
    for index in range(3):
        async with pool.turn(TurnRequest(prompt=f"paid {index}", paid_only=True)) as turn:
            served.append(turn.account_id)
            async for _ in turn:
                pass
    assert served == ["paid"] * 3
    assert {e["account"] for e in sim.requests() if e.get("prompt", "").startswith("paid ")} == {"paid"}


async def test_usage_limit_cools_then_recovers(pool: BrowserPool, sim: Sim) -> None:
    psid = cookie("paid")
    await pool.add_account(AccountSpec(name="only", psid=psid))
    sim.behaviours(psid, {"kind": "usage_limit", "reset_seconds": 2})
    with pytest.raises(UpstreamRejected) as info:
        async with pool.turn(TurnRequest(prompt="limited")) as turn:
            async for _ in turn:
                pass
    assert info.value.code == 1037
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
    seen: list[str] = []
    async with pool.turn(TurnRequest(prompt=prompt)) as turn:
        async for snapshot in turn:
            seen.append(snapshot.text)
    assert len(seen) == 1, "nothing streams from the network, the page's text comes once at the end"
    assert turn.final is not None and turn.final.completed
    assert turn.final.text.startswith("Turn 1 of chat c_")
    assert f"Echo: {prompt}" in turn.final.text
    entries = [e for e in sim.requests() if e.get("prompt") == prompt]
    assert [(e["behaviour"]["kind"], e["outcome"]) for e in entries] == [("format_drift", "completed")]
    assert pool.accounts()[0].active_turns == 0


async def test_cancel_mid_stream_stops_the_answer_and_returns_the_lease(pool: BrowserPool, sim: Sim) -> None:
    psid = cookie("paid")
    await pool.add_account(AccountSpec(name="only", psid=psid))
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
    for _ in range(100):
        outcomes = [e["outcome"] for e in sim.requests() if e.get("prompt") == "cancel me"]
        if outcomes == ["client_disconnected"]:
            break
        await asyncio.sleep(0.05)
    assert outcomes == ["client_disconnected"]


async def test_killed_browser_fails_the_turn_then_recovers(sim_url: str, sim: Sim, tmp_path: Path) -> None:
    async with BrowserPool(_settings(sim_url, tmp_path)) as pool:
        psid = cookie("paid")
        await pool.add_account(AccountSpec(name="only", psid=psid))
        sim.behaviours(psid, {"kind": "stall", "after_frames": 3})
        killed = False
        with pytest.raises(TargetClosed):
            async with pool.turn(TurnRequest(prompt="doomed")) as turn:
                async for _ in turn:
                    # Snapshots already decoded may still arrive after the kill: kill only once.
                    if not killed:
                        context = pool._accounts["only"].context
                        assert context is not None
                        await kill_browser_of(context)
                        killed = True
        for _ in range(200):
            if pool.accounts()[0].state is AccountState.READY:
                break
            await asyncio.sleep(0.1)
        async with pool.turn(TurnRequest(prompt="alive again")) as turn:
            async for _ in turn:
                pass
        assert turn.final is not None and "alive again" in turn.final.text


@pytest.fixture
def rotating_sim() -> Iterator[str]:
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    settings = SimulatorSettings(first_token_delay=0.05, frame_interval=0.02, rotation_interval=0.3)
    with serve(create_app(settings)) as url:
        yield url


async def test_rotated_cookies_survive_a_restart(rotating_sim: str, tmp_path: Path) -> None:
    spec = AccountSpec(name="rot", psid=cookie("paid"), psidts="initial-ts")
    store = CookieStore(tmp_path)
    async with BrowserPool(_settings(rotating_sim, tmp_path, cookie_save_interval=0.2)) as pool:
        await pool.add_account(spec)
        rotated = None
        for _ in range(100):
            await asyncio.sleep(0.1)
            stored = await store.load("rot")
            assert stored is not None
            rotated = {c.name: c.value for c in stored.cookies}.get(PSIDTS)
            if rotated != "initial-ts":
                break
        assert rotated and rotated != "initial-ts"
    async with BrowserPool(_settings(rotating_sim, tmp_path, cookie_save_interval=60)) as pool:
        await pool.add_account(spec)  # the same export as before: the store's newer cookies win
        context = pool._accounts["rot"].context
        assert context is not None
        live = {c["name"]: c["value"] for c in await context.cookies()}
        stored = await store.load("rot")
        assert stored is not None
        assert live[PSIDTS] != "initial-ts"
