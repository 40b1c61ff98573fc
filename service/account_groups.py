"""A key's group of accounts: requests made with a key limited to some accounts see only those
(``accounts()``, so ``/v1/models`` lists what they can serve) and are served only by them.

The caller comes from ``service.auth.CURRENT_CALLER`` (set by the key gate for the request being
served). The pool schedules by one account at most, so a grouped turn names the account itself:
the least loaded ready member that offers the model's mode, tool and tier. Such a turn does not
move to an account outside the group when its account fails; it fails like a continued chat does.
The reads of a running research or video job name their account too: one outside the group is
refused the same way. Chat deletion (the janitor's, no caller) and the account operations (the
admin API's, no caller) pass on unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace

from browser import AccountInfo, TurnRequest, VideoInfo
from service.auth import CURRENT_CALLER
from service.backend import BackendTurn, BackendWrapper
from service.errors import NoHealthyAccount

__all__ = ["GroupedBackend"]

# Preferred first: ready now, then busy (a tab may free up), then starting or cooling.
_STATE_ORDER = {"ready": 0, "busy": 1, "starting": 2, "cooling": 3}


class GroupedBackend(BackendWrapper):
    @staticmethod
    def _group() -> frozenset[str] | None:
        caller = CURRENT_CALLER.get()
        return caller.accounts if caller is not None else None

    def _check_member(self, account_id: str) -> None:
        group = self._group()
        if group is not None and account_id not in group:
            raise NoHealthyAccount(f"account {account_id!r} is not in this key's group")

    def accounts(self) -> Sequence[AccountInfo]:
        group = self._group()
        accounts = self.inner.accounts()
        return accounts if group is None else [account for account in accounts if account.id in group]

    def turn(self, request: TurnRequest) -> AbstractAsyncContextManager[BackendTurn]:
        group = self._group()
        if group is None:
            return self.inner.turn(request)
        if request.account_id is not None:
            self._check_member(request.account_id)
            return self.inner.turn(request)
        return self.inner.turn(replace(request, account_id=self._choose(request, group)))

    def _choose(self, request: TurnRequest, group: frozenset[str]) -> str:
        fitting = [
            account
            for account in self.inner.accounts()
            if account.id in group
            and not account.paused
            and str(account.state) in _STATE_ORDER
            and request.mode in account.modes
            and (request.tool is None or request.tool in account.tools)
        ]
        if not fitting:
            raise NoHealthyAccount(f"no account of this key's group offers {request.mode.value}")
        best = min(fitting, key=lambda account: (_STATE_ORDER[str(account.state)], account.active_turns))
        return best.id

    async def research_state(self, account_id: str, research_id: str) -> str:
        self._check_member(account_id)
        return await self.inner.research_state(account_id, research_id)

    async def research_report(self, account_id: str, chat_id: str) -> str | None:
        self._check_member(account_id)
        return await self.inner.research_report(account_id, chat_id)

    async def video_job(self, account_id: str, job_id: str, chat_id: str | None) -> bool | None:
        self._check_member(account_id)
        return await self.inner.video_job(account_id, job_id, chat_id)

    async def chat_video(self, account_id: str, chat_id: str) -> VideoInfo | None:
        self._check_member(account_id)
        return await self.inner.chat_video(account_id, chat_id)
