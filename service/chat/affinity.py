"""Conversation affinity: a follow-up goes to the Gemini chat that holds its history, on the same
account, and only the new turn is typed; everything else starts a new chat with the history folded
into one prompt. The parts, in a request's order:

- the new turn (``new_turn_length``): what a client adds to a history it resends, the last user
  message or the tool results after the assistant's call;
- claim (``ConversationAffinity.claim``): the history before the new turn maps to a chat at its
  tip (``service.conversations``) on an account still in the pool; the chat is claimed for this one
  continuation (a regenerate, an edit or a parallel fork of the same history gets a new chat); an
  account another live replica drives: the request is forwarded there (``service.cluster.forward``);
- fallback (``lease``): the claimed chat's account cannot serve now (gone, cooling, busy, or failing
  before any content): the claim is released untouched and the folded history goes to any fitting
  account instead;
- remember (``remember``): the history with the answer maps to the chat's new tip;
- release (``settled``): a claim that did not end in a remembered answer is released, and the chat
  is dead when the prompt may have reached it; a chat that will not be continued goes to the
  janitor (``delete_chats``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from browser import AccountInfo, TurnRequest, TurnSnapshot
from service.backend import Backend, BackendTurn, DelegatingTurn
from service.chat.protocol import ChatMessage
from service.cluster.forward import to_account_owner
from service.conversations import ChatRef, conversation_key
from service.errors import CapacityExhausted, NoHealthyAccount, UpstreamFailed, UpstreamTimedOut
from service.janitor import ChatJanitor
from service.stores.interfaces import ChatMappings

log = logging.getLogger(__name__)

__all__ = ["ConversationAffinity", "Track", "new_turn_length"]

# What a continuation's pinned account may fail with before any content; any fitting account may
# do better with the folded history (invalid requests and the like would fail there too).
_PRE_CONTENT_FAILURES = (NoHealthyAccount, CapacityExhausted, UpstreamFailed, UpstreamTimedOut)


def new_turn_length(messages: Sequence[ChatMessage]) -> int:
    """How many trailing messages are the new turn: the last user message, or the tool results
    after the last assistant message; 0 when the history ends otherwise."""
    if messages and messages[-1].role == "user":
        return 1
    count = 0
    for message in reversed(messages):
        if message.role not in ("tool", "function"):
            break
        count += 1
    return count


@dataclass
class Track:
    """What one request's turn got to: the chat it claimed, whether it was leased (the prompt may
    have reached the page), whether it fell back to a new chat (the claim released), the chat it
    ran in, whether its answer was remembered."""

    claimed: ChatRef | None = None
    entered: bool = False
    fell_back: bool = False
    remembered: bool = False
    chat: tuple[str, str] | None = None  # (account id, chat id)
    temporary: bool = False  # a temporary chat: in no history, so nothing for the janitor

    @property
    def continues(self) -> ChatRef | None:
        """The claimed chat, while this request continues it (not after a fallback)."""
        return None if self.fell_back else self.claimed

    def note(self, account_id: str, snapshot: TurnSnapshot) -> None:
        if snapshot.cid:
            self.chat = (account_id, snapshot.cid)


class ConversationAffinity:
    """Claims, falls back, remembers and releases on the conversation store; hands the chats that
    will not be continued to the janitor."""

    def __init__(self, conversations: ChatMappings, janitor: ChatJanitor | None) -> None:
        self.conversations = conversations
        self.janitor = janitor

    async def claim(
        self, identity: str, family: str, messages: Sequence[ChatMessage], accounts: Sequence[AccountInfo]
    ) -> ChatRef | None:
        """The chat holding the history before the new turn, claimed for this continuation; None
        for a new chat."""
        tail = new_turn_length(messages)  # the last user message, or the tool results after a call
        if tail == 0 or len(messages) <= tail:
            return None
        key = conversation_key(identity, family, messages[:-tail])
        # Only a history that ends at its chat's tip continues it, and one continuation at a time
        # (service.conversations): a regenerate or a parallel fork gets a new chat instead.
        ref = await asyncio.to_thread(self.conversations.claim, key)
        if ref is None:
            return None
        if ref.account_id not in {account.id for account in accounts}:
            await self.release(ref, touched=False)
            # Driven by another live replica: continued there (the claim given back for it to take).
            to_account_owner(ref.account_id)
            log.info("conversation's account is gone; starting a new chat with the folded history")
            return None
        return ref

    async def to_owner(
        self, identity: str, family: str, messages: Sequence[ChatMessage], accounts: Sequence[AccountInfo]
    ) -> None:
        """Raise ``Redirected`` when the history continues a chat whose account is not in
        ``accounts`` and another live replica drives it; looked up, never claimed (the replica it
        goes to claims it)."""
        tail = new_turn_length(messages)
        if tail == 0 or len(messages) <= tail:
            return
        ref = await asyncio.to_thread(
            self.conversations.lookup, conversation_key(identity, family, messages[:-tail])
        )
        if ref is not None and ref.account_id not in {account.id for account in accounts}:
            to_account_owner(ref.account_id)  # continued there

    async def release(self, ref: ChatRef, *, touched: bool) -> None:
        """Give a claim back; ``touched``: the prompt may have reached the chat (it is dead then)."""
        await asyncio.to_thread(self.conversations.release, ref, touched=touched)

    async def lease(
        self,
        stack: AsyncExitStack,
        turns: Backend,
        request: TurnRequest,
        track: Track,
        refold: Callable[[], Awaitable[TurnRequest]],
    ) -> BackendTurn:
        """Lease the turn (given back by ``stack``); a continuation whose account cannot serve now
        falls back to ``refold()``'s request: the whole history folded, for any fitting account."""
        continues = track.continues
        if continues is None:
            turn = await stack.enter_async_context(turns.turn(request))
            track.entered = True
            return turn
        attempt = AsyncExitStack()
        try:
            leased = await attempt.enter_async_context(turns.turn(request))
            # A pinned turn cannot move to another account itself: wait for its first content.
            primed = await _Primed.start(leased)
        except _PRE_CONTENT_FAILURES as exc:
            await attempt.aclose()  # the lease on the pinned account goes back before the fallback
            log.info("conversation's account cannot serve now (%s); starting a new chat", type(exc).__name__)
        except BaseException:
            await attempt.aclose()
            raise
        else:
            await stack.enter_async_context(attempt)
            track.entered = True
            return primed
        # The continued chat was never typed into: its tip is free for its own next turn.
        await self.release(continues, touched=False)
        track.fell_back = True
        turn = await stack.enter_async_context(turns.turn(await refold()))
        track.entered = True
        return turn

    async def remember(
        self,
        track: Track,
        identity: str,
        family: str,
        history: Sequence[ChatMessage],
        account_id: str,
        chat_id: str | None,
    ) -> None:
        """Map ``history`` (ending with the answer the client received) to the chat's new tip."""
        if not chat_id:
            return
        key = conversation_key(identity, family, history)
        continued = track.continues
        if continued is not None and continued.chat_id != chat_id:
            # Answered in another chat than the one claimed: the claimed one may hold the prompt.
            await self.release(continued, touched=True)
            continued = None
        await asyncio.to_thread(self.conversations.advance, key, account_id, chat_id, continued)
        track.remembered = True

    @asynccontextmanager
    async def settled(self, track: Track) -> AsyncIterator[None]:
        """Close the turn's bookkeeping: a claim that did not end in a remembered answer is released
        (the chat is dead when the prompt may have reached it), and a chat that will not be
        continued goes to the janitor (``delete_chats``)."""
        try:
            yield
        finally:
            claimed = track.claimed
            if claimed is not None and not track.fell_back and not track.remembered:
                await self.release(claimed, touched=track.entered)
                if track.entered and self.janitor is not None:
                    self.janitor.chat_dead(claimed.account_id, claimed.chat_id)
            continued = track.continues
            if (
                self.janitor is not None
                and not track.temporary
                and not track.remembered
                and track.chat is not None
                and (continued is None or track.chat[1] != continued.chat_id)
            ):
                self.janitor.chat_unkept(*track.chat)


class _Primed(DelegatingTurn):
    """A turn whose first snapshot was already read (``start``), given again first on iteration."""

    def __init__(
        self, turn: BackendTurn, snapshots: AsyncIterator[TurnSnapshot], first: TurnSnapshot | None
    ) -> None:
        super().__init__(turn)
        self._rest = snapshots
        self._first = first

    @classmethod
    async def start(cls, turn: BackendTurn) -> _Primed:
        snapshots = aiter(turn)
        first = await anext(snapshots, None)
        return cls(turn, snapshots, first)

    async def _snapshots(self) -> AsyncIterator[TurnSnapshot]:
        first, self._first = self._first, None
        if first is not None:
            yield first
        async for snapshot in self._rest:
            yield snapshot
