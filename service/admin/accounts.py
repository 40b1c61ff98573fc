"""Accounts at runtime: add (live at once, persisted), list, check, pause, resume, remove; and the
restore of persisted additions at startup. Browser errors become service errors here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from browser import AccountInfo, AccountSpec, BrowserError, CookieFormatError, UnknownAccount
from service.admin.cookies import session_digest
from service.admin.pool import AccountPool
from service.admin.registry import AddedAccounts
from service.errors import Conflict, InvalidRequest, NotFound, NotImplementedYet, UpstreamFailed

log = logging.getLogger(__name__)

__all__ = ["AccountAdmin"]


class AccountAdmin:
    def __init__(self, pool: AccountPool | None, registry: AddedAccounts) -> None:
        self._pool = pool
        self.registry = registry
        self._lock = asyncio.Lock()  # one addition or removal at a time: duplicates are checked first

    @property
    def pool(self) -> AccountPool:
        if self._pool is None:
            raise NotImplementedYet("This gateway's backend has no account pool to administer.")
        return self._pool

    def added_ids(self) -> set[str]:
        return {entry.id for entry in self.registry.all()}

    def list(self) -> list[AccountInfo]:
        return self.pool.accounts() if self._pool is not None else []

    def get(self, account_id: str) -> AccountInfo:
        for info in self.list():
            if info.id == account_id:
                return info
        raise NotFound(f"No account {account_id!r}.")

    async def restore(self) -> int:
        """Re-add every persisted account; one that fails is logged (by type) and kept for next time."""
        if self._pool is None:
            return 0
        restored = 0
        for entry in self.registry.all():
            try:
                info = await self._pool.add_account(entry.spec)
            except BrowserError as exc:
                log.error("added account %s was not restored (%s)", entry.id, type(exc).__name__)
                continue
            restored += 1
            log.info("added account %s restored: %s", info.id, info.state.value)
        return restored

    async def add(self, spec: AccountSpec) -> AccountInfo:
        pool = self.pool
        try:
            session = session_digest(spec)
        except CookieFormatError as exc:
            raise InvalidRequest(f"The cookies cannot be read: {exc}", param="cookies") from None
        async with self._lock:
            present = {info.id for info in pool.accounts()}
            if spec.name is not None and spec.name in present:
                raise Conflict(f"An account named {spec.name!r} exists already.")
            # An unnamed account's id is derived from its session (``acct-`` + digest prefix).
            if f"acct-{session[:12]}" in present or any(
                entry.session == session for entry in self.registry.all()
            ):
                raise Conflict("This session (__Secure-1PSID) is in the pool already.")
            try:
                info = await pool.add_account(spec)
            except CookieFormatError as exc:
                raise InvalidRequest(f"The cookies cannot be read: {exc}", param="cookies") from None
            except BrowserError as exc:
                raise UpstreamFailed(f"The account could not be started ({type(exc).__name__}).") from exc
            self.registry.put(info.id, session, spec)
        log.info("account %s added through the admin API: %s", info.id, info.state.value)
        return info

    async def remove(self, account_id: str) -> None:
        """Out of rotation at once; a busy account finishes its turn, then its page closes."""
        async with self._lock:
            persisted = self.registry.delete(account_id)
            try:
                await self.pool.remove_account(account_id, forget=True)
            except UnknownAccount:
                if not persisted:  # one that failed to restore is only in the registry
                    raise NotFound(f"No account {account_id!r}.") from None
        log.info("account %s removed through the admin API", account_id)

    async def check(self, account_id: str) -> AccountInfo:
        with _known(account_id):
            return await self.pool.check_account(account_id)

    async def pause(self, account_id: str) -> AccountInfo:
        with _known(account_id):
            return await self.pool.pause_account(account_id)

    async def resume(self, account_id: str) -> AccountInfo:
        with _known(account_id):
            return await self.pool.resume_account(account_id)

    async def screenshot(self, account_id: str) -> bytes:
        with _known(account_id):
            try:
                return await self.pool.screenshot(account_id)
            except UnknownAccount:
                raise
            except BrowserError as exc:
                raise UpstreamFailed(f"No screenshot of {account_id!r} ({type(exc).__name__}).") from exc


@contextmanager
def _known(account_id: str) -> Iterator[None]:
    """``UnknownAccount`` from the pool → 404."""
    try:
        yield
    except UnknownAccount:
        raise NotFound(f"No account {account_id!r}.") from None
