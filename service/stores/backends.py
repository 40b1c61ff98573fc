"""The choice of backend, made once: ``Stores`` holds one store of each kind, on SQLite files in the
data directory or on the Redis of ``state.redis_url`` (``state.backend``). The app's lifespan and
the CLI's ``state migrate`` build them here; nothing else names a backend."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis
import redis.asyncio as aioredis

from service.admin.registry import AddedAccounts
from service.chat.longrun_registry import ResearchRegistry
from service.conversations import ConversationStore
from service.conversations_api.store import ConversationObjects
from service.keys import KeyStore
from service.responses.store import ResponseStore
from service.stores.config import StateBackend, StateSettings
from service.stores.interfaces import (
    AccountRegistry,
    ApiKeyStore,
    ChatMappings,
    ConversationObjectStore,
    RemovedAccounts,
    ResearchLog,
    ResponseArchive,
    VideoJobStore,
)
from service.stores.redis_accounts import RedisAddedAccounts
from service.stores.redis_base import Sealer, connect, connect_async
from service.stores.redis_conversations import RedisConversationStore
from service.stores.redis_cookies import RedisCookies
from service.stores.redis_health import RedisHealth
from service.stores.redis_jobs import RedisResearchRegistry, RedisVideoStore
from service.stores.redis_keys import RedisKeyStore
from service.stores.redis_responses import RedisConversationObjects, RedisResponseStore
from service.stores.redis_secrets import RedisSecrets
from service.videos.store import VideoStore

__all__ = [
    "DEFAULT_TTL",
    "SQLITE_FILES",
    "Stores",
    "accounts_at",
    "key_store",
    "keys_at",
    "open_app_stores",
    "open_stores",
    "redis_for",
]

log = logging.getLogger(__name__)

DEFAULT_TTL = 7 * 24 * 3600.0
# The data directory's files the SQLite backend keeps (what ``state migrate`` reads).
SQLITE_FILES = (
    "keys.sqlite3",
    "added_accounts.sqlite3",
    "conversations.sqlite3",
    "responses.sqlite3",
    "videos.sqlite3",
    "researches.sqlite3",
)


def redis_for(state: StateSettings) -> redis.Redis:
    """The client of ``state.redis_url``, checked reachable (a clear error otherwise)."""
    if state.redis_url is None:
        raise ValueError("state.redis_url is not set")
    return connect(state.redis_url.get_secret_value())


def _sealer(state: StateSettings, *, warn: bool = True) -> Sealer:
    key = state.encryption_key.get_secret_value() if state.encryption_key is not None else None
    if key is None and warn:
        log.warning("state.encryption_key is not set: accounts' cookies are stored in Redis in clear")
    return Sealer(key)


def key_store(state: StateSettings, data_dir: Path, client: redis.Redis | None = None) -> ApiKeyStore:
    """The key store alone (the API-key gate holds it from before the lifespan; unopened)."""
    if state.backend is StateBackend.REDIS:
        return RedisKeyStore(client if client is not None else redis_for(state))
    return KeyStore(data_dir / "keys.sqlite3")


@dataclass
class Stores:
    """One store of each kind, open; ``close`` closes them (and the Redis client) in reverse."""

    backend: StateBackend
    keys: ApiKeyStore
    accounts: AccountRegistry
    conversations: ChatMappings
    responses: ResponseArchive
    objects: ConversationObjectStore
    videos: VideoJobStore
    researches: ResearchLog
    client: redis.Redis | None = None
    # The asyncio client of the same Redis, made on the app's loop (``open_app_stores``): the
    # cluster's leases, heartbeats and view (``service.cluster``) and the three stores below use it.
    shared: aioredis.Redis | None = None
    # The accounts' cookies shared by the replicas (Redis only; on SQLite the pool's own file).
    cookies: RedisCookies | None = None
    # The accounts' session records and cooldowns shared by the replicas (Redis only; on SQLite the
    # records are in the pool's own file and the cooldowns in its memory).
    health: RedisHealth | None = None
    # The configured accounts removed through the admin API (Redis only: ``service.cluster.removals``).
    removed: RemovedAccounts | None = None
    # Secrets every replica needs alike, such as the media links' key (Redis only).
    secrets: RedisSecrets | None = None

    async def reachable(self) -> bool:
        """Whether the shared state answers (always, on SQLite)."""
        if self.shared is None:
            return True
        try:
            return bool(await self.shared.ping())
        except redis.RedisError:
            return False

    def close(self) -> None:
        for store in (
            self.researches,
            self.videos,
            self.objects,
            self.responses,
            self.conversations,
            self.accounts,
            self.keys,
        ):
            store.close()
        if self.client is not None:
            self.client.close()

    async def aclose(self) -> None:
        """``close``, and the asyncio client's (on the loop it was made on)."""
        try:
            self.close()
        finally:
            if self.shared is not None:
                await self.shared.aclose()


def open_stores(
    state: StateSettings,
    data_dir: Path,
    *,
    ttl: float = DEFAULT_TTL,
    purge_interval: float = 600.0,
    keys: ApiKeyStore | None = None,
    clock: Callable[[], float] | None = None,
) -> Stores:
    """Every store of ``state.backend``, opened (SQLite files created and migrated; Redis reached
    and its data's versions checked). ``keys``: a key store built already (``key_store``)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    kept = {"ttl": ttl, "purge_interval": purge_interval}
    timing = {"clock": clock} if clock is not None else {}
    if state.backend is StateBackend.REDIS:
        client = keys.redis if isinstance(keys, RedisKeyStore) else redis_for(state)
        sealer = _sealer(state)
        accounts = RedisAddedAccounts(client, sealer)
        stores = Stores(
            backend=state.backend,
            keys=keys if keys is not None else RedisKeyStore(client, **timing),
            accounts=accounts,
            conversations=RedisConversationStore(client, ttl=ttl, **timing),
            responses=RedisResponseStore(client, **kept),
            objects=RedisConversationObjects(client, **kept),
            videos=RedisVideoStore(client, data_dir),
            researches=RedisResearchRegistry(client),
            client=client,
            removed=accounts,
        )
    else:
        stores = Stores(
            backend=state.backend,
            keys=keys if keys is not None else KeyStore(data_dir / "keys.sqlite3", **timing),
            accounts=AddedAccounts(data_dir / "added_accounts.sqlite3"),
            conversations=ConversationStore(data_dir / "conversations.sqlite3", ttl=ttl, **timing),
            responses=ResponseStore(data_dir / "responses.sqlite3", **kept),
            objects=ConversationObjects(data_dir / "responses.sqlite3", **kept),
            videos=VideoStore(data_dir),
            researches=ResearchRegistry(data_dir / "researches.sqlite3"),
        )
    try:
        for store in (
            stores.keys,
            stores.accounts,
            stores.conversations,
            stores.responses,
            stores.objects,
            stores.videos,
            stores.researches,
        ):
            store.open()
    except BaseException:
        stores.close()
        raise
    return stores


async def open_app_stores(
    state: StateSettings,
    data_dir: Path,
    *,
    ttl: float = DEFAULT_TTL,
    purge_interval: float = 600.0,
    keys: ApiKeyStore | None = None,
) -> Stores:
    """``open_stores`` for an app, on its running loop: on Redis, with the asyncio client (one per
    app: apps in tests run on loops of their own) and the stores on it, the accounts' shared
    cookies, health and secrets. Closed with ``Stores.aclose``."""
    stores = await asyncio.to_thread(
        open_stores, state, data_dir, ttl=ttl, purge_interval=purge_interval, keys=keys
    )
    if state.redis_url is None or stores.client is None:
        return stores
    try:
        client = stores.shared = await connect_async(state.redis_url.get_secret_value())
        sealer = _sealer(state, warn=False)  # ``open_stores`` warned already
        stores.cookies = RedisCookies(client, sealer)
        stores.health = RedisHealth(client)
        stores.secrets = RedisSecrets(client, sealer)
        for store in (stores.cookies, stores.health, stores.secrets):
            await store.open()
    except BaseException:
        await stores.aclose()
        raise
    return stores


@contextmanager
def keys_at(state: StateSettings, data_dir: Path) -> Iterator[ApiKeyStore]:
    """The key store alone, open for one command (the CLI's offline ``keys``)."""
    store = key_store(state, data_dir)
    store.open()
    try:
        yield store
    finally:
        store.close()
        if isinstance(store, RedisKeyStore):
            store.redis.close()


@contextmanager
def accounts_at(state: StateSettings, data_dir: Path) -> Iterator[AccountRegistry]:
    """The added accounts alone, open for one command (offline ``accounts``, ``accounts login``)."""
    if state.backend is not StateBackend.REDIS:
        with AddedAccounts(data_dir / "added_accounts.sqlite3") as registry:
            yield registry
        return
    client = redis_for(state)
    try:
        shared = RedisAddedAccounts(client, _sealer(state))
        shared.open()
        yield shared
    finally:
        client.close()
