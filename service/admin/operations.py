"""Operations wired into the app: the key store (also read by the API-key gate), the metrics, the
dashboard sessions and, while the app runs, the account admin over the pool and the alerts'
webhook (``service.alerts``).

``create_app`` builds one ``Operations``, includes the admin routers (``service.admin.router``,
``service.admin.ui``; they reach this object through ``service.admin.deps``, never the other way
round), passes ``keys`` and ``own_gates`` to the key gate, and enters ``running(backend)`` in its
lifespan with the backend it assembled and the added accounts' registry, restoring the accounts
added earlier. The key store is built here and opened by the lifespan (``service.stores``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from service.admin.accounts import AccountAdmin
from service.admin.auth import AdminSessions
from service.alerts import AccountAlerts
from service.auth import Caller, Release
from service.backend import Backend
from service.cluster.ownership import AccountOwnership
from service.metrics import Metrics
from service.settings import GatewaySettings
from service.stores.interfaces import AccountRegistry, ApiKeyStore

__all__ = ["ADMIN_PREFIXES", "Operations"]

ADMIN_PREFIXES = ("/gemini_official/admin", "/admin")


class Operations:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        # Opened by the lifespan with the other stores (``use_keys``); the key gate holds this
        # object from before, as its ``KeyDirectory``.
        self._keys: ApiKeyStore | None = None
        self.metrics = Metrics()
        self.sessions = AdminSessions()
        self._accounts: AccountAdmin | None = None
        self.own_gates = ("/healthz", "/readyz", "/metrics", *ADMIN_PREFIXES)
        self.started_at = time.time()  # before the pool starts: what alerts count as this run's

    @property
    def keys(self) -> ApiKeyStore:
        if self._keys is None:
            raise RuntimeError("the gateway is not running (lifespan not started)")
        return self._keys

    def use_keys(self, keys: ApiKeyStore | None) -> None:
        """The key store of the running gateway (None once it stopped)."""
        self._keys = keys

    async def lookup(self, key: str) -> Caller | None:
        return await self.keys.lookup(key)

    async def admit(self, caller: Caller) -> Release:
        return await self.keys.admit(caller)

    @property
    def accounts(self) -> AccountAdmin:
        if self._accounts is None:
            raise RuntimeError("the gateway is not running (lifespan not started)")
        return self._accounts

    @asynccontextmanager
    async def running(
        self, backend: Backend, registry: AccountRegistry, ownership: AccountOwnership | None = None
    ) -> AsyncIterator[None]:
        """``ownership``: replicas on one Redis (``service.cluster``); it starts this replica's
        accounts, so the restore of the added ones is its, not this one's."""
        self._accounts = AccountAdmin(backend, registry, ownership)
        await self._accounts.restore()
        self.metrics.watch_accounts(backend.accounts)
        self.metrics.watch_egresses(backend.egresses)
        alerts = AccountAlerts(
            self.settings.alerts,
            backend.accounts,
            started_at=self.started_at,
            on_delivery=self.metrics.alert_delivered,
        )
        try:
            async with alerts:
                yield
        finally:
            self.metrics.watch_accounts(None)
            self.metrics.watch_egresses(None)
            self._accounts = None

    def now(self) -> float:
        return time.time()
