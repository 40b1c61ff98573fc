"""Ownership leases (``service.cluster.lease``) on a real Redis: one owner at a time, handed back at
once on release, lost on expiry to another owner, taken back when nobody took it, fenced, and shared
out fairly."""

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


def test_a_lease_that_expired_untouched_is_taken_back_as_it_was(client: redis.Redis) -> None:
    # Redis away longer than the ttl (or a pause with no other replica there): nobody acquired the
    # account meanwhile, so its owner's next renewal takes the lease back, same token, and its
    # fenced writes go on.
    a, b = LeaseBook(client, "a", ttl=0.05), LeaseBook(client, "b")
    lease = a.acquire("acct-1")
    assert lease is not None
    key = "gateway:cluster:lease:acct-1"
    deadline = time.monotonic() + 10
    while client.exists(key):
        assert time.monotonic() < deadline, "the lease never expired"
        time.sleep(0.01)
    assert not a.valid(lease)
    assert a.renew(lease) == lease and a.valid(lease) and b.acquire("acct-1") is None
    assert a.guarded_set(lease, "gateway:test:cookies", "still-a")


def test_a_released_lease_is_never_renewed_back(client: redis.Redis) -> None:
    # A replica that handed an account over and renews an old copy of its lease (a round racing
    # the release) must not take it again: the release ended the record of its acquisition.
    a, b = LeaseBook(client, "a"), LeaseBook(client, "b")
    lease = a.acquire("acct-1")
    assert lease is not None and a.release(lease)
    assert a.renew(lease) is None and not a.valid(lease)
    adopted = b.acquire("acct-1")
    assert adopted is not None and adopted.token > lease.token


def test_after_redis_lost_its_data_an_old_lease_is_never_taken_back(client: redis.Redis) -> None:
    # A Redis without persistence restarts empty: tokens count from 1 again, so another owner's
    # lease may carry the old one's token. Held and expired since, it is still not the old one's.
    a, b = LeaseBook(client, "a"), LeaseBook(client, "b", ttl=0.05)
    old = a.acquire("acct-1")
    assert old is not None
    client.flushall()
    other = b.acquire("acct-1")
    assert other is not None and other.token == old.token
    until_gone = time.monotonic() + 10
    while client.exists("gateway:cluster:lease:acct-1"):
        assert time.monotonic() < until_gone, "the lease never expired"
        time.sleep(0.01)
    assert a.renew(old) is None and not a.valid(old)


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
