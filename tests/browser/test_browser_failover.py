"""Transparent failover before content, typed errors after it, and blocking with doubling backoff
(1060, captcha) while requests go to the other account."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from browser import (
    AccountInfo,
    AccountSpec,
    AccountState,
    BrowserPool,
    ConnectionLost,
    LaunchMode,
    TurnRequest,
    UpstreamRejected,
)
from tests.browser.conftest import PoolOf, Sim, cookie
from tests.browser.test_browser_pool import _settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BACKOFF = 30.0  # long enough that the health loop does not re-check during a test


def _sim_id(psid: str) -> str:
    """How the simulator's request log names an account (it never logs cookie values)."""
    return hashlib.sha256(psid.encode()).hexdigest()[:16]


def _pool(
    pool_of: PoolOf, url: str, directory: Path, mode: LaunchMode = LaunchMode.SHARED
) -> AbstractAsyncContextManager[BrowserPool]:
    return pool_of(_settings(url, directory, mode, block_backoff=BACKOFF))


@pytest.fixture
async def two(sim_url: str, tmp_path: Path, pool_of: PoolOf) -> AsyncIterator[tuple[BrowserPool, str, str]]:
    """A pool with two paid accounts, ``first`` preferred by the scheduler (added first)."""
    first, second = cookie("paid"), cookie("paid")
    async with _pool(pool_of, sim_url, tmp_path) as pool:
        await pool.add_account(AccountSpec(name="first", psid=first))
        await pool.add_account(AccountSpec(name="second", psid=second))
        yield pool, first, second


async def _ask(pool: BrowserPool, prompt: str) -> tuple[str, list[str]]:
    texts: list[str] = []
    async with pool.turn(TurnRequest(prompt=prompt)) as turn:
        async for snapshot in turn:
            texts.append(snapshot.text)
    assert turn.final is not None and turn.final.completed and prompt in turn.final.text
    return turn.account_id, texts


def _served(sim: Sim, prompt: str) -> list[tuple[str, str]]:
    return [(e["account_id"], e["outcome"]) for e in sim.requests() if e.get("prompt") == prompt]


def _info(pool: BrowserPool, account_id: str) -> AccountInfo:
    return next(info for info in pool.accounts() if info.id == account_id)


async def test_ip_block_moves_the_turn_and_blocks_with_doubling_backoff(
    two: tuple[BrowserPool, str, str], sim: Sim
) -> None:
    pool, first, second = two
    sim.behaviours(first, {"kind": "error", "code": 1060})
    before = time.time()
    served_by, texts = await _ask(pool, "move me")
    assert served_by == "second"
    # The caller saw one growing answer, from the second account only.
    texts = [t for t in texts if t]
    assert texts and all(later.startswith(earlier) for earlier, later in itertools.pairwise(texts))
    assert _served(sim, "move me") == [(_sim_id(first), "error"), (_sim_id(second), "completed")]
    blocked = _info(pool, "first")
    assert blocked.state is AccountState.BLOCKED and "1060" in (blocked.last_error or "")
    assert blocked.blocked_until is not None and blocked.blocked_until > time.time()
    first_backoff = blocked.blocked_until - before

    assert (await _ask(pool, "while blocked"))[0] == "second"
    assert _served(sim, "while blocked") == [(_sim_id(second), "completed")]

    # A good page load does not forgive the block: the next 1060 doubles the backoff.
    assert (await pool.check_account("first")).state is AccountState.READY
    sim.behaviours(first, {"kind": "error", "code": 1060})
    assert (await _ask(pool, "again"))[0] == "second"
    again = _info(pool, "first")
    assert again.state is AccountState.BLOCKED and again.blocked_until is not None
    assert again.blocked_until - time.time() > 1.5 * first_backoff


# The drop tests read only the network, which both UI generations share: one generation is enough.
@pytest.mark.parametrize("sim_url", ["oct2026"], indirect=True)
async def test_drop_before_content_moves_transparently(two: tuple[BrowserPool, str, str], sim: Sim) -> None:
    pool, first, second = two
    sim.behaviours(first, {"kind": "drop", "after_frames": 1})  # only the locator frame is written
    served_by, _ = await _ask(pool, "dropped early")
    assert served_by == "second"
    assert _served(sim, "dropped early") == [(_sim_id(first), "dropped"), (_sim_id(second), "completed")]
    assert _info(pool, "first").state is AccountState.READY  # a dropped connection is not a block


@pytest.mark.parametrize("sim_url", ["oct2026"], indirect=True)
async def test_drop_after_content_raises_without_a_duplicate(
    two: tuple[BrowserPool, str, str], sim: Sim
) -> None:
    pool, first, _ = two
    sim.behaviours(first, {"kind": "drop", "after_frames": 4})
    seen: list[str] = []
    # A drop is our transport failing, not Gemini's code 13 (it used to read as ``gemini_13``).
    with pytest.raises(ConnectionLost) as info:
        async with pool.turn(TurnRequest(prompt="dropped late")) as turn:
            async for snapshot in turn:
                seen.append(snapshot.text)
    assert not isinstance(info.value, UpstreamRejected)
    assert any(seen), "content had reached the caller before the failure"
    assert _served(sim, "dropped late") == [(_sim_id(first), "dropped")]
    assert all(info.active_turns == 0 for info in pool.accounts())


@pytest.mark.parametrize("mode", [LaunchMode.SHARED, LaunchMode.PERSISTENT])
async def test_captcha_blocks_and_signed_out_leaves_rotation(
    simulators: dict[str, str], tmp_path: Path, mode: LaunchMode, pool_of: PoolOf
) -> None:
    url = simulators["oct2026"]
    sim = Sim(url)
    async with _pool(pool_of, url, tmp_path, mode) as pool:
        start = time.time()
        captcha = await pool.add_account(AccountSpec(name="captcha", psid=cookie("captcha")))
        gone = await pool.add_account(AccountSpec(name="gone", psid=cookie("nobody")))
        good = cookie("paid")
        await pool.add_account(AccountSpec(name="good", psid=good))
        assert captcha.state is AccountState.BLOCKED and captcha.last_error == "captcha"
        assert captcha.blocked_until is not None and captcha.blocked_until > time.time()
        assert gone.state is AccountState.SIGNED_OUT
        for index in range(2):
            assert (await _ask(pool, f"only good {index} {mode}"))[0] == "good"
            assert _served(sim, f"only good {index} {mode}") == [(_sim_id(good), "completed")]
        rechecked = await pool.check_account("captcha")  # still behind the captcha: backoff doubles
        assert rechecked.state is AccountState.BLOCKED and rechecked.blocked_until is not None
        assert rechecked.blocked_until - time.time() > 1.5 * (captcha.blocked_until - start)
        assert _info(pool, "gone").state is AccountState.SIGNED_OUT
