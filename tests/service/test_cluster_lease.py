"""Ownership leases (``service.cluster.lease``) on a real Redis: one owner at a time, handed back at
once on release, lost on expiry, fenced, and shared out fairly."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from service.cluster.lease import LeaseBook, fair_share


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url, decode_responses=True)
    yield connection
    connection.close()


def test_one_owner_at_a_time_even_when_all_race(client: redis.Redis) -> None:
    books = [LeaseBook(client, f"replica-{n}") for n in range(3)]
    start = threading.Barrier(30)

    def race(n: int) -> str | None:
        start.wait()
        lease = books[n % 3].acquire("acct-1")
        return lease.owner if lease is not None else None

    with ThreadPoolExecutor(30) as pool:
        winners = {owner for owner in pool.map(race, range(30)) if owner is not None}
    assert len(winners) == 1
    (winner,) = winners
    assert books[0].holder("acct-1").owner == winner  # type: ignore[union-attr]


def test_a_release_hands_the_account_over_at_once(client: redis.Redis) -> None:
    a, b = LeaseBook(client, "a"), LeaseBook(client, "b")
    first = a.acquire("acct-1")
    assert first is not None and b.acquire("acct-1") is None
    assert a.acquire("acct-1") == first  # its own lease again, renewed, same token
    assert a.release(first) and not a.release(first)
    second = b.acquire("acct-1")
    assert second is not None and second.token > first.token


def test_an_expired_lease_is_adopted_and_the_stale_owner_is_fenced(client: redis.Redis) -> None:
    a, b = LeaseBook(client, "a", ttl=0.05), LeaseBook(client, "b")
    stale = a.acquire("acct-1")
    assert stale is not None and a.guarded_set(stale, "gateway:test:cookies", "from-a")
    # ``a`` stops renewing (it died, or froze): Redis expires the lease and ``b`` adopts it.
    deadline = time.monotonic() + 10
    while (adopted := b.acquire("acct-1")) is None:
        assert time.monotonic() < deadline, "the lease never expired"
        time.sleep(0.01)
    assert adopted.token > stale.token
    # The stale owner comes back holding its old lease: every use of it is refused.
    assert not a.valid(stale) and a.renew(stale) is None and not a.release(stale)
    assert not a.guarded_set(stale, "gateway:test:cookies", "from-a-again")
    assert b.guarded_set(adopted, "gateway:test:cookies", "from-b") and b.valid(adopted)
    assert client.get("gateway:test:cookies") == "from-b"


def test_replicas_share_the_accounts_fairly(client: redis.Redis) -> None:
    accounts = [f"acct-{n}" for n in range(10)]
    books = [LeaseBook(client, f"replica-{n}") for n in range(3)]
    held = {book.owner: book.rebalance(accounts, replicas=3) for book in books}
    assert sorted(lease.resource for leases in held.values() for lease in leases) == accounts
    assert all(len(leases) <= fair_share(10, 3) for leases in held.values())
    # One replica stops: it hands its accounts back, and the two left take them all.
    gone = books.pop()
    for lease in held.pop(gone.owner):
        assert gone.release(lease)
    held = {book.owner: book.rebalance(accounts, replicas=2) for book in books}
    assert sorted(lease.resource for leases in held.values() for lease in leases) == accounts
    assert all(len(leases) <= fair_share(10, 2) for leases in held.values())
    # A third replica joins: the others give up their surplus, and it takes its share.
    joined = LeaseBook(client, "replica-new")
    for book in books:
        book.rebalance(accounts, replicas=3)
    assert len(joined.rebalance(accounts, replicas=3)) == 10 - 2 * fair_share(10, 3)  # what they freed
    owners = [client.hget(f"gateway:cluster:lease:{account}", "owner") for account in accounts]
    assert None not in owners and max(owners.count(o) for o in set(owners)) <= fair_share(10, 3)
