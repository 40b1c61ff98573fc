"""The choice of backend, made once: ``Stores`` holds one store of each kind, on SQLite files in the
data directory or on the Redis of ``state.redis_url`` (``state.backend``). The app's lifespan and
the CLI's ``state migrate`` build them here; nothing else names a backend."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis

from service.admin.registry import AddedAccounts, ThreadedAddedAccounts
from service.chat.longrun_registry import ResearchRegistry, ThreadedResearchRegistry
from service.conversations import ConversationStore
from service.conversations_api.store import ConversationObjects
from service.keys import KeyStore, ThreadedKeyStore
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
from service.stores.redis_jobs import RedisVideoStore
from service.stores.redis_keys import RedisKeyStore
from service.stores.redis_researches import RedisResearchRegistry
from service.stores.redis_responses import RedisConversationObjects, RedisResponseStore
from service.stores.redis_secrets import RedisSecrets
from service.videos.store import VideoStore

__all__ = [
    "DEFAULT_TTL",
    "SQLITE_FILES",
    "Stores",
    "accounts_at",
    "keys_at",
    "open_stores",
    "reach",
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


def _sealer(state: StateSettings) -> Sealer:
    key = state.encryption_key.get_secret_value() if state.encryption_key is not None else None
    if key is None:
        log.warning("state.encryption_key is not set: accounts' cookies are stored in Redis in clear")
    return Sealer(key)


def _key_store(
    state: StateSettings, data_dir: Path, shared: aioredis.Redis | None, **timing: Any
) -> ApiKeyStore:
    if shared is not None:
        return RedisKeyStore(shared, **timing)
    return ThreadedKeyStore(KeyStore(data_dir / "keys.sqlite3", **timing))


async def reach(state: StateSettings) -> None:
    """Check that the Redis of ``state`` answers (``StateUnavailable`` naming host:port if not); on
    SQLite, nothing to check. ``serve`` runs it before it starts: a clear error and exit 2."""
    if state.backend is StateBackend.REDIS and state.redis_url is not None:
        client = await connect_async(state.redis_url.get_secret_value())
        await client.aclose()


@dataclass
class Stores:
    """One store of each kind, open; ``aclose`` closes them (and the Redis clients) in reverse."""

    backend: StateBackend
    keys: ApiKeyStore
    accounts: AccountRegistry
    conversations: ChatMappings
    responses: ResponseArchive
    objects: ConversationObjectStore
    videos: VideoJobStore
    researches: ResearchLog
    # The blocking client of the stores still synchronous (their callers run them in worker threads).
    client: redis.Redis | None = None
    # The asyncio client of the same Redis, one per app, made on its loop (``open_stores``): the key
    # store, the cluster's leases, heartbeats and view (``service.cluster``) and the three below.
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

    def _close_sync(self) -> None:
        for store in (
            self.videos,
            self.objects,
            self.responses,
            self.conversations,
        ):
            store.close()
        if self.client is not None:
            self.client.close()

    async def aclose(self) -> None:
        try:
            await self.researches.close()
            await self.accounts.close()
            await self.keys.close()
        finally:
            try:
                await asyncio.to_thread(self._close_sync)
            finally:
                if self.shared is not None:
                    await self.shared.aclose()


async def open_stores(
    state: StateSettings,
    data_dir: Path,
    *,
    ttl: float = DEFAULT_TTL,
    purge_interval: float = 600.0,
    clock: Callable[[], float] | None = None,
) -> Stores:
    """Every store of ``state.backend``, opened on the running loop (SQLite files created and
    migrated; Redis reached and its data's versions checked). On Redis, the asyncio client is made
    here, one per call: an app calls it once, in its lifespan (apps in tests run on loops of their
    own). Closed with ``Stores.aclose``."""
    await asyncio.to_thread(data_dir.mkdir, mode=0o700, parents=True, exist_ok=True)
    kept = {"ttl": ttl, "purge_interval": purge_interval}
    timing = {"clock": clock} if clock is not None else {}
    if state.backend is StateBackend.REDIS:
        if state.redis_url is None:
            raise ValueError("state.redis_url is not set")
        shared = await connect_async(state.redis_url.get_secret_value())
        try:
            client = await asyncio.to_thread(redis_for, state)
        except BaseException:
            await shared.aclose()
            raise
        sealer = _sealer(state)
        accounts = RedisAddedAccounts(shared, sealer)
        stores = Stores(
            backend=state.backend,
            keys=_key_store(state, data_dir, shared, **timing),
            accounts=accounts,
            conversations=RedisConversationStore(client, ttl=ttl, **timing),
            responses=RedisResponseStore(client, **kept),
            objects=RedisConversationObjects(client, **kept),
            videos=RedisVideoStore(client, data_dir),
            researches=RedisResearchRegistry(shared),
            client=client,
            shared=shared,
            cookies=RedisCookies(shared, sealer),
            health=RedisHealth(shared),
            removed=accounts,
            secrets=RedisSecrets(shared, sealer),
        )
    else:

        def sqlite_stores() -> Stores:  # some open their file when made: in a worker thread too
            return Stores(
                backend=state.backend,
                keys=_key_store(state, data_dir, None, **timing),
                accounts=ThreadedAddedAccounts(AddedAccounts(data_dir / "added_accounts.sqlite3")),
                conversations=ConversationStore(data_dir / "conversations.sqlite3", ttl=ttl, **timing),
                responses=ResponseStore(data_dir / "responses.sqlite3", **kept),
                objects=ConversationObjects(data_dir / "responses.sqlite3", **kept),
                videos=VideoStore(data_dir),
                researches=ThreadedResearchRegistry(ResearchRegistry(data_dir / "researches.sqlite3")),
            )

        stores = await asyncio.to_thread(sqlite_stores)

    def open_sync() -> None:
        for store in (
            stores.conversations,
            stores.responses,
            stores.objects,
            stores.videos,
        ):
            store.open()

    try:
        await stores.keys.open()
        await stores.accounts.open()
        await stores.researches.open()
        await asyncio.to_thread(open_sync)
        for shared_store in (stores.cookies, stores.health, stores.secrets):
            if shared_store is not None:
                await shared_store.open()
    except BaseException:
        await stores.aclose()
        raise
    return stores


@asynccontextmanager
async def keys_at(state: StateSettings, data_dir: Path) -> AsyncIterator[ApiKeyStore]:
    """The key store alone, open for one command (the CLI's offline ``keys``, in ``asyncio.run``)."""
    shared = None
    if state.backend is StateBackend.REDIS:
        if state.redis_url is None:
            raise ValueError("state.redis_url is not set")
        shared = await connect_async(state.redis_url.get_secret_value())
    try:
        store = _key_store(state, data_dir, shared)
        await store.open()
        try:
            yield store
        finally:
            await store.close()
    finally:
        if shared is not None:
            await shared.aclose()


@asynccontextmanager
async def accounts_at(state: StateSettings, data_dir: Path) -> AsyncIterator[AccountRegistry]:
    """The added accounts alone, open for one command (offline ``accounts``, ``accounts login``,
    ``doctor``; in ``asyncio.run``)."""
    if state.backend is not StateBackend.REDIS:
        registry: AccountRegistry = ThreadedAddedAccounts(AddedAccounts(data_dir / "added_accounts.sqlite3"))
        await registry.open()
        try:
            yield registry
        finally:
            await registry.close()
        return
    if state.redis_url is None:
        raise ValueError("state.redis_url is not set")
    shared = await connect_async(state.redis_url.get_secret_value())
    try:
        added = RedisAddedAccounts(shared, _sealer(state))
        await added.open()
        yield added
    finally:
        await shared.aclose()
