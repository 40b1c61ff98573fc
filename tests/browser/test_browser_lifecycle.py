"""Account lifecycle hardening (issue 13): health from honest signals, re-checks with backoff,
tab bookkeeping, cookie writes, presentation, downgrades, the browser's disconnect, Retry-After."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from browser import (
    AccountInfo,
    AccountSpec,
    AccountState,
    AccountUnavailable,
    BrowserPool,
    DriverError,
    InvalidProxy,
    NoCapacity,
    TurnRequest,
    UnavailableReason,
)
from browser._capture import BodyCapture
from browser._cookies import PSIDTS, for_site, from_session
from browser._driver import PageDriver, PageState
from browser._requests import chat_path
from browser._store import CookieStore
from tests.browser.conftest import PoolOf, Sim, cookie
from tests.browser.test_browser_pool import _settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT = 20.0  # bound on every poll


@pytest.fixture
def mid(simulators: dict[str, str]) -> Iterator[Sim]:
    """The October 2026 simulator's control API, reset around the test."""
    control = Sim(simulators["oct2026"])
    control.reset()
    yield control
    control.reset()


async def _until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _rpcs(sim: Sim) -> list[dict[str, object]]:
    result: list[dict[str, object]] = httpx.get(f"{sim.base_url}/_sim/rpcs", timeout=10).json()
    return result


def _sim_id(psid: str) -> str:
    return hashlib.sha256(psid.encode()).hexdigest()[:16]


async def _ask(pool: BrowserPool, request: TurnRequest) -> tuple[str, str]:
    """(account id, chat id) of one completed turn."""
    async with pool.turn(request) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.completed and turn.final.cid
    return turn.account_id, turn.final.cid


def _state(pool: BrowserPool, account_id: str) -> AccountState:
    return next(info.state for info in pool.accounts() if info.id == account_id)


# -- item 1: markers only in the app's chrome --


@pytest.mark.parametrize(
    "quoted",
    [
        "[Sign in](https://accounts.google.com/ServiceLogin?continue=x) to see more",
        "The page said: This chat couldn't be loaded",
    ],
    ids=["sign-in-link", "chat-missing-notice"],
)
async def test_chat_content_never_decides_the_page_state(
    mid: Sim, tmp_path: Path, quoted: str, pool_of: PoolOf
) -> None:
    async with pool_of(_settings(mid.base_url, tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
        _, cid = await _ask(pool, TurnRequest(prompt=quoted))
        account = pool._accounts["main"]
        assert account.context is not None
        page = await account.context.new_page()
        try:
            # The chat's history now quotes the marker; the app's chrome shows a session.
            state = await PageDriver(page, pool.settings).open(chat_path(cid))
            assert "ServiceLogin" not in quoted or await page.locator('a[href*="ServiceLogin"]').count() == 1
            assert state is PageState.READY
        finally:
            await page.close()
        # And the pool serves a follow-up in that chat on the same account.
        served_by, again = await _ask(
            pool, TurnRequest(prompt="still there?", chat_id=cid, account_id="main")
        )
        assert (served_by, again) == ("main", cid)
        assert _state(pool, "main") is AccountState.READY


async def test_signed_out_accounts_are_rechecked_with_doubling_backoff(
    mid: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    psid = cookie("expired")
    settings = _settings(mid.base_url, tmp_path, block_backoff=1.0, health_interval=0.1)
    async with pool_of(settings) as pool:
        info = await pool.add_account(AccountSpec(name="gone", psid=psid))
        assert info.state is AccountState.SIGNED_OUT and info.recheck_at is not None

        def loads() -> list[float]:
            return [
                float(str(e["time"]))
                for e in _rpcs(mid)
                if e["rpcid"] == "otAQ7b" and e["account_id"] == _sim_id(psid)
            ]

        await _until(lambda: len(loads()) >= 3, "two re-checks of the signed-out account")
        times = loads()
        await _until(lambda: _state(pool, "gone") is AccountState.SIGNED_OUT, "the re-check's verdict")
        # Each re-check comes a backoff after the last verdict at the earliest: 1 s, then 2 s (without
        # the doubling the second gap would be 1 s plus one page load).
        assert times[1] - times[0] >= 1.0 and times[2] - times[1] >= 2.0, times


# -- item 3: tab bookkeeping --


async def test_a_restart_with_a_leased_tab_never_hands_one_page_out_twice(
    mid: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    async with pool_of(_settings(mid.base_url, tmp_path, tabs_per_account=2)) as pool:
        await pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
        old = pool.turn(TurnRequest(prompt="held"))
        await old.__aenter__()
        await pool.check_account("main")  # a new context while ``old`` holds a page of the last one
        await old.__aexit__(None, None, None)
        first, second = pool.turn(TurnRequest(prompt="one")), pool.turn(TurnRequest(prompt="two"))
        async with first, second:
            assert first._page is not None and second._page is not None
            assert first._page is not second._page
            answers = await asyncio.gather(*(_drain(turn) for turn in (first, second)))
        assert [("Echo: one" in a, "Echo: two" in b) for a, b in [answers]] == [(True, True)]


async def _drain(turn: object) -> str:
    text = ""
    async for snapshot in turn:  # type: ignore[attr-defined]
        text = snapshot.text
    return text


async def test_a_page_given_back_twice_is_free_once(mid: Sim, tmp_path: Path, pool_of: PoolOf) -> None:
    async with pool_of(_settings(mid.base_url, tmp_path, tabs_per_account=2)) as pool:
        await pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
        account = pool._accounts["main"]
        page = await account.take_tab()
        account.return_tab(page)
        account.return_tab(page)  # e.g. a release cancelled half-way, then run again
        taken = [await account.take_tab(), await account.take_tab()]
        assert taken[0] is not taken[1]


# -- item 5: failed accounts back off; proxies are validated when added --


async def _refusing_proxy() -> tuple[asyncio.Server, list[int]]:
    """A loopback port that accepts and drops every connection, counting them."""
    seen: list[int] = []

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(1)
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    return server, seen


async def test_failed_accounts_are_rebuilt_with_doubling_backoff(
    mid: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    server, _ = await _refusing_proxy()
    port = server.sockets[0].getsockname()[1]
    settings = _settings(mid.base_url, tmp_path, health_interval=0.2, navigation_timeout=3)
    async with server, pool_of(settings) as pool:
        info = await pool.add_account(
            AccountSpec(name="dead", psid=cookie("paid"), proxy=f"http://127.0.0.1:{port}")
        )
        assert info.state is AccountState.FAILED
        plans: list[float] = []

        def planned() -> bool:
            at = next(i.recheck_at for i in pool.accounts() if i.id == "dead")
            if at is not None and (not plans or at != plans[-1]):
                plans.append(at)
            return len(plans) >= 4

        await _until(planned, "three rebuilds of the failed account")
        # Each rebuild starts after its planned time, and plans the next one backoff later: the
        # gaps are at least 0.4, 0.8 and 1.6 s when the backoff doubles from the 0.2 s tick.
        gaps = [later - earlier for earlier, later in itertools.pairwise(plans)]
        assert all(gap >= 0.2 * 2 ** (n + 1) for n, gap in enumerate(gaps)), gaps
        assert len(pool._rebuilds) <= 1 and len(pool._tasks) == 3  # finished rebuilds are pruned


async def test_a_malformed_proxy_is_refused_when_the_account_is_added(
    mid: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    async with pool_of(_settings(mid.base_url, tmp_path)) as pool:
        with pytest.raises(InvalidProxy) as raised:
            await pool.add_account(
                AccountSpec(name="bad", psid=cookie("paid"), proxy="http://user:pw@nohost")
            )
        assert "pw" not in str(raised.value)
        assert pool.accounts() == []


# -- items 6 and 12: cookie writes --


async def test_an_older_cookie_read_never_overwrites_a_newer_one(tmp_path: Path) -> None:
    store = CookieStore(tmp_path)
    now = time.time()
    assert await store.save("a", from_session("psid-a", "newer"), read_at=now)
    assert not await store.save("a", from_session("psid-a", "older"), read_at=now - 1)
    stored = await store.load("a")
    assert stored is not None
    assert next(c.value for c in stored.cookies if c.name == PSIDTS) == "newer"


async def test_rotated_cookies_are_stored_without_any_turn(mid: Sim, tmp_path: Path, pool_of: PoolOf) -> None:
    mid.config(rotation_interval=0.3)
    settings = _settings(mid.base_url, tmp_path, cookie_save_interval=3600)  # no periodic save
    async with pool_of(settings) as pool:
        await pool.add_account(AccountSpec(name="idle", psid=cookie("paid"), psidts="initial-ts"))
        store = CookieStore(tmp_path)

        def stored_ts() -> str | None:
            stored = store.load_sync("idle")
            return next((c.value for c in stored.cookies if c.name == PSIDTS), None) if stored else None

        await _until(lambda: stored_ts() not in (None, "initial-ts"), "the rotated cookie in the store")
        assert mid.rotations(), "the page rotated"


# -- item 8: what the page can observe --


async def test_the_page_sees_a_normal_chromium(mid: Sim, tmp_path: Path, pool_of: PoolOf) -> None:
    async with pool_of(_settings(mid.base_url, tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
        context = pool._accounts["main"].context
        assert context is not None
        seen = await context.pages[0].evaluate(
            """async () => ({
                webdriver: navigator.webdriver,
                ua: navigator.userAgent,
                brands: (await navigator.userAgentData.getHighEntropyValues([])).brands,
            })"""
        )
    assert seen["webdriver"] is False
    assert "Headless" not in seen["ua"]
    chromium = next(b["version"] for b in seen["brands"] if b["brand"] == "Chromium")
    assert f"Chrome/{chromium}.0.0.0 " in seen["ua"], "the user agent and the client hints agree"
    assert all("Headless" not in b["brand"] for b in seen["brands"])


# -- item 9: a downgraded answer is an account problem --


async def test_an_answer_from_the_signed_out_model_is_never_passed_off(
    mid: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    first, second = cookie("paid"), cookie("paid")
    async with pool_of(_settings(mid.base_url, tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="first", psid=first))
        await pool.add_account(AccountSpec(name="second", psid=second))
        context = pool._accounts["first"].context
        assert context is not None
        # The session ends while the page stays loaded: its cookie is replaced by an unknown one.
        await context.add_cookies(for_site(from_session("unknown-session"), pool.settings.base_url))
        with pytest.raises(AccountUnavailable) as raised:
            async with pool.turn(TurnRequest(prompt="who answers?", account_id="first")) as turn:
                async for _ in turn:
                    pass
        assert raised.value.reason is UnavailableReason.DOWNGRADED
        await _until(lambda: _state(pool, "first") is AccountState.SIGNED_OUT, "the re-check of the account")
        served_by, _ = await _ask(pool, TurnRequest(prompt="next"))
        assert served_by == "second"


# -- item 10: the browser's disconnect --


async def _crash_browser(pool: BrowserPool) -> None:
    launcher = pool._launcher
    assert launcher is not None and launcher._browser is not None
    session = await launcher._browser.new_browser_cdp_session()
    with contextlib.suppress(Exception):
        await session.send("Browser.crash")


async def test_a_dead_browser_is_relaunched_at_once_and_callers_wait_for_it(
    mid: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    # The health loop never runs during the test: only the disconnect can bring the account back.
    settings = _settings(mid.base_url, tmp_path, health_interval=3600)
    async with pool_of(settings, own_browser=True) as pool:
        await pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
        await _crash_browser(pool)
        served_by, _ = await _ask(pool, TurnRequest(prompt="after the crash"))
        assert served_by == "main"
        assert _state(pool, "main") is AccountState.READY


# -- item 13: Retry-After from the real wait --


async def test_retry_after_follows_how_fast_slots_free(mid: Sim, tmp_path: Path, pool_of: PoolOf) -> None:
    settings = _settings(mid.base_url, tmp_path, queue_size=0, queue_timeout=30)
    async with pool_of(settings) as pool:
        await pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
        for n in range(3):
            await _ask(pool, TurnRequest(prompt=f"quick {n}"))
        async with pool.turn(TurnRequest(prompt="holding")):
            with pytest.raises(NoCapacity) as refused:
                async with pool.turn(TurnRequest(prompt="refused")):
                    pass
    assert 1.0 <= refused.value.retry_after < 30


# -- item 4: a body that cannot be streamed is not taken for one that ended --


async def test_a_body_still_arriving_that_cannot_be_streamed_is_a_driver_error(
    mid: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    async with pool_of(_settings(mid.base_url, tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
        context = pool._accounts["main"].context
        assert context is not None
        capture = BodyCapture(context.pages[0])
        await capture.arm()
        try:
            # Chromium refuses to stream a request it does not know; no loadingFinished came.
            capture._request_id = "not-a-request"
            await capture._start_streaming()
            with pytest.raises(DriverError):
                async for _ in capture.chunks(first_timeout=5, idle_timeout=5):
                    pass
        finally:
            await capture.close()


# -- item 5: configured accounts start concurrently --


async def test_configured_accounts_start_concurrently(mid: Sim, tmp_path: Path, pool_of: PoolOf) -> None:
    from pydantic import SecretStr

    from service.pool_adapter import add_configured_accounts
    from service.settings import AccountConfig

    class Recording:
        """The real pool, counting how many starts run at once."""

        def __init__(self, pool: BrowserPool) -> None:
            self.pool, self.running, self.most = pool, 0, 0

        async def add_account(self, spec: AccountSpec) -> AccountInfo:
            self.running += 1
            self.most = max(self.most, self.running)
            try:
                return await self.pool.add_account(spec)
            finally:
                self.running -= 1

    configs = [AccountConfig(name=name, psid=SecretStr(cookie("paid"))) for name in ("a", "b", "c")]
    async with pool_of(_settings(mid.base_url, tmp_path)) as pool:
        recording = Recording(pool)
        assert await add_configured_accounts(recording, configs) == 3
        assert recording.most == 3
        assert {info.id: info.state for info in pool.accounts()} == dict.fromkeys("abc", AccountState.READY)


# -- item 14: an account signing out mid-run --


async def test_an_account_signing_out_mid_run_loses_no_turn_before_its_first_byte(
    mid: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    async with pool_of(_settings(mid.base_url, tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="first", psid=cookie("paid")))
        await pool.add_account(AccountSpec(name="second", psid=cookie("paid")))
        outcomes: list[tuple[str, str]] = []  # (account, "completed" | error after content)
        for n in range(6):
            if n == 2:  # the session of the account the scheduler prefers ends under its page
                context = pool._accounts["first"].context
                assert context is not None
                await context.add_cookies(for_site(from_session("ended-session"), pool.settings.base_url))
            got_content = False
            try:
                async with pool.turn(TurnRequest(prompt=f"run {n}")) as turn:
                    async for snapshot in turn:
                        got_content = got_content or bool(snapshot.text)
                outcomes.append((turn.account_id, "completed"))
            except AccountUnavailable as error:
                assert got_content, "an error before the first byte reached the caller"
                outcomes.append((turn.account_id, error.reason.value))
        assert outcomes[:2] == [("first", "completed")] * 2
        assert outcomes[-3:] == [("second", "completed")] * 3, outcomes
        assert all(outcome in ("completed", "downgraded") for _, outcome in outcomes)
        await _until(lambda: _state(pool, "first") is AccountState.SIGNED_OUT, "the signed-out verdict")
