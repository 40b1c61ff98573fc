"""Chat hygiene on the page (``delete_chats``): API traffic should not fill the account's Gemini
history. Policies:

- ``never`` (default): nothing is deleted.
- ``on_expiry``: a chat is deleted when no conversation mapping points at it any more (its
  mappings expired), so it can no longer be continued anyway.
- ``after_turn``: additionally, right after a turn, every chat the conversation store will not
  continue: a chat whose answer failed, was stopped or left no mapping, and a continued chat that
  became dead (it may hold a turn its client never received).

Deletions are queued in the conversation store (SQLite: nothing lost on restart) and carried out by
one background task through the page's own delete RPC, each bounded by ``timeout`` and retried with
backoff; an answer never waits for one. The same task purges expired mappings periodically.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from types import TracebackType
from typing import Protocol

from service.stores.interfaces import ChatMappings

log = logging.getLogger(__name__)

__all__ = ["ChatDeleter", "ChatJanitor", "DeletePolicy"]

RETRY_BASE = 30.0  # seconds before the first retry of a failed deletion; doubles each time
MAX_ATTEMPTS = 5


class DeletePolicy(enum.StrEnum):
    NEVER = "never"
    AFTER_TURN = "after_turn"
    ON_EXPIRY = "on_expiry"


class ChatDeleter(Protocol):
    async def delete_chat(self, account_id: str, chat_id: str) -> None: ...


class ChatJanitor:
    """Queues and carries out chat deletions; use with ``async with`` (owns its task)."""

    def __init__(
        self,
        store: ChatMappings,
        deleter: ChatDeleter,
        policy: DeletePolicy,
        *,
        timeout: float,
        purge_interval: float,
    ) -> None:
        self.store = store
        self.deleter = deleter
        self.policy = policy
        self.timeout = timeout
        self.purge_interval = purge_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.deleted = 0
        self.failed = 0
        self.idle = asyncio.Event()  # set whenever the queue has nothing due (tests wait on it)

    async def __aenter__(self) -> ChatJanitor:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="chat-janitor")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- what serving reports --

    def chat_unkept(self, account_id: str, chat_id: str) -> None:
        """A turn's chat that no mapping will continue."""
        if self.policy is DeletePolicy.AFTER_TURN:
            self._schedule(account_id, chat_id)

    def chat_dead(self, account_id: str, chat_id: str) -> None:
        """A continued chat that may hold a turn its client never received."""
        if self.policy is DeletePolicy.AFTER_TURN:
            self._schedule(account_id, chat_id)

    def _schedule(self, account_id: str, chat_id: str) -> None:
        # One small SQLite write on the event loop: cheaper than a thread hop, never waits on Gemini.
        self.store.schedule_deletion(account_id, chat_id)
        self.idle.clear()
        self._wake.set()

    # -- the background task --

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_purge = loop.time()
        while True:
            if loop.time() >= next_purge:
                await self._purge()
                next_purge = loop.time() + self.purge_interval
            await self._work()
            due = await asyncio.to_thread(self.store.next_deletion_due)
            wait = next_purge - loop.time()
            if due is not None:
                wait = min(wait, max(0.0, due - self.store.clock()))
            else:
                self.idle.set()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(wait, 0.05))

    async def _purge(self) -> None:
        try:
            purged, orphans = await asyncio.to_thread(self.store.expire)
        except Exception:
            log.exception("purging expired conversations failed")
            return
        if purged:
            log.info("%d expired conversation mappings purged", purged)
        if self.policy is not DeletePolicy.NEVER:
            for ref in orphans:
                await asyncio.to_thread(self.store.schedule_deletion, ref.account_id, ref.chat_id)

    async def _work(self) -> None:
        for item in await asyncio.to_thread(self.store.due_deletions):
            try:
                await asyncio.wait_for(self.deleter.delete_chat(item.account_id, item.chat_id), self.timeout)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempts = item.attempts + 1
                retry = RETRY_BASE * 2 ** (attempts - 1) if attempts < MAX_ATTEMPTS else None
                self.failed += 1
                # Only the type: a message could quote page text.
                log.warning(
                    "deleting chat %s of account %s failed (%s)%s",
                    item.chat_id,
                    item.account_id,
                    type(exc).__name__,
                    f"; retry in {retry:.0f} s" if retry is not None else "; giving up",
                )
                await asyncio.to_thread(
                    self.store.deletion_failed, item.account_id, item.chat_id, retry_in=retry
                )
            else:
                self.deleted += 1
                log.info("chat %s of account %s deleted", item.chat_id, item.account_id)
                await asyncio.to_thread(self.store.deletion_done, item.account_id, item.chat_id)
