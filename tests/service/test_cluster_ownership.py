"""The ownership loop (``service.cluster.ownership``) of two replicas on one real Redis, driven
directly: a replica that dies (its loop stops, nothing is handed back) loses its accounts when their
leases expire, the live one adopts them, and the dead one, coming back (a frozen VM, a long pause),
never starts a turn on what it lost."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import partial

import pytest
import redis
import redis.asyncio as aioredis
from pydantic import SecretStr

from browser import AccountInfo, AccountSpec, TurnRequest
from service.cluster.config import ClusterSettings
from service.cluster.guard import OwnedBackend
from service.cluster.lifespan import configured_sources
from service.cluster.ownership import AccountOwnership
from service.errors import NoHealthyAccount
from service.pool_adapter import BrowserBackend
from service.settings import AccountConfig
from service.stores.redis_accounts import RedisAddedAccounts
from service.stores.redis_base import Sealer, connect
from tests.service.scripted_pool import Script, ScriptedPool, growing
from tests.support import polling

WAIT = 20.0
NAMES = ["acc0", "acc1", "acc2", "acc3"]


until = partial(polling.until_async, bound=WAIT)


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    connection = connect(redis_url)
    yield connection
    connection.close()


def replica(name: str, pool: ScriptedPool, shared: aioredis.Redis) -> AccountOwnership:
    accounts = tuple(AccountConfig(name=n, psid=SecretStr(f"paid-{n}")) for n in NAMES)
    return AccountOwnership(
        BrowserBackend(pool),  # type: ignore[arg-type]
        RedisAddedAccounts(shared, Sealer(None)),
        configured_sources(accounts),
        shared,
        ClusterSettings(replica_id=name, lease_ttl=1.0, renew_interval=0.1),
    )


def ids(pool: ScriptedPool) -> set[str]:
    return {info.id for info in pool.account_list}


async def test_a_replica_that_dies_loses_its_accounts_to_the_live_one(
    client: redis.Redis, async_redis: aioredis.Redis
) -> None:
    live_pool, dead_pool = ScriptedPool(account_list=[]), ScriptedPool(account_list=[])
    live, dying = (
        replica("live", live_pool, async_redis),
        replica("dying", dead_pool, async_redis),
    )
    async with live:
        assert ids(live_pool) == set(NAMES)  # alone: every account, started before it serves
        await dying.__aenter__()
        try:
            await until(lambda: len(ids(live_pool)) == len(ids(dead_pool)) == 2, "two accounts each")
            lost = set(dying.held)
            assert lost == ids(dead_pool) and not lost & ids(live_pool)
            # It dies: its loop stops, nothing is released, its pool keeps running (frozen).
            assert dying._loop is not None
            await dying._loop.stop()
            await until(
                lambda: ids(live_pool) == set(NAMES), "the live replica adopts the dead one's accounts"
            )
            assert {client.hget(f"gateway:cluster:lease:{n}", "owner") for n in NAMES} == {"live"}
            await until(lambda: live.live == ["live"], "the dead replica's heartbeat expires")

            # The dead one comes back with its old view: the turn is refused before anything is typed.
            stale = sorted(lost)[0]
            assert stale in dying.held  # its own view still says so: the lease check is what refuses
            dead_pool.queue(Script(growing("never typed"), account_id=stale))
            guard = OwnedBackend(BrowserBackend(dead_pool), dying)  # type: ignore[arg-type]
            with pytest.raises(NoHealthyAccount, match="another replica"):
                async with guard.turn(TurnRequest(prompt="hi", account_id=stale)):
                    pytest.fail("a turn started on an account another replica owns")
            assert stale not in dying.held
            await until(lambda: stale not in ids(dead_pool), "the lost account leaves the stale pool")
            assert (stale, False) in dead_pool.removed  # its cookies and profile are kept
        finally:
            await dying.__aexit__(None, None, None)
        # Its exit released nothing of the live replica's: the leases are the live one's still.
        assert {client.hget(f"gateway:cluster:lease:{n}", "owner") for n in NAMES} == {"live"}
    assert {client.hget(f"gateway:cluster:lease:{n}", "owner") for n in NAMES} == {None}
    assert client.zrange("gateway:cluster:replicas", 0, -1) == []


def test_cluster_settings_apply_to_a_redis_state_only_and_renew_before_expiry() -> None:
    from pydantic import ValidationError

    from service.settings import GatewaySettings

    redis_state = {"backend": "redis", "redis_url": "redis://127.0.0.1:1/0"}
    media = {"shared_dir": "/srv/gateway-media"}
    with pytest.raises(ValidationError, match=r"state\.backend: redis only"):
        GatewaySettings(open_access=True, cluster={"lease_ttl": 5})  # a SQLite gateway would ignore it
    with pytest.raises(ValidationError, match=r"must be below cluster\.lease_ttl"):
        GatewaySettings(
            open_access=True, state=redis_state, media=media, cluster={"lease_ttl": 3, "renew_interval": 3}
        )
    settings = GatewaySettings(open_access=True, state=redis_state, media=media, cluster={"lease_ttl": 6})
    assert settings.cluster.interval == 2.0
    # Unset, each start names the replica anew: two gateways on one host never share an id.
    assert settings.cluster.replica() != settings.cluster.replica()
    assert GatewaySettings(open_access=True).cluster.replica_id is None


class SlowRemovalPool(ScriptedPool):
    """A pool whose removal of an account waits for ``done`` (a busy account finishing its turn)."""

    def __init__(self) -> None:
        super().__init__(account_list=[])
        self.done = asyncio.Event()

    async def remove_account(self, account_id: str, *, forget: bool = False) -> None:
        await self.done.wait()
        await super().remove_account(account_id, forget=forget)


async def test_a_stopping_replica_keeps_its_leases_until_its_accounts_are_out(
    client: redis.Redis, async_redis: aioredis.Redis
) -> None:
    pool = SlowRemovalPool()
    stopping = replica("stopping", pool, async_redis)  # lease_ttl 1 s
    await stopping.__aenter__()
    key = "gateway:cluster:lease:acc0"
    first_expiry = client.pexpiretime(key)
    leaving = asyncio.create_task(stopping.__aexit__(None, None, None))
    try:
        # The removal outlasts the lease: still renewed past its first expiry, so no one adopts it yet.
        await until(
            lambda: client.pexpiretime(key) > first_expiry + 1000, "the lease is renewed past its expiry"
        )
        assert client.hget(key, "owner") == "stopping" and ids(pool) == set(NAMES)
    finally:
        pool.done.set()  # a failed wait above must not leave the replica stopping (and renewing) for ever
        await leaving
    assert ids(pool) == set() and {client.hget(f"gateway:cluster:lease:{n}", "owner") for n in NAMES} == {
        None
    }


class SlowStartPool(ScriptedPool):
    """A pool whose start of an account waits for ``done`` (a slow page)."""

    def __init__(self) -> None:
        super().__init__(account_list=[])
        self.done = asyncio.Event()

    async def add_account(self, spec: AccountSpec) -> AccountInfo:
        await self.done.wait()
        return await super().add_account(spec)


async def test_a_starting_replica_keeps_its_leases_while_its_first_share_starts(
    client: redis.Redis, async_redis: aioredis.Redis
) -> None:
    pool = SlowStartPool()
    starting = replica("starting", pool, async_redis)  # lease_ttl 1 s
    entering = asyncio.create_task(starting.__aenter__())
    key = "gateway:cluster:lease:acc0"
    try:
        await until(lambda: client.hget(key, "owner") == "starting", "the first share is leased")
        first_expiry = client.pexpiretime(key)
        # The start outlasts the lease: still renewed past its first expiry, so no one adopts it meanwhile.
        await until(
            lambda: client.pexpiretime(key) > first_expiry + 1000, "the lease is renewed past its expiry"
        )
        assert not entering.done() and client.hget(key, "owner") == "starting"
    except BaseException:
        entering.cancel()  # a failed wait above must not leave the replica starting (and renewing)
        with contextlib.suppress(asyncio.CancelledError):
            await entering
        raise
    pool.done.set()
    await entering
    try:
        assert ids(pool) == set(NAMES) and set(starting.held) == set(NAMES)
    finally:
        await starting.__aexit__(None, None, None)


def running_tasks(replica_id: str) -> list[asyncio.Task[object]]:
    """The tasks of replica ``replica_id`` still running: its rounds and its accounts' starts and
    stops (named after it)."""
    return [
        task
        for task in asyncio.all_tasks()
        if task.get_name().startswith(f"cluster-{replica_id}") and not task.done()
    ]


class StuckRemovalPool(ScriptedPool):
    """A pool whose removal of an account never ends (a turn that hangs): ``asked`` once it began."""

    def __init__(self) -> None:
        super().__init__(account_list=[])
        self.asked = asyncio.Event()

    async def remove_account(self, account_id: str, *, forget: bool = False) -> None:
        self.asked.set()
        await asyncio.Event().wait()


async def test_a_replica_whose_exit_is_cut_short_leaves_nothing_running(
    client: redis.Redis, async_redis: aioredis.Redis
) -> None:
    """An exit cancelled while an account leaves the pool (uvicorn's shutdown giving up, a test
    torn down) stops the replica's rounds: no task of it remains, so it neither heartbeats nor
    renews a lease into whatever uses this Redis next, and its leases expire (lease_ttl 1 s)."""
    pool = StuckRemovalPool()
    cut = replica("cut", pool, async_redis)
    await cut.__aenter__()
    leaving = asyncio.create_task(cut.__aexit__(None, None, None))
    try:
        await asyncio.wait_for(pool.asked.wait(), WAIT)
        leaving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        assert running_tasks("cut") == []
        await until(lambda: not client.exists("gateway:cluster:replica:cut"), "the heartbeat lapses")
        await until(
            lambda: not any(client.exists(f"gateway:cluster:lease:{n}") for n in NAMES), "the leases lapse"
        )
    finally:
        for task in running_tasks("cut"):  # the code under test failed to: no leak into later tests
            task.cancel()


async def test_a_replica_whose_start_is_cut_short_leaves_nothing_running(
    client: redis.Redis, async_redis: aioredis.Redis
) -> None:
    """An entry cancelled while its first share starts (a slow page; the app's start given up)
    leaves neither its rounds nor its accounts' starts running: no account starts afterwards in a
    pool nobody serves from."""
    pool = SlowStartPool()
    cut = replica("cut", pool, async_redis)
    entering = asyncio.create_task(cut.__aenter__())
    try:
        # Cancelled once its rounds run (the first one ended), while its share starts.
        await until(lambda: cut._loop is not None, "the first round ends")
        entering.cancel()
        with pytest.raises(asyncio.CancelledError):
            await entering
        assert running_tasks("cut") == []
        pool.done.set()  # a start still waiting would now add its account
        await until(lambda: not client.exists("gateway:cluster:replica:cut"), "the heartbeat lapses")
        assert ids(pool) == set()
    finally:
        for task in running_tasks("cut"):
            task.cancel()
