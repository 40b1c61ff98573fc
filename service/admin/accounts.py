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
from service.errors import Conflict, InvalidRequest, NotFound, ServiceError
from service.stores.interfaces import AccountRegistry

log = logging.getLogger(__name__)

__all__ = ["AccountAdmin"]


class AccountAdmin:
    def __init__(self, backend: Backend, registry: AccountRegistry) -> None:
        self.backend = backend
        self.registry = registry
        self._lock = asyncio.Lock()  # one addition or removal at a time: duplicates are checked first

    def added_ids(self) -> set[str]:
        return {entry.id for entry in self.registry.all()}

    def list(self) -> Sequence[AccountInfo]:
        return self.backend.accounts()

    def get(self, account_id: str) -> AccountInfo:
        for info in self.list():
            if info.id == account_id:
                return info
        raise NotFound(f"No account {account_id!r}.")

    async def restore(self) -> int:
        """Re-add every persisted account; one that fails is logged (by type) and kept for next time."""
        restored = 0
        for entry in self.registry.all():
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
            if spec.name is not None and (
                spec.name in present or (spec.profile and spec.name in self.added_ids())
            ):
                raise Conflict(f"An account named {spec.name!r} exists already.")
            # An unnamed account's id is derived from its session (``acct-`` + digest prefix).
            if f"acct-{session[:12]}" in present or any(
                entry.session == session for entry in self.registry.all()
            ):
                raise Conflict("This session (__Secure-1PSID) is in the pool already.")
            info = await self.backend.add_account(spec)
            self.registry.put(info.id, session, spec)
        log.info("account %s added through the admin API: %s", info.id, info.state.value)
        return info

    async def remove(self, account_id: str) -> None:
        """Out of rotation at once; a busy account finishes its turn, then its page closes."""
        async with self._lock:
            persisted = self.registry.delete(account_id)
            try:
                await self.backend.remove_account(account_id, forget=True)
            except NotFound:
                if not persisted:  # one that failed to restore is only in the registry
                    raise
        log.info("account %s removed through the admin API", account_id)


def refuse_remote_profile(spec: AccountSpec, launch_mode: LaunchMode) -> None:
    """``InvalidRequest`` for a profile account when Chromium is remote: its profile is a directory
    on this machine that only a Chromium launched here can open."""
    if spec.profile and launch_mode is LaunchMode.REMOTE:
        raise InvalidRequest(
            "A profile account needs a local Chromium: launch_mode=remote cannot open its profile.",
            param="signin_method",
        )
