"""Pacing per egress IP in real Chromium, with two loopback proxies standing for two IPs (A and B):
accounts behind A hit A's budget (a caller waits for a concurrency slot, or is refused with an honest
Retry-After when the minute window frees too late) while the account behind B serves at full speed;
a captcha met behind A cools every account behind A and none behind B.

The simulator is not Google, so ``egress_pacing=on`` is set explicitly (``auto`` would leave it off)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from browser import (
    AccountSpec,
    AccountState,
    BrowserPool,
    EgressBusy,
    EgressInfo,
    NoCapacity,
    TurnRequest,
    UpstreamRejected,
)
from tests.browser.conftest import Lender, Sim, cookie
from tests.browser.http_proxy import RecordingProxy, running_proxy
from tests.browser.test_browser_pool import _settings
from tests.browser.test_browser_pool_routing import run, until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def proxies() -> Iterator[tuple[str, str]]:
    """Two loopback proxies: two egresses as far as the pool can tell."""
    with running_proxy(RecordingProxy()) as a, running_proxy(RecordingProxy()) as b:
        yield a, b


Paced = Callable[..., Any]


@pytest.fixture
def paced(lender: Lender, sim: Sim, tmp_path: Path) -> Paced:
    @asynccontextmanager
    async def start(**extra: object) -> AsyncIterator[BrowserPool]:
        settings = _settings(sim.base_url, tmp_path, egress_pacing="on", **extra)
        async with BrowserPool(settings, **await lender.to()) as pool:
            yield pool

    return start


def egress(pool: BrowserPool, name: str) -> EgressInfo:
    return next(info for info in pool.egresses() if info.name == name)


async def test_a_full_minute_refuses_with_retry_after_while_the_other_egress_serves(
    paced: Paced, proxies: tuple[str, str]
) -> None:
    a, b = proxies
    # A: two turns a minute; B: the default limits, far above what this test sends.
    async with paced(egress_limits={a: {"per_minute": 2}}, egress_per_minute=100) as pool:
        for name, proxy in (("a1", a), ("a2", a), ("b1", b)):
            await pool.add_account(AccountSpec(name=name, psid=cookie("paid"), proxy=proxy))
        assert {info.id: info.egress for info in pool.accounts()} == {"a1": a, "a2": a, "b1": b}

        await run(pool, TurnRequest(prompt="one", account_id="a1"))
        await run(pool, TurnRequest(prompt="two", account_id="a2"))
        # A's minute is full and frees a slot only ~60 s after its first start: later than the queue
        # timeout (10 s), so the caller is told when to come back instead of waiting in vain.
        with pytest.raises(EgressBusy) as refused:
            await run(pool, TurnRequest(prompt="three", account_id="a1"))
        assert refused.value.egresses == (a,)
        assert 10 < refused.value.retry_after <= 60
        assert isinstance(refused.value, NoCapacity), "the service maps it like any capacity refusal (429)"

        # Unpinned turns skip A's accounts (over budget) and go through B, none waiting or refused.
        served = [(await run(pool, TurnRequest(prompt=f"b{i}"))).account_id for i in range(3)]
        assert served == ["b1", "b1", "b1"]
        info_a, info_b = egress(pool, a), egress(pool, b)
        assert (info_a.started, info_a.rejected, info_a.started_last_minute) == (2, 1, 2)
        assert (info_b.started, info_b.rejected, info_b.waiting) == (3, 0, 0)
        assert info_a.accounts == ("a1", "a2") and info_b.accounts == ("b1",)
        assert info_a.next_start_in > 0 and info_b.next_start_in == 0


async def test_a_caller_waits_for_the_window_when_it_frees_within_the_queue_wait(
    lender: Lender, sim: Sim, tmp_path: Path, proxies: tuple[str, str]
) -> None:
    a, _ = proxies
    clock = FakeClock()
    # The queue waits 90 s (real time), longer than the minute: so the caller waits, and the test
    # slides the (fake) minute instead of sleeping through it.
    settings = _settings(sim.base_url, tmp_path, egress_pacing="on", egress_per_minute=1, queue_timeout=90)
    async with BrowserPool(settings, egress_clock=clock, **await lender.to()) as pool:
        await pool.add_account(AccountSpec(name="a1", psid=cookie("paid"), proxy=a))
        await run(pool, TurnRequest(prompt="first"))
        second = asyncio.create_task(run(pool, TurnRequest(prompt="second")))
        await until(lambda: egress(pool, a).waiting == 1)
        assert egress(pool, a).next_start_in == 60.0 and not second.done()
        clock.now += 60
        assert (await second).account_id == "a1"
        info = egress(pool, a)
        assert (info.started, info.waiting, info.rejected) == (2, 0, 0)


async def test_a_full_concurrency_makes_the_caller_wait_for_the_running_turn(
    paced: Paced, proxies: tuple[str, str], sim: Sim
) -> None:
    a, b = proxies
    async with paced(egress_limits={a: {"concurrency": 1}}) as pool:
        slow = cookie("paid")
        await pool.add_account(AccountSpec(name="a1", psid=slow, proxy=a))
        await pool.add_account(AccountSpec(name="a2", psid=cookie("paid"), proxy=a))
        await pool.add_account(AccountSpec(name="b1", psid=cookie("paid"), proxy=b))
        sim.behaviours(slow, {"kind": "slow_first_token", "seconds": 4})
        first = asyncio.create_task(run(pool, TurnRequest(prompt="slow", account_id="a1")))
        await until(lambda: egress(pool, a).running == 1)
        second = asyncio.create_task(run(pool, TurnRequest(prompt="waits", account_id="a2")))
        # a2 is free, but its egress is not: the caller queues on A.
        await until(lambda: egress(pool, a).waiting == 1)
        assert not second.done()
        b_turn = await run(pool, TurnRequest(prompt="not slowed", account_id="b1"))
        assert b_turn.account_id == "b1" and not first.done(), "B served while A's slot was taken"
        await first
        assert (await second).account_id == "a2"
        info = egress(pool, a)
        assert (info.running, info.waiting, info.started, info.rejected) == (0, 0, 2, 0)


async def test_a_captcha_cools_every_account_on_its_egress_only(
    paced: Paced, proxies: tuple[str, str]
) -> None:
    a, b = proxies
    async with paced() as pool:
        await pool.add_account(AccountSpec(name="a1", psid=cookie("paid"), proxy=a))
        await pool.add_account(AccountSpec(name="b1", psid=cookie("paid"), proxy=b))
        assert egress(pool, a).cooling_until is None
        # Another account behind A is sent to google.com/sorry (the simulator's captcha account).
        walled = await pool.add_account(AccountSpec(name="a-walled", psid=cookie("captcha"), proxy=a))
        assert walled.state is AccountState.BLOCKED
        cooling = egress(pool, a).cooling_until
        assert cooling is not None and cooling == walled.blocked_until
        assert egress(pool, b).cooling_until is None
        shown = {info.id: info for info in pool.accounts()}
        assert shown["a1"].state is AccountState.COOLING and shown["a1"].cooling_until == {"egress": cooling}
        assert shown["b1"].state is AccountState.READY and shown["b1"].cooling_until == {}

        # a1 never met the wall, yet it no longer serves: its IP did.
        served = [(await run(pool, TurnRequest(prompt=f"p{i}"))).account_id for i in range(2)]
        assert served == ["b1", "b1"]
        with pytest.raises(NoCapacity) as refused:
            await run(pool, TurnRequest(prompt="pinned to A", account_id="a1"))
        assert refused.value.retry_after >= 1


async def test_a_turn_time_ip_block_cools_the_egress(
    paced: Paced, proxies: tuple[str, str], sim: Sim
) -> None:
    a, b = proxies
    async with paced() as pool:
        blocked_psid = cookie("paid")
        await pool.add_account(AccountSpec(name="a1", psid=blocked_psid, proxy=a))
        await pool.add_account(AccountSpec(name="a2", psid=cookie("paid"), proxy=a))
        await pool.add_account(AccountSpec(name="b1", psid=cookie("paid"), proxy=b))
        sim.behaviours(blocked_psid, {"kind": "error", "code": 1060})
        with pytest.raises(UpstreamRejected):
            # Pinned: no failover. Gemini answers 1060 (IP blocked) on A.
            await run(pool, TurnRequest(prompt="blocked", account_id="a1"))
        assert egress(pool, a).cooling_until is not None
        assert egress(pool, b).cooling_until is None
        assert (await run(pool, TurnRequest(prompt="elsewhere"))).account_id == "b1"
        states = {info.id: info.state for info in pool.accounts()}
        assert states == {"a1": AccountState.BLOCKED, "a2": AccountState.COOLING, "b1": AccountState.READY}
