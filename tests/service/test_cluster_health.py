"""Account health shared by the replicas of one real Redis (issue 20 item 1): an account's cooldown
and session record follow it to the replica that adopts it (``service.stores.redis_health``, the
pool's ``SharedHealthStore``).

- ``RedisHealth`` writes only under the account's current lease (a stale owner is refused), lets a
  cooldown expire with its end, reads back only what still holds, and forgets on removal;
- end to end, with Chromium and the simulator as Google: replica A's account meets a usage limit
  (1037 with its reset), A stops, and replica B (a real gateway on uvicorn, its own empty data
  directory) adopts it cooling: B's admin API shows the same cooldown and session record, B refuses
  the turn without sending anything to Google until the reset, then serves it;
- a pool started on a block its previous owner left (a captcha) keeps it out of rotation until the
  block ends, with the same reason and the same person-needed reason, though its page loads fine.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio as aioredis
from playwright.async_api import Playwright
from pydantic import SecretStr

from browser import (
    AccountSpec,
    AccountState,
    BrowserPool,
    Cooldown,
    ModeFamily,
    NoCapacity,
    NoEligibleAccount,
    SessionRecord,
    TurnRequest,
)
from browser._health import session_key
from browser._store import CookieStore
from service.app import create_app
from service.cluster.lease import LeaseBook
from service.settings import AccountConfig, GatewaySettings
from service.stores.redis_base import connect
from service.stores.redis_health import RedisHealth
from tests.service.conftest import API_KEY
from tests.service.test_admin_accounts import ADMIN_KEY, admin
from tests.service.test_keys_api import chat
from tests.support import polling
from tests.support.cluster_pool import Replica, simulator  # noqa: F401 (a fixture)
from tests.support.servers import serve

WAIT = 60.0  # bound of every wait on a condition (page loads in Chromium)
# The usage limit's reset, from A's turn: long enough for A to stop and B to start and be asked
# (a few page loads), so that B is asked while the account still cools: 45 s leaves room for a
# loaded CI machine, where a start took up to 20 s (a few seconds on a quiet one).
RESET_SECONDS = 45

until = partial(polling.until, bound=WAIT)


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = connect(redis_url)
    yield connection
    connection.close()


async def test_the_shared_health_is_written_by_the_owner_only_and_expires_with_the_cooldown(
    async_redis: aioredis.Redis,
) -> None:
    a_book, b_book = LeaseBook(async_redis, "a", ttl=0.05), LeaseBook(async_redis, "b")
    a_store, b_store = RedisHealth(async_redis), RedisHealth(async_redis)
    await a_store.open()
    record = SessionRecord("cookie_import", "digest-of-the-session", 100.0, 150.0, "captcha", 160.0)
    # No lease held: nothing written.
    await a_store.save_session("acct", record)
    assert await b_store.load_session("acct") is None
    a_lease = await a_book.acquire("acct")
    assert a_lease is not None
    a_store.bind(a_book, {"acct": a_lease}.get)
    await a_store.save_session("acct", record)
    assert await b_store.load_session("acct") == record
    now = time.time()
    cooling = Cooldown({"flash": now + 60, "image": now - 1}, blocked_until=now + 30, reason="captcha")
    await a_store.save_cooldown("acct", cooling)
    # Read back: only what still holds; the key expires with its last part (never before).
    assert await b_store.load_cooldown("acct") == Cooldown({"flash": now + 60}, now + 30, "captcha")
    assert 59_000 < await async_redis.pttl("gateway:health:cooldown:acct") <= 61_000

    # A's lease lapses and B adopts the account: A's writes are refused by Redis, B's land.
    deadline = time.monotonic() + WAIT
    while (b_lease := await b_book.acquire("acct")) is None:
        assert time.monotonic() < deadline, "the lease never expired"
        await asyncio.sleep(0.01)
    b_store.bind(b_book, {"acct": b_lease}.get)
    await a_store.save_cooldown("acct", None)
    await a_store.save_session("acct", SessionRecord("cookie_import", "other", None, None))
    assert await b_store.load_session("acct") == record
    assert await b_store.load_cooldown("acct") is not None
    await b_store.save_cooldown("acct", None)  # nothing holds it back any more: deleted
    assert not await async_redis.exists("gateway:health:cooldown:acct")
    await b_store.delete("acct")  # removed for good
    assert await b_store.load_session("acct") is None


def _replica(name: str, tmp_path: Path, simulator_url: str, redis_url: str, psid: str) -> GatewaySettings:
    return GatewaySettings(
        data_dir=tmp_path / name,
        api_keys=[API_KEY],
        admin_keys=[ADMIN_KEY],
        browser={"gemini_url": simulator_url, "ui_timeout": 5, "navigation_timeout": 15},
        accounts=(AccountConfig(name="lim", psid=SecretStr(psid)),),
        state={"backend": "redis", "redis_url": redis_url},
        media={"shared_dir": tmp_path / "media"},
        cluster={"replica_id": name, "lease_ttl": 5.0, "renew_interval": 0.25},
    )


async def _prompts(control: httpx.AsyncClient) -> list[str]:
    return [str(entry.get("prompt")) for entry in (await control.get("/_sim/requests")).json()]


async def test_an_adopting_replica_keeps_a_cooling_account_out_of_rotation_until_its_reset(
    playwright: Playwright,
    simulator: httpx.AsyncClient,  # noqa: F811 (the fixture imported above)
    simulator_url: str,
    redis_url: str,
    tmp_path: Path,
    client: redis.Redis,
) -> None:
    psid = f"paid-{uuid.uuid4().hex[:12]}"
    settings_a = _replica("a", tmp_path, simulator_url, redis_url, psid)
    (await simulator.post("/_sim/config", json={"rotation_interval": 0.3})).raise_for_status()
    async with Replica(settings_a, playwright) as a:
        assert {info.id for info in a.pool.accounts()} == {"lim"}
        # A's page rotates the session's ticket once at least: the record has a last rotation.
        await polling.until_async(
            lambda: a.pool.accounts()[0].last_rotation_at is not None, "a rotation on a", bound=WAIT
        )
        (await simulator.post("/_sim/config", json={"rotation_interval": 3600})).raise_for_status()
        (
            await simulator.post(
                "/_sim/behaviours",
                json={
                    "account": psid,
                    "behaviours": [{"kind": "usage_limit", "reset_seconds": RESET_SECONDS}],
                },
            )
        ).raise_for_status()
        with pytest.raises(NoCapacity, match="1037"):
            async with a.pool.turn(TurnRequest(prompt="limited on a")) as turn:
                async for _ in turn:
                    pass
        (info,) = a.pool.accounts()
        assert info.state is AccountState.COOLING
        until_reset = info.cooling_until[ModeFamily.FLASH]
    # A stopped (its lease handed back); its last word on the account is in Redis.
    assert client.hgetall("gateway:cluster:lease:lim") == {}
    assert client.exists("gateway:health:cooldown:lim") and client.exists("gateway:health:session:lim")
    a_record = CookieStore(settings_a.data_dir).load_session_sync("lim")
    assert a_record is not None and a_record.started_at is not None and a_record.last_rotation_at is not None
    before = await _prompts(simulator)

    # B: a real gateway with an empty data directory of its own, adopting the account.
    settings_b = _replica("b", tmp_path, simulator_url, redis_url, psid)
    assert not (settings_b.data_dir / "cookies.sqlite3").exists()
    with serve(create_app(settings_b), startup_timeout=90) as url:
        with admin(url) as api:
            row = api.get("/accounts/lim").json()
        assert row["owner"] == "b" and row["state"] == "cooling", row
        assert row["cooling_until"] == {ModeFamily.FLASH.value: until_reset}
        # The session record as A left it: how it was signed in, since when, its last rotation.
        assert row["signin_method"] == a_record.signin_method
        assert row["session_started_at"] == a_record.started_at
        assert row["last_rotation_at"] == a_record.last_rotation_at
        assert row["needs_person"] is None

        # Before the reset: refused with the wait, and nothing reached Google.
        refused = await asyncio.to_thread(chat, url, API_KEY, "too early on b")
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) >= 1
        assert await _prompts(simulator) == before

        def ready() -> bool:
            with admin(url) as api:
                return bool(api.get("/accounts/lim").json()["state"] == "ready")

        await asyncio.to_thread(partial(polling.until, bound=RESET_SECONDS + WAIT), ready, "the reset")
        served = await asyncio.to_thread(chat, url, API_KEY, "after the reset on b")
        assert served.status_code == 200, served.text
        assert "after the reset on b" in await _prompts(simulator)
        assert client.hget("gateway:cluster:lease:lim", "owner") == "b"


async def test_a_block_left_by_the_previous_owner_holds_until_its_end(
    playwright: Playwright,
    simulator: httpx.AsyncClient,  # noqa: F811 (the fixture imported above)
    simulator_url: str,
    redis_url: str,
    tmp_path: Path,
    async_redis: aioredis.Redis,
) -> None:
    """The previous owner met a captcha and blocked the account (its re-check due in a minute); the
    next pool's page loads fine (another IP, say), yet the account waits as it would have there."""
    psid = f"paid-{uuid.uuid4().hex[:12]}"
    book = LeaseBook(async_redis, "previous")
    lease = await book.acquire("walled")
    assert lease is not None
    previous = RedisHealth(async_redis)
    await previous.open()
    previous.bind(book, {"walled": lease}.get)
    blocked_until = time.time() + 60
    record = SessionRecord("cookie_import", session_key(psid), 100.0, None, "captcha", 150.0)
    await previous.save_session("walled", record)
    await previous.save_cooldown("walled", Cooldown({}, blocked_until, "captcha"))
    assert await previous.load_session("walled") == record
    settings = _replica("next", tmp_path, simulator_url, redis_url, psid)
    shared = RedisHealth(async_redis)
    shared.bind(book, {"walled": lease}.get)  # this pool drives it now, under the same lease here
    async with BrowserPool(settings.pool_settings(), playwright=playwright, shared_health=shared) as pool:
        info = await pool.add_account(AccountSpec(name="walled", psid=psid))
        assert info.state is AccountState.BLOCKED and info.blocked_until == blocked_until
        assert info.reason == "captcha" and info.needs_person == "captcha"
        assert info.session_started_at == 100.0  # the record carried over (the same session)
        with pytest.raises(NoEligibleAccount):  # as a blocked account is, on its previous replica
            async with pool.turn(TurnRequest(prompt="walled")) as turn:
                async for _ in turn:
                    pass
        assert "walled" not in await _prompts(simulator)
