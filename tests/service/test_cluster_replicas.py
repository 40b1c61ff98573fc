"""One browser per account (issue 20 item 2): gateways on one real Redis share the accounts out, each
driven by exactly one replica. Real uvicorn, real Redis (``tests/support/redis.py``); the pools are
scripted pools that also record which replica drives each account, so that two pools driving one
account at any moment is caught, not only at the end."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr

from browser import AccountInfo, AccountSpec
from service.cluster.lease import LeaseBook
from service.settings import AccountConfig
from tests.service.conftest import API_KEY
from tests.service.scripted_pool import Script, ScriptedPool, growing
from tests.service.test_admin_accounts import PSID, admin, gateway
from tests.service.test_keys_api import chat
from tests.support import polling
from tests.support.redis import on_redis

WAIT = 20.0  # bound of every wait on a condition
REMOVAL = 0.3  # how long a pool's removal of an account takes (three rounds of 0.1 s)
PAGE_LOAD = 0.5  # how long a pool's start of an account takes (longer than a removal)


@dataclass
class Driving:
    """Which replica's pool drives each account now, and every moment two did."""

    now: dict[str, str] = field(default_factory=dict)
    overlaps: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class ExclusivePool(ScriptedPool):
    replica: str = ""
    driving: Driving = field(default_factory=Driving)

    async def add_account(self, spec: AccountSpec) -> AccountInfo:
        await asyncio.sleep(PAGE_LOAD)  # a start is a page load: rounds run meanwhile
        info = await super().add_account(spec)
        with self.driving.lock:
            other = self.driving.now.get(info.id)
            if other is not None and other != self.replica:
                self.driving.overlaps.append(f"{info.id} on {other} and {self.replica}")
            self.driving.now[info.id] = self.replica
        return info

    async def remove_account(self, account_id: str, *, forget: bool = False) -> None:
        # The real pool's removal waits for the account's running turns to end: modelled as a few
        # of the replicas' rounds, so that a lease handed back before the removal ends is caught.
        await asyncio.sleep(REMOVAL)
        await super().remove_account(account_id, forget=forget)
        with self.driving.lock:
            if self.driving.now.get(account_id) == self.replica:
                del self.driving.now[account_id]

    def ids(self) -> set[str]:
        return {info.id for info in self.account_list}


until = partial(polling.until, bound=WAIT)


def configured(n: int) -> list[AccountConfig]:
    return [AccountConfig(name=f"acc{i}", psid=SecretStr(f"paid-psid-{i}")) for i in range(n)]


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    yield connection
    connection.close()


@dataclass
class Replica:
    pool: ExclusivePool
    url: str
    stack: ExitStack

    def stop(self) -> None:
        self.stack.close()


Start = Callable[..., Replica]


@pytest.fixture
def replicas(redis_url: str, tmp_path: Path) -> Iterator[Start]:
    """``start(name, accounts, **cluster)``: a gateway replica named ``name`` on the shared Redis.
    Every replica still running stops at the end."""
    driving = Driving()
    stacks: list[ExitStack] = []

    def start(name: str, accounts: list[AccountConfig], **cluster: Any) -> Replica:
        pool = ExclusivePool(account_list=[], replica=name, driving=driving)
        stack = ExitStack()
        stacks.append(stack)
        url = stack.enter_context(
            gateway(
                tmp_path / name,
                pool,
                state={"backend": "redis", "redis_url": redis_url},
                media={"shared_dir": tmp_path / "media"},
                cluster={"replica_id": name, "lease_ttl": 3.0, "renew_interval": 0.1, **cluster},
                accounts=accounts,
            )
        )
        return Replica(pool, url, stack)

    yield start
    for stack in reversed(stacks):
        stack.close()
    assert driving.overlaps == [], "two replicas drove one account at once"


def owners(client: redis.Redis, names: list[str]) -> dict[str, str | None]:
    return {name: client.hget(f"gateway:cluster:lease:{name}", "owner") for name in names}


def test_two_replicas_split_the_accounts_and_one_stopping_hands_its_own_over(
    replicas: Start, client: redis.Redis
) -> None:
    accounts = configured(5)
    names = [config.name for config in accounts]
    a = replicas("a", accounts)
    assert a.pool.ids() == set(names)  # alone, the first replica started every account before serving
    b = replicas("b", accounts)

    def balanced() -> bool:
        return a.pool.ids() | b.pool.ids() == set(names) and max(len(a.pool.ids()), len(b.pool.ids())) <= 3

    until(balanced, "the replicas share the five accounts")
    assert not a.pool.ids() & b.pool.ids()
    assert max(len(a.pool.ids()), len(b.pool.ids())) <= math.ceil(5 / 2) + 1
    held = owners(client, names)
    assert {name for name, owner in held.items() if owner == "b"} == b.pool.ids()
    # A's hand-over removed each account from its pool, without forgetting its cookies or profile.
    assert set(a.pool.removed) == {(name, False) for name in b.pool.ids()}
    assert set(client.zrange("gateway:cluster:replicas", 0, -1)) == {"a", "b"}

    b_had = b.pool.ids()
    b.stop()
    # At once: B's pool let its accounts go, and their leases and B's heartbeat are gone (A may
    # have adopted some already: its rounds go on meanwhile).
    assert b.pool.ids() == set() and {(name, False) for name in b_had} <= set(b.pool.removed)
    assert all(owner in (None, "a") for owner in owners(client, sorted(b_had)).values())
    assert client.zrange("gateway:cluster:replicas", 0, -1) == ["a"]
    assert not client.exists("gateway:cluster:replica:b")
    until(lambda: a.pool.ids() == set(names), "the replica left adopts every account")
    assert set(owners(client, names).values()) == {"a"}


def test_the_admin_list_names_the_owner_and_an_added_account_is_driven_once(
    replicas: Start, client: redis.Redis
) -> None:
    a = replicas("a", configured(1))
    b = replicas("b", configured(1))
    with admin(a.url) as on_a:
        added = on_a.post("/accounts", json={"name": "alice", "psid": PSID})
        assert added.status_code == 201, added.text
        assert added.json()["owner"] == "a"  # A started it, under a lease it took first
        listed = {row["id"]: row for row in on_a.get("/accounts").json()["data"]}
        assert listed["alice"]["owner"] == "a" and listed["alice"]["source"] == "added"
    until(lambda: a.pool.ids() | b.pool.ids() == {"acc0", "alice"}, "the two accounts are driven")
    until(lambda: len(a.pool.ids()) == len(b.pool.ids()) == 1, "each replica drives one account")
    # Rounds ran while its page loaded, before it reached the registry: none took it for removed.
    assert ("alice", True) not in a.pool.removed + b.pool.removed
    with admin(b.url) as on_b:
        # B lists both (its own live, A's from A's report: tests/service/test_cluster_view.py).
        (row,) = [row for row in on_b.get("/accounts").json()["data"] if row["reported_at"] is None]
        assert row["owner"] == "b" and row["id"] in b.pool.ids()
        # The same name again is refused on the other replica too.
        again = on_b.post("/accounts", json={"name": "alice", "psid": PSID + "x"})
        assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
        # Removed through B, whichever replica drives it: its owner stops it and forgets it.
        assert on_b.delete("/accounts/alice").status_code == 200
    until(lambda: "alice" not in a.pool.ids() | b.pool.ids(), "the owner stops the removed account")
    assert ("alice", True) in a.pool.removed + b.pool.removed
    until(lambda: client.hget("gateway:cluster:lease:alice", "owner") is None, "its lease is released")


def test_a_stale_owner_refuses_the_turn_and_lets_the_account_go(
    replicas: Start, client: redis.Redis, redis_url: str
) -> None:
    # A renews rarely here, so that its own view still says it holds both accounts when the lease
    # of one passes to another replica (what a long pause or a partition does).
    a = replicas("a", configured(2), lease_ttl=60.0, renew_interval=30.0)
    assert a.pool.ids() == {"acc0", "acc1"}
    client.delete("gateway:cluster:lease:acc0")  # as if it expired
    thief = on_redis(redis_url, lambda shared: LeaseBook(shared, "elsewhere").acquire("acc0"))
    assert thief is not None
    a.pool.queue(
        Script(growing("from the stale account"), account_id="acc0"),
        Script(growing("from the account it holds"), account_id="acc1"),
    )
    answered = chat(a.url, API_KEY)
    assert answered.status_code == 200, answered.text
    assert answered.json()["choices"][0]["message"]["content"] == "from the account it holds"
    # acc0 went out of rotation at once and leaves A's pool; the other replica's lease is untouched.
    until(lambda: a.pool.ids() == {"acc1"}, "the lost account leaves the stale owner's pool")
    assert ("acc0", False) in a.pool.removed
    assert client.hget("gateway:cluster:lease:acc0", "owner") == "elsewhere"
    with admin(a.url) as on_a:
        listed = {row["id"]: row["owner"] for row in on_a.get("/accounts").json()["data"]}
        # acc0 is listed with the replica holding its lease (not live: no report of it, "starting").
        assert listed == {"acc1": "a", "acc0": "elsewhere"}
