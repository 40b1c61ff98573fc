"""A key's group of accounts: requests made with a key limited to some accounts see only those
(``accounts()``, so ``/v1/models`` lists what they can serve) and are served only by them.

The caller comes from ``service.auth.CURRENT_CALLER`` (set by the key gate for the request being
served). The pool schedules by one account at most, so a grouped turn names the account itself:
the least loaded ready member that offers the model's mode, tool and tier. Such a turn does not
move to an account outside the group when its account fails; it fails like a continued chat does.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

from browser import TurnRequest
from service.auth import CURRENT_CALLER
from service.backend import AccountView, Backend, BackendTurn
from service.errors import NoHealthyAccount

__all__ = ["GroupedBackend"]

# Preferred first: ready now, then busy (a tab may free up), then starting or cooling.
_STATE_ORDER = {"ready": 0, "busy": 1, "starting": 2, "cooling": 3}


class GroupedBackend:
    def __init__(self, inner: Backend) -> None:
        self.inner = inner

    @staticmethod
    def _group() -> frozenset[str] | None:
        caller = CURRENT_CALLER.get()
        return caller.accounts if caller is not None else None

    def accounts(self) -> Sequence[AccountView]:
        group = self._group()
        accounts = self.inner.accounts()
        return accounts if group is None else [account for account in accounts if account.id in group]

    def turn(self, spec: TurnRequest) -> AbstractAsyncContextManager[BackendTurn]:
        group = self._group()
        if group is None:
            return self.inner.turn(spec)
        if spec.account_id is not None:
            if spec.account_id not in group:
                raise NoHealthyAccount(f"account {spec.account_id!r} is not in this key's group")
            return self.inner.turn(spec)
        return self.inner.turn(replace(spec, account_id=self._choose(spec, group)))

    def _choose(self, spec: TurnRequest, group: frozenset[str]) -> str:
        fitting = [
            account
            for account in self.inner.accounts()
            if account.id in group
            and not getattr(account, "paused", False)
            and str(account.state) in _STATE_ORDER
            and spec.mode.value in account.modes
            and (spec.tool is None or spec.tool.value in account.tools)
        ]
        if not fitting:
            raise NoHealthyAccount(f"no account of this key's group offers {spec.mode.value}")
        best = min(fitting, key=lambda account: (_STATE_ORDER[str(account.state)], _load(account)))
        return best.id

    async def delete_chat(self, account_id: str, chat_id: str) -> None:
        await self.inner.delete_chat(account_id, chat_id)

    def __getattr__(self, name: str) -> Any:
        # Anything the backend protocol gains later passes through ungrouped.
        return getattr(self.inner, name)


def _load(account: AccountView) -> int:
    active = getattr(account, "active_turns", 0)
    return active if isinstance(active, int) else 0
