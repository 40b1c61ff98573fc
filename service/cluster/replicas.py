"""Which replicas are alive: each heartbeats ``gateway:cluster:replica:<id>`` (a key with the lease
TTL, readable by an operator) and its entry in ``gateway:cluster:replicas``, a sorted set scored by
the entry's expiry on Redis's clock, so counting the live replicas is one script and never a SCAN
over every key of the database. A replica that stops deletes both at once; one that dies drops out
of the count when its entry expires."""

from __future__ import annotations

import redis.asyncio as aioredis

from service.stores.redis_base import PREFIX, texts

__all__ = ["ReplicaRegistry"]

# KEYS: the replica's key, the set. ARGV: id, ttl_ms. Returns the live replicas' ids (this one too).
_BEAT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('SET', KEYS[1], now_ms, 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], now_ms + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms)
return redis.call('ZRANGE', KEYS[2], 0, -1)
"""


class ReplicaRegistry:
    """One replica's heartbeat on ``client`` (text replies)."""

    def __init__(self, client: aioredis.Redis, replica_id: str, *, ttl: float) -> None:
        self.redis = client
        self.replica_id = replica_id
        self.ttl_ms = max(1, int(ttl * 1000))
        self._beat = client.register_script(_BEAT)
        self._key = f"{PREFIX}:cluster:replica:{replica_id}"
        self._set = f"{PREFIX}:cluster:replicas"

    async def beat(self) -> list[str]:
        """Say this replica is alive for another ttl; returns every live replica's id."""
        return texts(await self._beat(keys=[self._key, self._set], args=[self.replica_id, self.ttl_ms]))

    async def leave(self) -> None:
        """Out of the count at once (a replica that stops)."""
        async with self.redis.pipeline() as pipe:
            pipe.delete(self._key)
            pipe.zrem(self._set, self.replica_id)
            await pipe.execute()
