"""A pool's cookies shared beyond it (``SharedCookieStore``; the gateway's is Redis, tested in
tests/service/test_cluster_cookies.py): saves reach both copies, the copy read last wins a load, a
failing shared store never fails a save nor leaks a value, and a pool starting an account takes the
shared copy when it is newer and of the same session.

The shared store here is the Protocol's smallest honest implementation, a dict (a second process's
store is what the service tests give it)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from browser import AccountSpec, BrowserPool, Cookie, LaunchMode, PoolSettings, StoredCookies
from browser._cookies import PSID, PSIDTS
from browser._store import CookieStore, SharedCookies
from tests.browser.conftest import Lender, Sim, cookie


class DictCookies:
    """A ``SharedCookieStore`` in memory; ``refuse`` makes saves refused (a lost lease)."""

    def __init__(self) -> None:
        self.rows: dict[str, StoredCookies] = {}
        self.refuse = False

    async def save(self, account_id: str, cookies: list[Cookie], *, read_at: float) -> bool:
        if self.refuse:
            return False
        self.rows[account_id] = StoredCookies(cookies=list(cookies), saved_at=read_at)
        return True

    async def load(self, account_id: str) -> StoredCookies | None:
        return self.rows.get(account_id)

    async def delete(self, account_id: str) -> None:
        self.rows.pop(account_id, None)


class BrokenCookies(DictCookies):
    """A shared store that cannot be reached; its error quotes a value, as a careless one might."""

    async def save(self, account_id: str, cookies: list[Cookie], *, read_at: float) -> bool:
        raise ConnectionError(f"down while writing {cookies[0].value}")

    async def load(self, account_id: str) -> StoredCookies | None:
        raise ConnectionError("down")


def jar(psid: str, psidts: str) -> list[Cookie]:
    return [Cookie(PSID, psid, http_only=True), Cookie(PSIDTS, psidts, http_only=True)]


def ticket(stored: StoredCookies | None) -> str | None:
    assert stored is not None
    return next(c.value for c in stored.cookies if c.name == PSIDTS)


async def test_the_copy_read_last_wins_whichever_holds_it(tmp_path: Path) -> None:
    shared = DictCookies()
    store = SharedCookies(tmp_path, shared)
    assert await store.save("acct", jar("paid-x", "ts-1"), read_at=100.0)
    assert ticket(shared.rows["acct"]) == "ts-1"  # written to both
    assert ticket(await CookieStore(tmp_path).load("acct")) == "ts-1"
    # Another replica rotated it later: the shared copy is newer than this file's.
    shared.rows["acct"] = StoredCookies(jar("paid-x", "ts-2"), saved_at=200.0)
    assert ticket(await store.load("acct")) == "ts-2"
    # This file is newer (the shared write was refused: the lease had passed on).
    shared.refuse = True
    assert await store.save("acct", jar("paid-x", "ts-3"), read_at=300.0)
    assert ticket(await store.load("acct")) == "ts-3"
    # An older read never goes over a newer one, in either copy.
    shared.refuse = False
    assert not await store.save("acct", jar("paid-x", "ts-old"), read_at=250.0)
    assert ticket(shared.rows["acct"]) == "ts-2"
    await store.delete("acct")
    assert await store.load("acct") is None and shared.rows == {}


async def test_a_failing_shared_store_leaves_the_local_copy_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    store = SharedCookies(tmp_path, BrokenCookies())
    assert await store.save("acct", jar("paid-secret", "ts-secret"), read_at=100.0)
    assert ticket(await store.load("acct")) == "ts-secret"
    assert "not shared (ConnectionError)" in caplog.text and "not read (ConnectionError)" in caplog.text
    assert "secret" not in caplog.text


def _settings(url: str, data_dir: Path) -> PoolSettings:
    return PoolSettings.model_validate(
        {"gemini_url": url, "data_dir": data_dir, "ui_timeout": 5, "navigation_timeout": 15}
    )


async def test_a_pool_starts_an_account_from_the_newer_shared_copy_of_its_session(
    sim: Sim, tmp_path: Path, lender: Lender
) -> None:
    sim.config(rotation_interval=3600)  # no rotation of its own while the test reads the page's jar
    psid = cookie("paid")
    shared = DictCookies()
    # Another pool's rotation of this session, and this pool's own older copy of it.
    shared.rows["acct"] = StoredCookies(jar(psid, "ts-shared"), saved_at=2_000_000_000.0)
    await CookieStore(tmp_path).save("acct", jar(psid, "ts-local"), read_at=1_000_000_000.0)
    lent = await lender.to(LaunchMode.SHARED)
    async with BrowserPool(_settings(sim.base_url, tmp_path), **lent, shared_cookies=shared) as pool:
        await pool.add_account(AccountSpec(name="acct", psid=psid, psidts="configured-ts"))
        context = pool._accounts["acct"].context
        assert context is not None
        live = {c["name"]: c["value"] for c in await context.cookies()}
        assert live[PSIDTS] == "ts-shared"
        # A spec bringing another session wins over both copies (a new sign-in), and is shared.
        other = cookie("paid")
        await pool.add_account(AccountSpec(name="acct", psid=other, psidts="new-ts"))
        context = pool._accounts["acct"].context
        assert context is not None
        live = {c["name"]: c["value"] for c in await context.cookies()}
        assert (live[PSID], live[PSIDTS]) == (other, "new-ts")
    assert next(c.value for c in shared.rows["acct"].cookies if c.name == PSID) == other
