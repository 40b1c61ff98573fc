"""The pool's routing against the simulator: per-account and default proxies, scheduling (tab limit,
bounded wait queue, least loaded, a requested account, cooldown per model family), accounts from
cookie exports, and cookies saved after every turn."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest

from browser import (
    AccountSpec,
    AccountState,
    BrowserPool,
    LaunchMode,
    ModeFamily,
    NoCapacity,
    Turn,
    TurnRequest,
)
from browser._capture import STREAM_GENERATE_MARKER
from browser._cookies import PSID, PSIDTS
from browser._store import CookieStore
from tests.browser.conftest import Lender, Sim, cookie
from tests.browser.http_proxy import RecordingProxy, running_proxy
from tests.browser.test_browser_pool import _settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def sim_account(psid: str) -> str:
    """The simulator's request-log ``account_id`` of a ``__Secure-1PSID`` value."""
    return hashlib.sha256(psid.encode()).hexdigest()[:16]


async def run(pool: BrowserPool, request: TurnRequest) -> Turn:
    async with pool.turn(request) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.completed
    return turn


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll ``condition`` (bounded); fails the test when it never holds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


@pytest.fixture
def mid(simulators: dict[str, str]) -> Iterator[Sim]:
    """The mid-2026 simulator, reset before and after the test."""
    control = Sim(simulators["mid2026"])
    control.reset()
    yield control
    control.reset()


Started = Callable[..., AbstractAsyncContextManager[BrowserPool]]


@pytest.fixture
def started(lender: Lender) -> Started:
    """``started(sim, data_dir, **settings)``: a pool in shared mode on the lent Chromium."""

    @asynccontextmanager
    async def start(sim: Sim, data_dir: Path, **extra: object) -> AsyncIterator[BrowserPool]:
        settings = _settings(sim.base_url, data_dir, LaunchMode.SHARED, **extra)
        async with BrowserPool(settings, **await lender.to()) as pool:
            yield pool

    return start


# -- proxies --


@pytest.fixture(params=[LaunchMode.SHARED, LaunchMode.PERSISTENT])
async def pool(
    request: pytest.FixtureRequest, sim_url: str, tmp_path: Path, lender: Lender
) -> AsyncIterator[BrowserPool]:
    """Both launch modes: a proxy is set per context in one, per launched profile in the other."""
    mode = LaunchMode(request.param)
    async with BrowserPool(_settings(sim_url, tmp_path, mode), **await lender.to(mode)) as running:
        yield running


def _generate_posts(proxy: RecordingProxy) -> list[str]:
    return [target for target in proxy.seen if STREAM_GENERATE_MARKER in target]


async def test_only_the_proxied_account_goes_through_its_proxy(pool: BrowserPool, sim: Sim) -> None:
    proxy = RecordingProxy()
    with running_proxy(proxy) as proxy_url:
        await pool.add_account(AccountSpec(name="direct", psid=cookie("paid")))
        await pool.add_account(AccountSpec(name="proxied", psid=cookie("paid"), proxy=proxy_url))
        assert {info.id: info.state for info in pool.accounts()} == {
            "direct": AccountState.READY,
            "proxied": AccountState.READY,
        }
        await run(pool, TurnRequest(prompt="straight", account_id="direct"))
        assert _generate_posts(proxy) == []
        await run(pool, TurnRequest(prompt="through the proxy", account_id="proxied"))
        assert len(_generate_posts(proxy)) == 1
        await run(pool, TurnRequest(prompt="straight again", account_id="direct"))
        assert len(_generate_posts(proxy)) == 1
    outcomes = {e["prompt"]: e["outcome"] for e in sim.requests()}
    assert outcomes == dict.fromkeys(["straight", "through the proxy", "straight again"], "completed")


async def test_the_default_proxy_serves_accounts_without_their_own(
    mid: Sim, tmp_path: Path, started: Started
) -> None:
    proxy = RecordingProxy()
    with running_proxy(proxy) as proxy_url:
        async with started(mid, tmp_path, default_proxy=proxy_url) as pool:
            info = await pool.add_account(AccountSpec(name="plain", psid=cookie("paid")))
            assert info.state is AccountState.READY and info.proxy == proxy_url
            await run(pool, TurnRequest(prompt="via the default"))
            assert len(_generate_posts(proxy)) == 1


# -- scheduling --


async def test_one_tab_per_account_queues_the_second_turn(mid: Sim, tmp_path: Path, started: Started) -> None:
    events: list[str] = []
    async with started(mid, tmp_path, tabs_per_account=1) as pool:

        async def second() -> None:
            async with pool.turn(TurnRequest(prompt="second")) as turn:
                events.append("second leased")
                async for _ in turn:
                    pass

        await pool.add_account(AccountSpec(name="only", psid=cookie("paid")))
        async with pool.turn(TurnRequest(prompt="first")) as first:
            waiting = asyncio.create_task(second())
            await until(lambda: pool._waiting == 1)  # the second turn is in the queue, not on a tab
            async for _ in first:
                pass
            events.append("first finished")
            assert not waiting.done()
        await asyncio.wait_for(waiting, 30)
    assert events == ["first finished", "second leased"]
    first_entry, second_entry = mid.requests()
    assert (first_entry["prompt"], second_entry["prompt"]) == ("first", "second")
    assert first_entry["outcome"] == second_entry["outcome"] == "completed"
    assert first_entry["frame_times"][-1] <= second_entry["time"]


async def test_a_full_queue_and_a_queue_timeout_say_no_capacity(
    mid: Sim, tmp_path: Path, started: Started
) -> None:
    async with started(mid, tmp_path, queue_timeout=1.0, queue_size=1) as pool:
        await pool.add_account(AccountSpec(name="only", psid=cookie("paid")))
        async with pool.turn(TurnRequest(prompt="holds the only tab")):

            async def lease() -> None:
                async with pool.turn(TurnRequest(prompt="waits")):
                    pass

            waiter = asyncio.create_task(lease())
            await until(lambda: pool._waiting == 1)
            with pytest.raises(NoCapacity) as full:  # the queue's one place is taken: no wait at all
                await lease()
            assert full.value.retry_after > 0
            assert not waiter.done()
            with pytest.raises(NoCapacity) as timed_out:  # the waiter gives up after queue_timeout
                await asyncio.wait_for(waiter, 10)
            assert timed_out.value.retry_after > 0
        assert pool.accounts()[0].active_turns == 0
        await run(pool, TurnRequest(prompt="the tab is back"))


@pytest.fixture(scope="module")
async def two_accounts(
    simulators: dict[str, str], tmp_path_factory: pytest.TempPathFactory, lender: Lender
) -> AsyncIterator[tuple[BrowserPool, dict[str, str]]]:
    """Two paid accounts with two tabs each (so only the load decides); yields the pool and psids."""
    psids = {"first": cookie("paid"), "second": cookie("paid")}
    settings = _settings(
        simulators["mid2026"], tmp_path_factory.mktemp("two"), LaunchMode.SHARED, tabs_per_account=2
    )
    async with BrowserPool(settings, **await lender.to()) as pool:
        for name, psid in psids.items():
            await pool.add_account(AccountSpec(name=name, psid=psid))
        yield pool, psids


async def test_concurrent_turns_go_to_the_least_loaded_account(
    two_accounts: tuple[BrowserPool, dict[str, str]], mid: Sim
) -> None:
    pool, psids = two_accounts
    async with pool.turn(TurnRequest(prompt="one")) as one, pool.turn(TurnRequest(prompt="two")) as two:
        assert {one.account_id, two.account_id} == {"first", "second"}

        async def drain(turn: Turn) -> None:
            async for _ in turn:
                pass

        await asyncio.gather(drain(one), drain(two))
    served = {e["prompt"]: e["account_id"] for e in mid.requests()}
    assert served == {"one": sim_account(psids[one.account_id]), "two": sim_account(psids[two.account_id])}


async def test_a_request_for_an_account_goes_to_it(
    two_accounts: tuple[BrowserPool, dict[str, str]], mid: Sim
) -> None:
    pool, psids = two_accounts
    for index in range(2):  # unasked, the idle "first" would win every tie
        turn = await run(pool, TurnRequest(prompt=f"for second {index}", account_id="second"))
        assert turn.account_id == "second"
    assert {e["account_id"] for e in mid.requests()} == {sim_account(psids["second"])}


async def test_pro_is_still_served_while_flash_cools(mid: Sim, tmp_path: Path, started: Started) -> None:
    psid = cookie("paid")
    async with started(mid, tmp_path) as pool:
        await pool.add_account(AccountSpec(name="only", psid=psid))
        mid.behaviours(psid, {"kind": "usage_limit", "reset_seconds": 600})
        with pytest.raises(NoCapacity) as limited:
            await run(pool, TurnRequest(prompt="flash runs out", mode=ModeFamily.FLASH))
        assert "1037" in str(limited.value) and 60 < limited.value.retry_after <= 600
        assert set(pool.accounts()[0].cooling_until) == {ModeFamily.FLASH}
        turn = await run(pool, TurnRequest(prompt="pro still works", mode=ModeFamily.PRO))
        assert turn.account_id == "only" and turn.final is not None
        assert turn.final.served_model_id == "e6fa609c3fa255c0"
        with pytest.raises(NoCapacity) as cooling:
            await run(pool, TurnRequest(prompt="flash again", mode=ModeFamily.FLASH))
        assert 60 < cooling.value.retry_after <= 600
    assert [e["prompt"] for e in mid.requests()] == ["flash runs out", "pro still works"]


# -- accounts from exports, cookies after a turn --


async def test_accounts_from_json_and_netscape_exports_serve_turns(
    mid: Sim, tmp_path: Path, started: Started
) -> None:
    expires = int(time.time()) + 30 * 86400
    json_psid, netscape_psid = cookie("paid"), cookie("paid")
    exported: list[dict[str, object]] = [
        {"name": PSID, "value": json_psid, "domain": ".google.com", "path": "/", "secure": True,
         "httpOnly": True, "sameSite": "no_restriction", "expirationDate": expires},
        {"name": PSIDTS, "value": "ts-from-json", "domain": ".google.com", "path": "/", "secure": True},
        {"name": "elsewhere", "value": "not google", "domain": ".example.com", "path": "/"},
    ]  # fmt: skip
    netscape = "\n".join(
        [
            "# Netscape HTTP Cookie File",
            f"#HttpOnly_.google.com\tTRUE\t/\tTRUE\t{expires}\t{PSID}\t{netscape_psid}",
            f".google.com\tTRUE\t/\tTRUE\t{expires}\t{PSIDTS}\tts-from-netscape",
        ]
    )
    async with started(mid, tmp_path) as pool:
        await pool.add_account(AccountSpec(name="json", cookies=exported))
        await pool.add_account(AccountSpec(name="netscape", cookie_file_text=netscape))
        assert {(i.id, i.state, i.tier) for i in pool.accounts()} == {
            ("json", AccountState.READY, "paid"),
            ("netscape", AccountState.READY, "paid"),
        }
        for account_id, psidts in (("json", "ts-from-json"), ("netscape", "ts-from-netscape")):
            context = pool._accounts[account_id].context
            assert context is not None
            live = {c["name"]: c["value"] for c in await context.cookies()}
            assert live[PSIDTS] == psidts and "elsewhere" not in live
            await run(pool, TurnRequest(prompt=f"from {account_id}", account_id=account_id))
    served = {e["prompt"]: (e["account_id"], e["outcome"]) for e in mid.requests()}
    assert served == {
        "from json": (sim_account(json_psid), "completed"),
        "from netscape": (sim_account(netscape_psid), "completed"),
    }


async def test_a_turn_saves_the_rotated_cookies(mid: Sim, tmp_path: Path, started: Started) -> None:
    psid = cookie("paid")
    store = CookieStore(tmp_path)
    mid.config(rotation_interval=0.3)  # read by the page when it loads
    async with started(mid, tmp_path, cookie_save_interval=3600) as pool:  # no periodic save here
        await pool.add_account(AccountSpec(name="rot", psid=psid, psidts="initial-ts"))
        context = pool._accounts["rot"].context
        assert context is not None
        for _ in range(200):
            live = {c["name"]: c["value"] for c in await context.cookies()}
            if live.get(PSIDTS) != "initial-ts":
                break
            await asyncio.sleep(0.05)
        assert live[PSIDTS] != "initial-ts", "the page did not rotate the cookie"
        # The rotation answer itself is saved too (issue 13 item 12, test_browser_lifecycle.py).
        await run(pool, TurnRequest(prompt="a turn saves cookies"))
        saved = await _stored_psidts(store)
        assert saved is not None and saved != "initial-ts"
        assert saved.startswith("sidts-")
    assert any(r["account_id"] == sim_account(psid) for r in mid.rotations())


async def _stored_psidts(store: CookieStore) -> str | None:
    stored = await store.load("rot")
    assert stored is not None
    return {c.name: c.value for c in stored.cookies}.get(PSIDTS)
