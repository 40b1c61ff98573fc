"""Ownership leases in Redis: which replica drives which account (issue 20 item 2; used by
``service.cluster.ownership``).

A lease is ``gateway:cluster:lease:<resource>``, a hash (owner, token) with a Redis expiry of ``ttl``
seconds (Redis's clock: replicas' clocks never matter). Its owner renews it while alive; a replica
that stops releases it at once; one that dies loses it when it expires, and another acquires it.

Every acquisition takes a new **fencing token** from ``gateway:cluster:fence:<resource>``, a
counter that never goes back and never expires, so a later owner always holds a larger token than
any earlier one. An owner that paused past its expiry (a long GC, a frozen VM) and comes back still
holds its old ``Lease`` object; if another replica acquired the resource meanwhile, ``renew`` and
``valid`` then say it is gone, and a write guarded by the lease (``guarded_set``: the account's
rotated cookies, say) is refused by Redis itself, because the script compares the token with the
current one in the same atomic step. If nobody did (Redis itself was away longer than the ttl, or
no other replica was there), ``renew`` takes the lease back as it was: ``gateway:cluster:last:<resource>``
records the latest acquisition (owner and token, kept until its release), and while it is still
this owner's, no one else held the resource between. (Not the fence alone: a Redis that lost its
data counts tokens from 1 again, and another owner's token could equal this one's.)

``share``: with ``replicas`` live replicas, one holds at most ``ceil(resources / replicas)``
(``rebalance`` acquires free resources up to that and releases the surplus), so all replicas
healthy, none holds more than its fair share plus one while a hand-over is under way.

Every state change is one Lua script: two replicas never both acquire, renew or write. The book is
on redis-py's asyncio client (its scripts registered with it), so every call is awaited on the loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis.asyncio as aioredis

from service.stores.redis_base import PREFIX, text

__all__ = ["Lease", "LeaseBook", "fair_share"]

# KEYS: lease, fence, last. ARGV: owner, ttl_ms. Returns the new token, or 0 when someone holds it.
# ``last`` records the latest acquisition ("<owner> <token>", no expiry) until its release.
_ACQUIRE = """
local holder = redis.call('HGET', KEYS[1], 'owner')
if holder and holder ~= ARGV[1] then return 0 end
if holder then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('HGET', KEYS[1], 'token'))
end
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[3], ARGV[1] .. ' ' .. token)
return token
"""
# KEYS: lease, last. ARGV: owner, token, ttl_ms. 1 renewed, 0 lost. A lease that expired while its
# owner could not renew it (Redis away longer than the ttl, a pause) is taken back as it was when the
# latest acquisition is still its own, unreleased: no other replica held the account meanwhile.
_RENEW = """
local now = redis.call('HMGET', KEYS[1], 'owner', 'token')
if now[1] == ARGV[1] and now[2] == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if now[1] or redis.call('GET', KEYS[2]) ~= ARGV[1] .. ' ' .. ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""
# KEYS: lease, last. ARGV: owner, token. 1 released, 0 not ours (any more). The record of the
# acquisition goes with it, so the released lease can never be renewed back (``_RENEW``).
_RELEASE = """
local now = redis.call('HMGET', KEYS[1], 'owner', 'token')
if now[1] ~= ARGV[1] or now[2] ~= ARGV[2] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""
# KEYS: lease, target. ARGV: owner, token, value, expiry in ms ('' none, 'delete': delete the
# target). 1 written, 0 refused (the lease passed on).
_GUARDED_SET = """
local now = redis.call('HMGET', KEYS[1], 'owner', 'token')
if now[1] ~= ARGV[1] or now[2] ~= ARGV[2] then return 0 end
if ARGV[4] == 'delete' then
  redis.call('DEL', KEYS[2])
elseif ARGV[4] ~= '' then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
else
  redis.call('SET', KEYS[2], ARGV[3])
end
return 1
"""


def fair_share(resources: int, replicas: int) -> int:
    """How many of ``resources`` one of ``replicas`` live replicas holds at most."""
    return math.ceil(resources / max(1, replicas))


@dataclass(frozen=True)
class Lease:
    resource: str
    owner: str
    token: int  # the fencing token: larger for every later acquisition of the resource


class LeaseBook:
    """The leases of one replica (``owner``) on one Redis."""

    def __init__(self, client: aioredis.Redis, owner: str, *, ttl: float = 15.0) -> None:
        if ttl <= 0:
            raise ValueError("a lease's ttl must be positive")
        self.redis = client
        self.owner = owner
        self.ttl_ms = max(1, int(ttl * 1000))
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._guarded_set = client.register_script(_GUARDED_SET)

    @staticmethod
    def _key(kind: str, resource: str) -> str:
        return f"{PREFIX}:cluster:{kind}:{resource}"

    async def acquire(self, resource: str) -> Lease | None:
        """The resource's lease for this replica (renewed if it holds it already), or None."""
        token = int(
            await self._acquire(
                keys=[
                    self._key("lease", resource),
                    self._key("fence", resource),
                    self._key("last", resource),
                ],
                args=[self.owner, self.ttl_ms],
            )
        )
        return Lease(resource, self.owner, token) if token else None

    async def renew(self, lease: Lease) -> Lease | None:
        """Push the expiry back, or take back a lease that expired untouched; None when the lease
        passed to another owner, or was released (stop using it)."""
        args: list[str | int] = [lease.owner, lease.token, self.ttl_ms]
        keys = [self._key("lease", lease.resource), self._key("last", lease.resource)]
        return lease if await self._renew(keys=keys, args=args) else None

    async def release(self, lease: Lease) -> bool:
        """Hand the resource back at once (False: it was no longer ours)."""
        args: list[str | int] = [lease.owner, lease.token]
        keys = [self._key("lease", lease.resource), self._key("last", lease.resource)]
        return bool(await self._release(keys=keys, args=args))

    async def valid(self, lease: Lease) -> bool:
        """Whether ``lease`` is still the current one (checked before each use of the resource)."""
        owner, token = await self.redis.hmget(self._key("lease", lease.resource), "owner", "token")
        return (
            owner is not None
            and token is not None
            and (text(owner), int(text(token)))
            == (
                lease.owner,
                lease.token,
            )
        )

    async def holder(self, resource: str) -> Lease | None:
        owner, token = await self.redis.hmget(self._key("lease", resource), "owner", "token")
        if owner is None or token is None:
            return None
        return Lease(resource, text(owner), int(text(token)))

    async def guarded_set(
        self, lease: Lease, key: str, value: str | None, *, expire_in: float | None = None
    ) -> bool:
        """Write ``key`` only while ``lease`` is current, atomically (a fenced write); ``value``
        None deletes it; ``expire_in`` (seconds) lets it expire."""
        expiry = (
            "delete" if value is None else "" if expire_in is None else str(max(1, int(expire_in * 1000)))
        )
        args: list[str | int] = [lease.owner, lease.token, value or "", expiry]
        return bool(await self._guarded_set(keys=[self._key("lease", lease.resource), key], args=args))

    async def held(self, resources: Iterable[str]) -> list[Lease]:
        """This replica's current leases among ``resources``."""
        leases = [await self.holder(resource) for resource in resources]
        return [lease for lease in leases if lease is not None and lease.owner == self.owner]

    async def rebalance(self, resources: Sequence[str], replicas: int) -> list[Lease]:
        """Hold this replica's share of ``resources`` among ``replicas`` live replicas: renew what
        it holds, release the surplus, acquire free ones up to the share. Returns what it holds."""
        share = fair_share(len(resources), replicas)
        mine = [
            renewed
            for lease in await self.held(resources)
            if (renewed := await self.renew(lease)) is not None
        ]
        for surplus in mine[share:]:
            await self.release(surplus)
        mine = mine[:share]
        for resource in resources:
            if len(mine) >= share:
                break
            if any(lease.resource == resource for lease in mine):
                continue
            lease = await self.acquire(resource)
            if lease is not None:
                mine.append(lease)
        return mine
