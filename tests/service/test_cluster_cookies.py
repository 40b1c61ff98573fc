"""The accounts' refreshed cookies shared by the replicas of one real Redis (issue 20):

- ``RedisCookies`` writes only under the account's current lease: a stale owner's write (its lease
  expired and another replica adopted the account) is refused by Redis and logged, never applied;
  the values are sealed with ``state.encryption_key`` and never logged;
- a gateway (``create_app`` on real uvicorn) in redis mode writes its account's rotations there;
- end to end, with real ``BrowserPool``s on Chromium and the simulator as Google: replica A's page
  rotates ``__Secure-1PSIDTS``, A stops, and replica B (its own, empty data directory, the
  operator's original cookies in its configuration) adopts the account and starts it with A's
  rotated ticket, read from Redis; and a frozen owner whose pool runs on (its page rotating, its
  pool saving) after B adopted the account gets every write refused: the shared copy stays B's.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
import redis
import redis.asyncio as aioredis
from playwright.async_api import Playwright
from pydantic import SecretStr

from browser import Cookie
from browser._store import CookieStore
from service.app import create_app
from service.cluster.lease import LeaseBook
from service.settings import AccountConfig, GatewaySettings
from service.stores.redis_base import Sealer, connect
from service.stores.redis_cookies import RedisCookies
from tests.support import polling
from tests.support.cluster_pool import Replica, simulator  # noqa: F401 (a fixture)
from tests.support.redis import on_redis
from tests.support.servers import serve

PSID = "__Secure-1PSID"
PSIDTS = "__Secure-1PSIDTS"
WAIT = 60.0  # bound of every wait on a condition (page loads in Chromium)


until = partial(polling.until, bound=WAIT)
until_async = partial(polling.until_async, bound=WAIT, interval=0.05)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """``until_async`` for a condition read from Redis (awaited)."""
    deadline = time.monotonic() + WAIT
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.05)


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = connect(redis_url)
    yield connection
    connection.close()


def jar(psid: str, psidts: str) -> list[Cookie]:
    return [Cookie(PSID, psid, http_only=True), Cookie(PSIDTS, psidts, http_only=True)]


def ticket(cookies: list[Cookie]) -> str | None:
    return next((cookie.value for cookie in cookies if cookie.name == PSIDTS), None)


async def test_a_stale_owner_cannot_write_the_cookies_of_an_account_it_lost(
    async_redis: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    sealer = Sealer("a passphrase")
    a_book, b_book = LeaseBook(async_redis, "a", ttl=0.05), LeaseBook(async_redis, "b")
    a_store, b_store = RedisCookies(async_redis, sealer), RedisCookies(async_redis, sealer)
    await a_store.open()
    a_lease = await a_book.acquire("acct")
    assert a_lease is not None
    a_store.bind(a_book, {"acct": a_lease}.get)  # what A's ownership loop holds, as it believes
    assert await a_store.save("acct", jar("paid-secret-psid", "ts-from-a"), read_at=100.0)
    stored = await b_store.load("acct")
    assert stored is not None and ticket(stored.cookies) == "ts-from-a" and stored.saved_at == 100.0
    raw = await async_redis.get("gateway:cookies:account:acct")
    assert raw is not None and "ts-from-a" not in raw and "paid-secret-psid" not in raw  # sealed

    # A stops renewing (frozen): its lease expires and B adopts the account.
    deadline = time.monotonic() + WAIT
    while (b_lease := await b_book.acquire("acct")) is None:
        assert time.monotonic() < deadline, "the lease never expired"
        await asyncio.sleep(0.01)
    b_store.bind(b_book, {"acct": b_lease}.get)
    assert await b_store.save("acct", jar("paid-secret-psid", "ts-from-b"), read_at=200.0)

    # A comes back still holding its old lease and writes a rotation: Redis refuses it.
    caplog.set_level(logging.WARNING)
    assert not await a_store.save("acct", jar("paid-secret-psid", "ts-stale"), read_at=300.0)
    stored = await a_store.load("acct")
    assert stored is not None and ticket(stored.cookies) == "ts-from-b" and stored.saved_at == 200.0
    refusals = [record.getMessage() for record in caplog.records if "not shared" in record.getMessage()]
    assert refusals and "passed to another replica" in refusals[0]
    assert "ts-stale" not in caplog.text and "paid-secret-psid" not in caplog.text

    # A replica holding no lease on the account (never bound, or not its owner) writes nothing.
    assert not await RedisCookies(async_redis, sealer).save(
        "acct", jar("paid-secret-psid", "ts-x"), read_at=400.0
    )
    stored = await a_store.load("acct")
    assert stored is not None and ticket(stored.cookies) == "ts-from-b"

    # Sealed values need the key: another one is a clear error, never a value in the message.
    with pytest.raises(RuntimeError, match=r"another state\.encryption_key"):
        await RedisCookies(async_redis, Sealer("another passphrase")).load("acct")


async def test_an_owner_whose_lease_expired_untouched_still_shares_its_rotation(
    async_redis: aioredis.Redis,
) -> None:
    # Redis away past the ttl: the lease expired, nobody took the account meanwhile. The rotation
    # saved before the ownership loop's next round takes the lease back as it was, and is written.
    sealer = Sealer(None)
    book = LeaseBook(async_redis, "a", ttl=0.05)
    store = RedisCookies(async_redis, sealer)
    lease = await book.acquire("acct")
    assert lease is not None
    store.bind(book, {"acct": lease}.get)

    async def expired() -> bool:
        return not await async_redis.exists("gateway:cluster:lease:acct")

    await eventually(expired, "the lease expired")
    assert await store.save("acct", jar("paid-secret-psid", "ts-after-outage"), read_at=100.0)
    stored = await store.load("acct")
    assert stored is not None and ticket(stored.cookies) == "ts-after-outage"
    assert await book.valid(lease)


def _replica(
    name: str,
    tmp_path: Path,
    simulator_url: str,
    redis_url: str,
    psid: str,
    *,
    lease_ttl: float = 5.0,
    save_interval: float = 0.2,
) -> GatewaySettings:
    return GatewaySettings(
        data_dir=tmp_path / name,
        open_access=True,
        browser={
            "gemini_url": simulator_url,
            "ui_timeout": 5,
            "navigation_timeout": 15,
            "cookie_save_interval": save_interval,
        },
        # The operator's export, as configured on every replica: the ticket before any rotation.
        accounts=(AccountConfig(name="rot", psid=SecretStr(psid), psidts=SecretStr("initial-ts")),),
        state={"backend": "redis", "redis_url": redis_url, "encryption_key": "cluster passphrase"},
        media={"shared_dir": tmp_path / "media"},
        cluster={"replica_id": name, "lease_ttl": lease_ttl, "renew_interval": 0.25},
    )


async def test_an_adopting_replica_starts_from_the_previous_owners_rotated_cookies(
    playwright: Playwright,
    simulator: httpx.AsyncClient,  # noqa: F811 (the fixture imported above)
    simulator_url: str,
    redis_url: str,
    tmp_path: Path,
    client: redis.Redis,
    async_redis: aioredis.Redis,
) -> None:
    psid = f"paid-{uuid.uuid4().hex[:12]}"
    shared = RedisCookies(async_redis, Sealer("cluster passphrase"))

    async def shared_ticket() -> str | None:
        stored = await shared.load("rot")
        return ticket(stored.cookies) if stored is not None else None

    async def rotated_in_redis() -> bool:
        return await shared_ticket() not in (None, "initial-ts")

    (await simulator.post("/_sim/config", json={"rotation_interval": 0.3})).raise_for_status()
    async with Replica(_replica("a", tmp_path, simulator_url, redis_url, psid), playwright) as a:
        assert {info.id for info in a.pool.accounts()} == {"rot"}
        await eventually(rotated_in_redis, "replica a's rotated ticket in Redis")
    # A stopped: its last save (under its lease) is in Redis, and the lease is handed back.
    rotated = await shared_ticket()
    assert rotated is not None and rotated != "initial-ts"
    assert client.hgetall("gateway:cluster:lease:rot") == {}
    (await simulator.post("/_sim/config", json={"rotation_interval": 3600})).raise_for_status()
    rotations = len((await simulator.get("/_sim/rotations")).json())

    settings_b = _replica("b", tmp_path, simulator_url, redis_url, psid)
    assert not (settings_b.data_dir / "cookies.sqlite3").exists()  # B has no copy of its own
    async with Replica(settings_b, playwright) as b:
        assert {info.id for info in b.pool.accounts()} == {"rot"}
        context = b.pool._accounts["rot"].context
        assert context is not None
        live = {c["name"]: c["value"] for c in await context.cookies()}
        # What B's browser sends to Google is A's rotated ticket, not the configured one.
        assert live[PSIDTS] == rotated
        assert client.hget("gateway:cluster:lease:rot", "owner") == "b"
    assert len((await simulator.get("/_sim/rotations")).json()) == rotations  # B did not rotate it itself
    assert await shared_ticket() == rotated


@pytest.fixture
def sim_control(simulator_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=simulator_url, timeout=10) as control:
        control.post("/_sim/reset").raise_for_status()
        yield control
        control.post("/_sim/reset").raise_for_status()


def test_a_gateway_on_redis_shares_its_accounts_rotated_cookies_sealed(
    sim_control: httpx.Client, simulator_url: str, redis_url: str, tmp_path: Path, client: redis.Redis
) -> None:
    """The app's own wiring (``create_app``, real uvicorn): its pool writes to Redis."""
    psid = f"paid-{uuid.uuid4().hex[:12]}"

    def shared_ticket() -> str | None:
        stored = on_redis(
            redis_url, lambda shared: RedisCookies(shared, Sealer("cluster passphrase")).load("rot")
        )
        return ticket(stored.cookies) if stored is not None else None

    sim_control.post("/_sim/config", json={"rotation_interval": 0.3}).raise_for_status()
    with serve(create_app(_replica("solo", tmp_path, simulator_url, redis_url, psid)), startup_timeout=90):
        until(lambda: shared_ticket() not in (None, "initial-ts"), "the gateway's rotated ticket in Redis")
        raw = client.get("gateway:cookies:account:rot")
        assert raw is not None and psid not in raw and "initial-ts" not in raw  # sealed
        assert client.hget("gateway:cluster:lease:rot", "owner") == "solo"


async def test_a_frozen_owners_saves_are_refused_once_another_replica_adopted_the_account(
    playwright: Playwright,
    simulator: httpx.AsyncClient,  # noqa: F811 (the fixture imported above)
    simulator_url: str,
    redis_url: str,
    tmp_path: Path,
    client: redis.Redis,
    async_redis: aioredis.Redis,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="service.stores.redis_cookies")
    psid = f"paid-{uuid.uuid4().hex[:12]}"
    shared = RedisCookies(async_redis, Sealer("cluster passphrase"))

    async def first_save() -> bool:
        return await shared.load("rot") is not None

    (await simulator.post("/_sim/config", json={"rotation_interval": 0.3})).raise_for_status()
    settings_a = _replica("a", tmp_path, simulator_url, redis_url, psid, lease_ttl=3.0)
    # B saves only when it starts and stops (its page, loaded once rotations are off, never rotates).
    settings_b = _replica("b", tmp_path, simulator_url, redis_url, psid, lease_ttl=3.0, save_interval=60)

    def a_local() -> str | None:
        stored = CookieStore(settings_a.data_dir).load_sync("rot")
        return ticket(stored.cookies) if stored is not None else None

    async with Replica(settings_a, playwright) as a:
        await eventually(first_save, "replica a's first save in Redis")
        # A freezes: its ownership loop stops, nothing is released; its pool runs on, its page keeps
        # rotating (every 0.3 s) and the pool saving, under the lease A believes it holds.
        assert a.ownership._loop is not None
        await a.ownership._loop.stop()
        (await simulator.post("/_sim/config", json={"rotation_interval": 3600})).raise_for_status()
        async with Replica(settings_b, playwright) as b:
            await until_async(lambda: "rot" in {i.id for i in b.pool.accounts()}, "replica b adopts rot")
            assert client.hget("gateway:cluster:lease:rot", "owner") == "b"
            adopted = await shared.load("rot")  # what B started from, written by B under its lease
            assert adopted is not None
            assert "rot" in a.ownership.held  # A's own view is stale: only Redis refuses its writes
            caplog.clear()
            await until_async(
                lambda: (
                    "lease of replica a (token 1) passed to another replica" in caplog.text
                    and a_local() != ticket(adopted.cookies)
                ),
                "replica a's newer rotation saved locally, refused by Redis",
            )
            await a.__aexit__(None, None, None)  # A's last save (at close) is refused as well
            now = await shared.load("rot")
            assert now is not None
            # B may have saved its (unrotated) jar again since; none of A's rotations got in.
            assert ticket(now.cookies) == ticket(adopted.cookies) != a_local()
        # B's last save (at its stop) is the shared copy; none of A's rotations since got in.
        b_local = CookieStore(settings_b.data_dir).load_sync("rot")
        stored = await shared.load("rot")
        assert stored is not None and b_local is not None
        assert ticket(stored.cookies) == ticket(b_local.cookies) != a_local()
        assert psid not in caplog.text and str(a_local()) not in caplog.text
