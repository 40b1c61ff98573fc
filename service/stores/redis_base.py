"""What every Redis store shares: the client, the key namespace and the sealing of secrets.

Keys are ``gateway:<store>:<...>``, so one Redis can hold other data beside the gateway's. The
stores that share the SQLite stores' interfaces keep their synchronous methods (their callers run
them in worker threads, as with SQLite), so they use redis-py's blocking client (``connect``). The
cluster's own state (leases, heartbeats, the replicas' view) and the browser pool's shared cookies
and health are async on redis-py's asyncio client (``connect_async``, ``AsyncRedisStore``), one per
app, made on its loop. Every write that must be atomic across replicas is one Lua script or one
MULTI/EXEC transaction, never a read followed by a write.

A store's data carries a schema version (``gateway:<store>:version``), checked on open like the
SQLite files' ``user_version``: data written by a newer gateway is refused.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Self

import redis
import redis.asyncio as aioredis
from cryptography.fernet import Fernet, InvalidToken

__all__ = [
    "PREFIX",
    "AsyncRedisStore",
    "RedisStore",
    "Sealer",
    "StateUnavailable",
    "connect",
    "connect_async",
    "text",
    "text_map",
    "texts",
]

PREFIX = "gateway"
_SEALED = "fernet:"


def text(value: object) -> str:
    """A reply as text: the client decodes replies, but redis-py types them ``bytes | str``."""
    return value.decode() if isinstance(value, bytes) else str(value)


def texts(values: Iterable[object]) -> list[str]:
    return [text(value) for value in values]


def text_map(values: Mapping[Any, Any]) -> dict[str, str]:
    return {text(key): text(value) for key, value in values.items()}


class StateUnavailable(ConnectionError):
    """The Redis of ``state.redis_url`` cannot be reached (the message never holds the URL)."""


def _unavailable(where: dict[str, Any], exc: BaseException) -> StateUnavailable:
    return StateUnavailable(
        f"cannot reach the Redis of state.redis_url ({where.get('host')}:{where.get('port')}): "
        f"{type(exc).__name__}"
    )


def connect(url: str) -> redis.Redis:
    """A client on ``url`` (text replies), checked with a PING so a wrong URL fails at startup.
    The error names the host, never the URL (it may carry a password)."""
    client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=10, health_check_interval=30)
    try:
        client.ping()
    except redis.RedisError as exc:
        where = client.connection_pool.connection_kwargs
        client.close()
        raise _unavailable(where, exc) from None
    return client


async def connect_async(url: str) -> aioredis.Redis:
    """The asyncio client on ``url`` (text replies), bound to the running loop (an app makes its
    own in its lifespan: never one per module, as apps in tests run on loops of their own), checked
    with a PING as ``connect``. The caller closes it (``aclose``)."""
    client = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=10, health_check_interval=30)
    try:
        await client.ping()
    except redis.RedisError as exc:
        where = client.connection_pool.connection_kwargs
        await client.aclose()
        raise _unavailable(where, exc) from None
    return client


class Sealer:
    """Encrypts secret values at rest with a key derived from ``state.encryption_key`` (Fernet);
    without a key it stores them as they are. A sealed value read without the key is an error."""

    def __init__(self, passphrase: str | None) -> None:
        self._fernet = (
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode()).digest()))
            if passphrase
            else None
        )

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, text: str) -> str:
        if self._fernet is None:
            return text
        return _SEALED + self._fernet.encrypt(text.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(_SEALED):
            return stored  # written before a key was set
        if self._fernet is None:
            raise RuntimeError("a value in Redis is encrypted: set state.encryption_key to read it")
        try:
            return self._fernet.decrypt(stored[len(_SEALED) :].encode()).decode()
        except InvalidToken:
            raise RuntimeError("a value in Redis is encrypted with another state.encryption_key") from None

    def __repr__(self) -> str:
        return f"Sealer(enabled={self.enabled})"


class RedisStore:
    """A store's namespace on one client. ``version`` is the store's data version; ``open`` refuses
    data of a newer one and records its own on first use."""

    store = "store"
    version = 1
    _what = "the store"

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def key(self, *parts: str) -> str:
        return ":".join((PREFIX, self.store, *parts))

    def open(self) -> None:
        found = self.redis.get(self.key("version"))
        if found is not None and int(found) > self.version:
            raise RuntimeError(
                f"{self._what} in Redis is at version {text(found)}, newer than this gateway's "
                f"{self.version}: "
                "it was written by a newer version of the gateway"
            )
        self.redis.set(self.key("version"), self.version, nx=True)

    def close(self) -> None:
        """The client is shared and closed by whoever made it."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncRedisStore:
    """``RedisStore`` on the asyncio client: the same namespace and version check, awaited."""

    store = "store"
    version = 1
    _what = "the store"

    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client

    def key(self, *parts: str) -> str:
        return ":".join((PREFIX, self.store, *parts))

    async def open(self) -> None:
        found = await self.redis.get(self.key("version"))
        if found is not None and int(found) > self.version:
            raise RuntimeError(
                f"{self._what} in Redis is at version {text(found)}, newer than this gateway's "
                f"{self.version}: it was written by a newer version of the gateway"
            )
        await self.redis.set(self.key("version"), self.version, nx=True)

    async def close(self) -> None:
        """The client is shared and closed by whoever made it."""
