"""The cluster in the app's lifespan: with ``state.backend: redis``, the pool is shared out by
``AccountOwnership``, every turn checked by ``OwnedBackend`` and the accounts' shared cookies
written under the ownership's leases (``RedisCookies``), and, with ``cluster.secret``, the requests
that live on another replica forwarded there (``Forwarding``); with SQLite, nothing changes (one
gateway owns every account)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.backend import Backend
from service.cluster.forward import Forwarding
from service.cluster.guard import OwnedBackend
from service.cluster.ownership import AccountOwnership, SpecSource
from service.cluster.removals import Removals
from service.settings import AccountConfig, GatewaySettings
from service.stores.backends import Stores
from service.stores.redis_responses import RedisResponseStore

__all__ = ["configured_sources", "forwarding", "owned_pool", "pool_settings"]


def pool_settings(settings: GatewaySettings, stores: Stores) -> GatewaySettings:
    """What the pool factory gets: clustered, no configured account (the ownership loop starts the
    share of this replica); alone, the settings as they are."""
    if stores.client is None:
        return settings
    return settings.model_copy(update={"accounts": ()})


def configured_sources(accounts: tuple[AccountConfig, ...]) -> dict[str, SpecSource]:
    # Imported here, as the app's default pool factory does: the pool adapter pulls in Playwright.
    from service.pool_adapter import account_spec

    return {config.name: (lambda config=config: account_spec(config)) for config in accounts}  # type: ignore[misc]


@asynccontextmanager
async def owned_pool(
    settings: GatewaySettings, pool: Backend, stores: Stores
) -> AsyncIterator[tuple[Backend, AccountOwnership | None]]:
    """The pool as the service uses it, and the ownership loop when clustered (its first share
    started on entry; every account handed back on exit, before the pool closes)."""
    if stores.shared is None:
        yield pool, None
        return
    removals = Removals.of(stores.removed, settings.accounts) if stores.removed is not None else None
    ownership = AccountOwnership(
        pool,
        stores.accounts,
        configured_sources(settings.accounts),
        stores.shared,
        settings.cluster,
        removals,
    )
    if stores.cookies is not None:
        # The pool's shared cookies are written under this replica's leases (fenced in Redis).
        stores.cookies.bind(ownership.book, ownership.lease)
    if stores.health is not None:
        # So are its session records and cooldowns.
        stores.health.bind(ownership.book, ownership.lease)
    if isinstance(stores.responses, RedisResponseStore):
        # Its background responses name it, so that a cancel or a stream of one through another
        # replica comes here (``forwarding``).
        stores.responses.runs.replica = ownership.replica_id
    async with ownership:
        yield OwnedBackend(pool, ownership), ownership


@asynccontextmanager
async def forwarding(
    settings: GatewaySettings, ownership: AccountOwnership | None, stores: Stores
) -> AsyncIterator[Forwarding | None]:
    """The way to the other replicas, when clustered with ``cluster.secret`` (None otherwise: every
    request is served here, as by a single gateway)."""
    secret = settings.cluster.secret
    if ownership is None or secret is None:
        yield None
        return
    runs = stores.responses.runs if isinstance(stores.responses, RedisResponseStore) else None
    async with Forwarding(
        ownership.view, ownership.replica_id, secret, interval=ownership.interval, runs=runs
    ) as way:
        yield way
