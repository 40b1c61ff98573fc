"""API keys in Redis (``service.keys`` on SQLite is the other backend), and their limits counted
across every replica.

A key is a hash ``gateway:keys:record:<id>`` (the digest only, never the key), found by digest
through ``gateway:keys:by_digest``; ``gateway:keys:ids`` orders them by creation. The limits are
two sorted sets per key, changed only by one Lua script (``_ADMIT``), so two replicas admitting at
once never both take the last place:

- ``rate:<id>``: one member per admitted request, scored by its time; the window is the last 60 s;
- ``active:<id>``: one member per request running now, scored by when its slot lapses. A running
  request's replica renews its slots (every ``SLOT_TTL / 3`` s); a replica that dies renews nothing,
  so its slots lapse after at most ``SLOT_TTL`` s and the key's concurrency frees itself.

The store is on redis-py's asyncio client (the gate awaits ``lookup`` and ``admit`` on the loop);
the renewal of the slots is a task of the loop, started by ``open`` and ended by ``close``.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from service.auth import Caller, Release
from service.errors import RateLimited
from service.key_scopes import normalise_scopes
from service.keys import (
    _SHOWN_CHARS,
    _WINDOW,
    CreatedKey,
    KeyRecord,
    check_limits,
    key_digest,
    new_key,
)
from service.periodic import Periodic
from service.stores.redis_base import AsyncRedisStore, text, text_map, texts

__all__ = ["SLOT_TTL", "RedisKeyStore"]

log = logging.getLogger(__name__)

SLOT_TTL = 60.0

# KEYS: record, rate, active. ARGV: now, window, slot lapse time, member.
# Returns {0} admitted, {1, wait} over the rate, {2} over the concurrency, {3} no such key.
_ADMIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {3} end
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limits = redis.call('HMGET', KEYS[1], 'per_minute', 'max_concurrent')
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if limits[1] and redis.call('ZCARD', KEYS[2]) >= tonumber(limits[1]) then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {1, tostring(tonumber(oldest[2]) + window - now)}
end
if limits[2] and redis.call('ZCARD', KEYS[3]) >= tonumber(limits[2]) then return {2} end
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('EXPIRE', KEYS[2], math.ceil(window) + 1)
redis.call('ZADD', KEYS[3], tonumber(ARGV[3]), ARGV[4])
redis.call('HINCRBY', KEYS[1], 'requests', 1)
redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
return {0}
"""
# KEYS: record. ARGV: field, value ('' deletes it), only_if_absent ('1': set only when absent).
_CHANGE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1])
elseif ARGV[3] == '1' then redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""


class RedisKeyStore(AsyncRedisStore):
    store = "keys"
    _what = "the key store"

    def __init__(self, client: aioredis.Redis, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(client)
        self._clock = clock
        self._admit = client.register_script(_ADMIT)
        self._change = client.register_script(_CHANGE)
        self._held: dict[str, str] = {}  # slot -> key id: this replica's running requests
        self._renewer = Periodic(self.renew, SLOT_TTL / 3, name="key-slots")

    async def open(self) -> None:
        await super().open()
        self._renewer.start()

    async def close(self) -> None:
        await self._renewer.stop()

    async def renew(self) -> None:
        """Push back the lapse of every slot this replica holds (``XX``: a released one stays gone)."""
        held = list(self._held.items())
        lapse = self._clock() + SLOT_TTL
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for slot, key_id in held:
                    pipe.zadd(self.key("active", key_id), {slot: lapse}, xx=True)
                await pipe.execute()
        except RedisError as exc:  # the next round tries again; the slots lapse meanwhile
            log.warning("could not renew the keys' concurrency slots (%s)", type(exc).__name__)

    # -- admin --

    async def create(
        self,
        name: str,
        *,
        expires_at: float | None = None,
        max_concurrent: int | None = None,
        per_minute: int | None = None,
        accounts: tuple[str, ...] | None = None,
        scopes: Iterable[str] | None = None,
    ) -> CreatedKey:
        check_limits(self._clock(), expires_at, max_concurrent=max_concurrent, per_minute=per_minute)
        stored_scopes = normalise_scopes(scopes)
        key, key_id = new_key()
        now = self._clock()
        fields: dict[str, object] = {
            "id": key_id,
            "name": name,
            "digest": key_digest(key),
            "shown": key[:_SHOWN_CHARS] + "…",
            "created_at": now,
            "expires_at": expires_at,
            "max_concurrent": max_concurrent,
            "per_minute": per_minute,
            "accounts": json.dumps(list(accounts)) if accounts is not None else None,
            "scopes": json.dumps(list(stored_scopes)) if stored_scopes else None,
            "requests": 0,
        }
        await self.put_record(fields)
        record = await self.get(key_id)
        assert record is not None
        return CreatedKey(record=record, key=key)

    async def put_record(self, fields: dict[str, object]) -> None:
        """Store one key's fields as they are (``create``, and the migration from SQLite)."""
        key_id = str(fields["id"])
        present: dict[Any, Any] = {name: str(value) for name, value in fields.items() if value is not None}
        async with self.redis.pipeline() as pipe:  # MULTI/EXEC: the record and its indexes together
            pipe.delete(self.key("record", key_id))
            pipe.hset(self.key("record", key_id), mapping=present)
            pipe.hset(self.key("by_digest"), present["digest"], key_id)
            pipe.zadd(self.key("ids"), {key_id: float(present["created_at"])})
            await pipe.execute()

    async def list(self) -> list[KeyRecord]:
        ids = texts(await self.redis.zrange(self.key("ids"), 0, -1))
        records = [await self.get(key_id) for key_id in ids]
        return [record for record in records if record is not None]

    async def get(self, key_id: str) -> KeyRecord | None:
        fields = text_map(await self.redis.hgetall(self.key("record", key_id)))
        return _record(fields) if fields else None

    async def set_scopes(self, key_id: str, scopes: Iterable[str] | None) -> KeyRecord | None:
        stored = normalise_scopes(scopes)
        await self._change(
            keys=[self.key("record", key_id)],
            args=["scopes", json.dumps(list(stored)) if stored else "", "0"],
        )
        return await self.get(key_id)

    async def revoke(self, key_id: str) -> KeyRecord | None:
        await self._change(keys=[self.key("record", key_id)], args=["revoked_at", repr(self._clock()), "1"])
        return await self.get(key_id)

    # -- the gate --

    async def lookup(self, key: str) -> Caller | None:
        digest = key_digest(key)
        key_id = await self.redis.hget(self.key("by_digest"), digest)
        if key_id is None:
            return None
        # Two round trips, awaited: the gate runs this for every request.
        fields = text_map(await self.redis.hgetall(self.key("record", text(key_id))))
        if not fields or not hmac.compare_digest(fields["digest"], digest):
            return None
        record = _record(fields)
        if not record.live(self._clock()):
            return None
        group = frozenset(record.accounts) if record.accounts is not None else None
        allowed = frozenset(record.scopes) if record.scopes is not None else None
        return Caller(identity=digest[:32], key_id=record.id, accounts=group, scopes=allowed)

    async def admit(self, caller: Caller) -> Release:
        if caller.key_id is None:
            return _nothing
        key_id = caller.key_id
        now = self._clock()
        slot = uuid.uuid4().hex
        answer = await self._admit(
            keys=[self.key("record", key_id), self.key("rate", key_id), self.key("active", key_id)],
            args=[repr(now), repr(_WINDOW), repr(now + SLOT_TTL), slot],
        )
        outcome = int(answer[0])
        if outcome == 3:
            return _nothing
        if outcome == 1:
            record = await self.get(key_id)
            limit = record.per_minute if record is not None else None
            raise RateLimited(f"This key allows {limit} requests per minute.", retry_after=float(answer[1]))
        if outcome == 2:
            record = await self.get(key_id)
            limit = record.max_concurrent if record is not None else None
            raise RateLimited(f"This key allows {limit} concurrent requests.", retry_after=1.0)
        self._held[slot] = key_id

        async def release() -> None:
            if self._held.pop(slot, None) is None:
                return
            await self.redis.zrem(self.key("active", key_id), slot)

        return release

    async def active(self, key_id: str) -> int:
        return int(await self.redis.zcount(self.key("active", key_id), f"({self._clock()!r}", "+inf"))


async def _nothing() -> None:
    return None


def _record(fields: dict[str, str]) -> KeyRecord:
    def number(name: str) -> float | None:
        return float(fields[name]) if name in fields else None

    def whole(name: str) -> int | None:
        return int(fields[name]) if name in fields else None

    return KeyRecord(
        id=fields["id"],
        name=fields["name"],
        shown=fields["shown"],
        created_at=float(fields["created_at"]),
        expires_at=number("expires_at"),
        max_concurrent=whole("max_concurrent"),
        per_minute=whole("per_minute"),
        accounts=tuple(json.loads(fields["accounts"])) if "accounts" in fields else None,
        revoked_at=number("revoked_at"),
        last_used_at=number("last_used_at"),
        requests=int(fields.get("requests", 0)),
        scopes=tuple(json.loads(fields["scopes"])) if "scopes" in fields else None,
    )
