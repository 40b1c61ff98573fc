"""Accounts at runtime: add (live at once, persisted), list, remove; and the restore of persisted
additions at startup. Check, pause, resume and screenshot are the backend's own account operations
(``backend``), which answer in the service's errors already (``service.pool_adapter``: an unknown
account is ``NotFound``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from browser import AccountInfo, AccountSpec, CookieFormatError, LaunchMode
from service.admin.cookies import session_digest
from service.backend import Backend
from service.cluster.ownership import AccountOwnership
from service.errors import Conflict, InvalidRequest, NotFound, ServiceError
from service.stores.interfaces import AccountRegistry

log = logging.getLogger(__name__)

__all__ = ["AccountAdmin"]


class AccountAdmin:
    def __init__(
        self, backend: Backend, registry: AccountRegistry, ownership: AccountOwnership | None = None
    ) -> None:
        self.backend = backend
        self.registry = registry
        self.ownership = ownership  # replicas on one Redis: which accounts this one drives
        self._lock = asyncio.Lock()  # one addition or removal at a time: duplicates are checked first

    async def added_ids(self) -> set[str]:
        return {entry.id for entry in await self.registry.all()}

    def list(self) -> Sequence[AccountInfo]:
        return self.backend.accounts()

    def owner(self, account_id: str) -> str | None:
        """The replica driving the account (clustered; None with a single gateway)."""
        return self.ownership.owner(account_id) if self.ownership is not None else None

    def get(self, account_id: str) -> AccountInfo:
        for info in self.list():
            if info.id == account_id:
                return info
        raise NotFound(f"No account {account_id!r}.")

    async def restore(self) -> int:
        """Re-add every persisted account; one that fails is logged (by type) and kept for next time.
        Clustered, the ownership loop starts this replica's share instead: nothing to do here."""
        if self.ownership is not None:
            return 0
        restored = 0
        for entry in await self.registry.all():
            try:
                info = await self.backend.add_account(entry.spec)
            except ServiceError as exc:
                cause = type(exc.__cause__ or exc).__name__
                log.error("added account %s was not restored (%s)", entry.id, cause)
                continue
            restored += 1
            log.info("added account %s restored: %s", info.id, info.state.value)
        return restored

    async def add(self, spec: AccountSpec) -> AccountInfo:
        try:
            session = session_digest(spec)
        except CookieFormatError as exc:
            raise InvalidRequest(f"The cookies cannot be read: {exc}", param="cookies") from None
        async with self._lock:
            present = {info.id for info in self.backend.accounts()}
            if self.ownership is not None:  # what other replicas drive counts too
                present |= self.ownership.known | await self.added_ids()
            if spec.name is not None and (
                spec.name in present or (spec.profile and spec.name in await self.added_ids())
            ):
                raise Conflict(f"An account named {spec.name!r} exists already.")
            # An unnamed account's id is derived from its session (``acct-`` + digest prefix).
            if f"acct-{session[:12]}" in present or any(
                entry.session == session for entry in await self.registry.all()
            ):
                raise Conflict("This session (__Secure-1PSID) is in the pool already.")
            info = await self._start(spec, spec.name or f"acct-{session[:12]}")
            await self.registry.put(info.id, session, spec)
        log.info("account %s added through the admin API: %s", info.id, info.state.value)
        return info

    async def _start(self, spec: AccountSpec, account_id: str) -> AccountInfo:
        """Start a new account here; clustered, under its lease taken first (``AccountOwnership.add``;
        the loop's next round counts it as this replica's)."""
        if self.ownership is None:
            return await self.backend.add_account(spec)
        info = await self.ownership.add(account_id, spec)
        if info is None:
            raise Conflict(f"The account {account_id!r} is driven by another replica already.")
        return info

    async def remove(self, account_id: str) -> None:
        """Out of rotation at once; a busy account finishes its turn, then its page closes.
        Clustered, a configured account stays removed on every replica until added again."""
        async with self._lock:
            # Clustered, a configured account is buried before its lease is handed back.
            buried = self.ownership is not None and await self.ownership.bury(account_id)
            persisted = await self.registry.delete(account_id)
            try:
                await self.backend.remove_account(account_id, forget=True)
            except NotFound:
                # One that failed to restore is only in the registry (or, configured, failed to
                # start); clustered, another replica may drive an added one: its loop stops it at
                # its next round, seeing it gone from the registry.
                if not (persisted or buried):
                    raise
            finally:
                if self.ownership is not None:
                    await self.ownership.forget(account_id)
        log.info("account %s removed through the admin API", account_id)


def refuse_remote_profile(spec: AccountSpec, launch_mode: LaunchMode) -> None:
    """``InvalidRequest`` for a profile account when Chromium is remote: its profile is a directory
    on this machine that only a Chromium launched here can open."""
    if spec.profile and launch_mode is LaunchMode.REMOTE:
        raise InvalidRequest(
            "A profile account needs a local Chromium: launch_mode=remote cannot open its profile.",
            param="signin_method",
        )
