"""A 1037 cools the account until the bucket that ran out resets, not until any bucket does."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from browser._accounts import Account
from browser._answers import reset_time
from browser._cookies import from_session
from browser._pool import BrowserPool
from browser._requests import ModeFamily, TurnRequest
from browser._settings import PoolSettings
from browser._store import CookieStore
from browser.errors import UpstreamRejected
from browser.protocol import QuotaBucket, QuotaInfo, TurnSnapshot

USAGE_LIMIT = 1037


def _snapshot(*buckets: QuotaBucket) -> TurnSnapshot:
    return replace(TurnSnapshot(), quota=QuotaInfo(model_id="e6fa609c3fa255c0", buckets=buckets))


def _bucket(reset_in: float, remaining: int) -> QuotaBucket:
    return QuotaBucket(feature=(1, 20, 1), reset_at=time.time() + reset_in, limit=15, remaining=remaining)


def _account(settings: PoolSettings) -> Account:
    return Account(
        "acct",
        "acct",
        from_session("paid-quota"),
        None,
        settings,
        None,  # type: ignore[arg-type]  # never started: only its cooldown is used
        CookieStore(settings.data_dir),
    )


def test_the_exhausted_bucket_sets_the_reset_not_the_earliest() -> None:
    hourly, daily = _bucket(60, remaining=5), _bucket(8 * 3600, remaining=0)
    assert reset_time(_snapshot(hourly, daily)) == pytest.approx(daily.reset_at)
    assert reset_time(_snapshot(daily, hourly)) == pytest.approx(daily.reset_at)


def test_without_an_exhausted_bucket_the_earliest_reset_counts() -> None:
    short, long = _bucket(60, remaining=5), _bucket(3600, remaining=3)
    assert reset_time(_snapshot(long, short)) == pytest.approx(short.reset_at)


def test_no_quota_or_a_past_reset_gives_no_time() -> None:
    assert reset_time(TurnSnapshot()) is None
    assert reset_time(_snapshot(_bucket(-10, remaining=0))) is None


async def test_a_usage_limit_cools_until_the_exhausted_bucket_resets(tmp_path: Path) -> None:
    settings = PoolSettings(data_dir=tmp_path, cooldown_default=30)
    pool = BrowserPool(settings)
    account = _account(settings)
    hourly, daily = _bucket(60, remaining=5), _bucket(8 * 3600, remaining=0)
    request = TurnRequest(prompt="x", mode=ModeFamily.PRO)
    error = UpstreamRejected(USAGE_LIMIT, 8)
    pool._after_failure(account, error, request, reset_time(_snapshot(hourly, daily)))
    assert account.cooling_for(ModeFamily.PRO) == pytest.approx(daily.reset_at)
    assert account.cooling_for(ModeFamily.FLASH) is None
    # Without a usable reset the default cooldown applies.
    pool._after_failure(account, error, request, reset_time(TurnSnapshot()))
    until = account.cooling_for(ModeFamily.PRO)
    assert until is not None and abs(until - (time.time() + 30)) < 5
