"""Secrets every replica must hold alike, made once in Redis: the first replica that needs one writes
a random value with ``SET NX`` (atomic: two replicas starting together agree on the first), every
other replica reads that one. Sealed with ``state.encryption_key`` when it is set, like the cookies.

Under ``gateway:secrets:<name>``; the value is never logged and never part of a repr or an error."""

from __future__ import annotations

import secrets

import redis.asyncio as aioredis

from service.stores.redis_base import AsyncRedisStore, Sealer, text

__all__ = ["RedisSecrets"]

_BYTES = 32


class RedisSecrets(AsyncRedisStore):
    store = "secrets"
    _what = "the shared secrets"

    def __init__(self, client: aioredis.Redis, sealer: Sealer) -> None:
        super().__init__(client)
        self._sealer = sealer

    def __repr__(self) -> str:
        return f"RedisSecrets({self._sealer!r})"

    async def shared(self, name: str) -> bytes:
        """The secret ``name`` (64 hex characters), created by the first replica that asks."""
        key = self.key(name)
        await self.redis.set(key, self._sealer.seal(secrets.token_hex(_BYTES)), nx=True)
        stored = await self.redis.get(key)
        if stored is None:  # deleted between the two calls (by hand): a new one on the next start
            raise RuntimeError(f"the shared secret {name!r} vanished from Redis while it was read")
        return self._sealer.open(text(stored)).encode()
