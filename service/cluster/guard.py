"""The check before a turn on a clustered replica: the pool picks an account, and before anything
is typed into its page the replica asks ``AccountOwnership.may_use``. A stale owner (its lease
passed to another replica while it was not looking: a long pause, a partition) never starts a turn:
the account is paused at once (out of rotation; the ownership loop removes it from the pool) and the
turn goes to another account of this replica, or fails with ``NoHealthyAccount`` (503) when the
request names that account (a continued chat lives in one account: ``service.cluster.forward`` sends
it to its owner before it gets here, unless the cluster view is a round behind a hand-over)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from browser import TurnRequest
from service.backend import Backend, BackendTurn, BackendWrapper
from service.cluster.ownership import AccountOwnership
from service.errors import NoHealthyAccount, NotFound

log = logging.getLogger(__name__)

__all__ = ["OwnedBackend"]


class OwnedBackend(BackendWrapper):
    """The pool, with every turn's account checked to be this replica's."""

    def __init__(self, inner: Backend, ownership: AccountOwnership) -> None:
        super().__init__(inner)
        self.ownership = ownership

    @asynccontextmanager
    async def turn(self, request: TurnRequest) -> AsyncIterator[BackendTurn]:
        refused = 0
        while True:
            async with self.inner.turn(request) as turn:
                account_id = turn.account_id
                if not self.ownership.guards(account_id) or await self.ownership.may_use(account_id):
                    yield turn
                    return
                log.warning(
                    "replica %s refused a turn on account %s: another replica owns it now",
                    self.ownership.replica_id,
                    account_id,
                )
                refused += 1
                with contextlib.suppress(NotFound):  # removed by the loop meanwhile: out already
                    await self.inner.pause_account(account_id)
            # The lease given back unused (nothing was typed); another account, if the request allows.
            if request.account_id is not None or refused > len(self.inner.accounts()):
                raise NoHealthyAccount(
                    f"The account {account_id!r} is now driven by another replica; "
                    "this replica cannot serve the request."
                )
