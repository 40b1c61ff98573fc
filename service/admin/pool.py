"""What the admin needs from the pool beyond serving turns (docs/browser-api.md): add, remove,
check, pause and resume accounts, and a screenshot of an account's page."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from browser import AccountInfo, AccountSpec

__all__ = ["AccountPool", "pool_of"]


@runtime_checkable
class AccountPool(Protocol):
    def accounts(self) -> list[AccountInfo]: ...
    async def add_account(self, spec: AccountSpec) -> AccountInfo: ...
    async def remove_account(self, account_id: str, *, forget: bool = False) -> None: ...
    async def check_account(self, account_id: str) -> AccountInfo: ...
    async def pause_account(self, account_id: str) -> AccountInfo: ...
    async def resume_account(self, account_id: str) -> AccountInfo: ...
    async def screenshot(self, account_id: str) -> bytes: ...


def pool_of(backend: object) -> AccountPool | None:
    """The pool behind a backend (``service.pool_adapter.BrowserBackend.pool``), when it can be
    administered; None for backends without one."""
    pool = getattr(backend, "pool", None)
    return pool if isinstance(pool, AccountPool) else None
