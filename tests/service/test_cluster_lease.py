"""Ownership leases (``service.cluster.lease``) on a real Redis: one owner at a time, handed back at
once on release, lost on expiry to another owner, taken back when nobody took it, fenced, and shared
out fairly."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from service.cluster.lease import LeaseBook, fair_share


async def _until_gone(client: aioredis.Redis, key: str) -> None:
    deadline = time.monotonic() + 10
    while await client.exists(key):
        assert time.monotonic() < deadline, "the lease never expired"
        await asyncio.sleep(0.01)


async def test_one_owner_at_a_time_even_when_all_race(async_redis: aioredis.Redis, redis_url: str) -> None:
    # Three replicas, each on its own client (its own connections): thirty acquisitions at once.
    clients = [aioredis.Redis.from_url(redis_url, decode_responses=True) for _ in range(3)]
    try:
        books = [LeaseBook(client, f"replica-{n}") for n, client in enumerate(clients)]
        leases = await asyncio.gather(*(books[n % 3].acquire("acct-1") for n in range(30)))
    finally:
        for client in clients:
            await client.aclose()
    winners = {lease.owner for lease in leases if lease is not None}
    assert len(winners) == 1
    (winner,) = winners
    holder = await LeaseBook(async_redis, "reader").holder("acct-1")
    assert holder is not None and holder.owner == winner


async def test_a_release_hands_the_account_over_at_once(async_redis: aioredis.Redis) -> None:
    a, b = LeaseBook(async_redis, "a"), LeaseBook(async_redis, "b")
    first = await a.acquire("acct-1")
    assert first is not None and await b.acquire("acct-1") is None
    assert await a.acquire("acct-1") == first  # its own lease again, renewed, same token
    assert await a.release(first) and not await a.release(first)
    second = await b.acquire("acct-1")
    assert second is not None and second.token > first.token


async def test_an_expired_lease_is_adopted_and_the_stale_owner_is_fenced(async_redis: aioredis.Redis) -> None:
    a, b = LeaseBook(async_redis, "a", ttl=0.05), LeaseBook(async_redis, "b")
    stale = await a.acquire("acct-1")
    assert stale is not None and await a.guarded_set(stale, "gateway:test:cookies", "from-a")
    # ``a`` stops renewing (it died, or froze): Redis expires the lease and ``b`` adopts it.
    deadline = time.monotonic() + 10
    while (adopted := await b.acquire("acct-1")) is None:
        assert time.monotonic() < deadline, "the lease never expired"
        await asyncio.sleep(0.01)
    assert adopted.token > stale.token
    # The stale owner comes back holding its old lease: every use of it is refused.
    assert not await a.valid(stale) and await a.renew(stale) is None and not await a.release(stale)
    assert not await a.guarded_set(stale, "gateway:test:cookies", "from-a-again")
    assert await b.guarded_set(adopted, "gateway:test:cookies", "from-b") and await b.valid(adopted)
    assert await async_redis.get("gateway:test:cookies") == "from-b"


async def test_a_lease_that_expired_untouched_is_taken_back_as_it_was(async_redis: aioredis.Redis) -> None:
    # Redis away longer than the ttl (or a pause with no other replica there): nobody acquired the
    # account meanwhile, so its owner's next renewal takes the lease back, same token, and its
    # fenced writes go on.
    a, b = LeaseBook(async_redis, "a", ttl=0.05), LeaseBook(async_redis, "b")
    lease = await a.acquire("acct-1")
    assert lease is not None
    await _until_gone(async_redis, "gateway:cluster:lease:acct-1")
    assert not await a.valid(lease)
    assert await a.renew(lease) == lease and await a.valid(lease) and await b.acquire("acct-1") is None
    assert await a.guarded_set(lease, "gateway:test:cookies", "still-a")


async def test_a_released_lease_is_never_renewed_back(async_redis: aioredis.Redis) -> None:
    # A replica that handed an account over and renews an old copy of its lease (a round racing
    # the release) must not take it again: the release ended the record of its acquisition.
    a, b = LeaseBook(async_redis, "a"), LeaseBook(async_redis, "b")
    lease = await a.acquire("acct-1")
    assert lease is not None and await a.release(lease)
    assert await a.renew(lease) is None and not await a.valid(lease)
    adopted = await b.acquire("acct-1")
    assert adopted is not None and adopted.token > lease.token


async def test_after_redis_lost_its_data_an_old_lease_is_never_taken_back(
    async_redis: aioredis.Redis,
) -> None:
    # A Redis without persistence restarts empty: tokens count from 1 again, so another owner's
    # lease may carry the old one's token. Held and expired since, it is still not the old one's.
    a, b = LeaseBook(async_redis, "a"), LeaseBook(async_redis, "b", ttl=0.05)
    old = await a.acquire("acct-1")
    assert old is not None
    await async_redis.flushall()
    other = await b.acquire("acct-1")
    assert other is not None and other.token == old.token
    await _until_gone(async_redis, "gateway:cluster:lease:acct-1")
    assert await a.renew(old) is None and not await a.valid(old)


async def test_replicas_share_the_accounts_fairly(async_redis: aioredis.Redis) -> None:
    accounts = [f"acct-{n}" for n in range(10)]
    books = [LeaseBook(async_redis, f"replica-{n}") for n in range(3)]
    held = {book.owner: await book.rebalance(accounts, replicas=3) for book in books}
    assert sorted(lease.resource for leases in held.values() for lease in leases) == accounts
    assert all(len(leases) <= fair_share(10, 3) for leases in held.values())
    # One replica stops: it hands its accounts back, and the two left take them all.
    gone = books.pop()
    for lease in held.pop(gone.owner):
        assert await gone.release(lease)
    held = {book.owner: await book.rebalance(accounts, replicas=2) for book in books}
    assert sorted(lease.resource for leases in held.values() for lease in leases) == accounts
    assert all(len(leases) <= fair_share(10, 2) for leases in held.values())
    # A third replica joins: the others give up their surplus, and it takes its share.
    joined = LeaseBook(async_redis, "replica-new")
    for book in books:
        await book.rebalance(accounts, replicas=3)
    assert len(await joined.rebalance(accounts, replicas=3)) == 10 - 2 * fair_share(10, 3)  # what they freed
    owners = [await async_redis.hget(f"gateway:cluster:lease:{account}", "owner") for account in accounts]
    assert None not in owners and max(owners.count(o) for o in set(owners)) <= fair_share(10, 3)
