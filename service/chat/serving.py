"""Chat serving logic: plan a turn for a request, run it on the pool, and shape the answer.

``create()`` returns one ``ChatCompletionResponse``; ``stream()`` yields ``ChatCompletionChunk``s
(role first, then content/reasoning deltas, then the finish chunk, then an optional usage chunk).
Both raise ``service.errors`` classes. The lease is taken inside ``stream()`` and given back in its
``finally``; an answer that did not finish (client gone, error) is stopped on the page first.

The answer names the model the page served in ``served_model`` (see ``service.chat.protocol``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace

from service.backend import Backend, BackendTurn, Snapshot, TurnSpec
from service.catalog import ModelSpec, can_serve, find_model
from service.chat.inputs import PreparedPrompt, prepare_prompt
from service.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatMessage,
    Choice,
    ChunkChoice,
    Delta,
    ResponseMessage,
    Usage,
    new_completion_id,
)
from service.conversations import ChatRef, ConversationStore, conversation_key
from service.deltas import DeltaTracker
from service.errors import (
    InvalidRequest,
    ModelNotFound,
    NoHealthyAccount,
    NotImplementedYet,
    UpstreamFailed,
)
from service.fetch import FetchPolicy

log = logging.getLogger(__name__)

__all__ = ["ChatService", "ServingOptions", "TurnPlan", "estimate_tokens"]


@dataclass(frozen=True)
class ServingOptions:
    fetch_policy: FetchPolicy
    max_images: int
    max_prompt_bytes: int
    stop_timeout: float


@dataclass(frozen=True)
class TurnPlan:
    """A request resolved against the catalog and the conversation store. ``prompt_text`` is all
    the text Gemini reads for the turn (typed, or attached as message.txt when oversized)."""

    model: ModelSpec
    spec: TurnSpec
    messages: tuple[ChatMessage, ...]
    continues: ChatRef | None
    prompt_text: str


def estimate_tokens(text: str) -> int:
    """About four characters a token: the page reports no counts, so usage is an estimate."""
    return math.ceil(len(text) / 4)


class ChatService:
    """Serves chat completions on a ``Backend`` with conversation reuse."""

    def __init__(self, backend: Backend, conversations: ConversationStore, options: ServingOptions) -> None:
        self.backend = backend
        self.conversations = conversations
        self.options = options

    async def create(self, request: ChatCompletionRequest, identity: str) -> ChatCompletionResponse:
        plan = await self.plan(request, identity)
        async with AsyncExitStack() as stack:
            turn, plan = await self._enter(stack, plan)
            finished = False
            try:
                final = await _last_snapshot(turn)
                finished = True
            finally:
                if not finished:
                    await self._stop(turn)
            account_id = turn.account_id
        answer = _raise_if_failed(final)
        await self._remember(plan, identity, answer.text, account_id, answer.cid)
        thoughts = answer.thoughts or None
        return ChatCompletionResponse(
            model=request.model,
            served_model=answer.served_model_label,
            choices=[Choice(message=ResponseMessage(content=answer.text, reasoning_content=thoughts))],
            usage=_usage(plan.prompt_text, answer.text + (answer.thoughts or "")),
        )

    async def stream(
        self, request: ChatCompletionRequest, identity: str
    ) -> AsyncIterator[ChatCompletionChunk]:
        plan = await self.plan(request, identity)
        chunks = _ChunkFactory(request.model)
        async with AsyncExitStack() as stack:
            turn, plan = await self._enter(stack, plan)
            finished = False
            try:
                yield chunks.make(Delta(role="assistant", content=""))
                text, thoughts = DeltaTracker(), DeltaTracker()
                final: Snapshot | None = None
                async for snapshot in turn:
                    final = snapshot
                    chunks.served_model = snapshot.served_model_label or chunks.served_model
                    delta = _delta(thoughts.update(snapshot.thoughts or ""), text.update(snapshot.text))
                    if delta is not None:
                        yield chunks.make(delta)
                final = _raise_if_failed(final)
                delta = _delta(thoughts.finish(final.thoughts or ""), text.finish(final.text))
                if delta is not None:
                    yield chunks.make(delta)
                finished = True
                if text.diverged:
                    log.warning("streamed text diverged from the final text; the final text was not resent")
                # What the client received is what it will send back as the assistant message.
                await self._remember(plan, identity, text.sent, turn.account_id, final.cid)
                yield chunks.make(Delta(), finish_reason="stop")
                if request.include_usage:
                    yield chunks.usage(_usage(plan.prompt_text, text.sent + thoughts.sent))
            finally:
                if not finished:
                    await self._stop(turn)

    async def plan(self, request: ChatCompletionRequest, identity: str) -> TurnPlan:
        """Resolve the model, check inputs, and decide between continuing a chat and a new one."""
        model = _chat_model(request.model)
        if not can_serve(model, self.backend.accounts()):
            # Fail before leasing with the same verdict /models reports; the pool also enforces the
            # tier rule per turn (``paid_only``), for accounts whose tier changes meanwhile.
            raise NoHealthyAccount(f"No account in rotation can serve {model.name} now.")
        messages = tuple(request.messages)
        if not model.image_input and any(message.image_urls() for message in messages):
            raise InvalidRequest(f"The model {model.name} does not accept image input.", param="messages")
        ref = await self._continuable(model, messages, identity)
        if ref is not None:
            prompt = await self._prepare(messages[-1:])
            spec = _turn_spec(model, prompt, account_id=ref.account_id, chat_id=ref.chat_id)
            return TurnPlan(model, spec, messages, ref, prompt.text)
        prompt = await self._prepare(messages)
        return TurnPlan(model, _turn_spec(model, prompt), messages, None, prompt.text)

    async def _continuable(
        self, model: ModelSpec, messages: Sequence[ChatMessage], identity: str
    ) -> ChatRef | None:
        if len(messages) < 2 or messages[-1].role != "user":
            return None
        key = conversation_key(identity, model.family.value, messages[:-1])
        ref = await asyncio.to_thread(self.conversations.lookup, key)
        if ref is None:
            return None
        if ref.account_id not in {account.id for account in self.backend.accounts()}:
            log.info("conversation's account is gone; starting a new chat with the folded history")
            return None
        return ref

    async def _prepare(self, messages: Sequence[ChatMessage]) -> PreparedPrompt:
        return await prepare_prompt(
            messages,
            policy=self.options.fetch_policy,
            max_images=self.options.max_images,
            max_prompt_bytes=self.options.max_prompt_bytes,
        )

    async def _enter(self, stack: AsyncExitStack, plan: TurnPlan) -> tuple[BackendTurn, TurnPlan]:
        """Lease a turn; a continuation whose account cannot serve now falls back to a new chat.
        Returns the plan actually sent (the fallback types the folded history, not the new turn)."""
        try:
            return await stack.enter_async_context(self.backend.turn(plan.spec)), plan
        except NoHealthyAccount:
            if plan.continues is None:
                raise
            log.info("conversation's account cannot serve now; starting a new chat")
        prompt = await self._prepare(plan.messages)
        fresh = replace(plan, spec=_turn_spec(plan.model, prompt), continues=None, prompt_text=prompt.text)
        return await stack.enter_async_context(self.backend.turn(fresh.spec)), fresh

    async def _remember(
        self, plan: TurnPlan, identity: str, answer: str, account_id: str, chat_id: str | None
    ) -> None:
        if not chat_id:
            return
        history = (*plan.messages, ChatMessage(role="assistant", content=answer))
        key = conversation_key(identity, plan.model.family.value, history)
        await asyncio.to_thread(self.conversations.remember, key, ChatRef(account_id, chat_id))

    async def _stop(self, turn: BackendTurn) -> None:
        """Stop an unfinished answer on the page, bounded; the lease returns either way."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(turn.stop(), self.options.stop_timeout)


def _chat_model(name: str) -> ModelSpec:
    model = find_model(name)
    if model is None:
        raise ModelNotFound(name)
    if not model.chat_ready:
        raise NotImplementedYet(
            f"The model {name} ({model.output.value} output) is not implemented yet on this gateway.",
            param="model",
            code="model_not_implemented",
        )
    return model


def _turn_spec(
    model: ModelSpec, prompt: PreparedPrompt, *, account_id: str | None = None, chat_id: str | None = None
) -> TurnSpec:
    spec = TurnSpec(
        prompt=prompt.prompt, family=model.family, tool=model.tool, gem=model.gem, paid_only=model.needs_paid
    )
    return replace(spec, files=prompt.files, account_id=account_id, chat_id=chat_id)


async def _last_snapshot(turn: BackendTurn) -> Snapshot | None:
    final: Snapshot | None = None
    async for snapshot in turn:
        final = snapshot
    return final


def _raise_if_failed(final: Snapshot | None) -> Snapshot:
    if final is None:
        raise UpstreamFailed("Gemini returned no answer.")
    if final.error_code is not None and not final.text:
        raise UpstreamFailed(
            f"Gemini rejected the request (code {final.error_code}).", gemini_code=final.error_code
        )
    return final


def _delta(reasoning: str, content: str) -> Delta | None:
    if not reasoning and not content:
        return None
    delta = Delta()
    if reasoning:
        delta.reasoning_content = reasoning
    if content:
        delta.content = content
    return delta


def _usage(prompt: str, completion: str) -> Usage:
    prompt_tokens, completion_tokens = estimate_tokens(prompt), estimate_tokens(completion)
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
    )


class _ChunkFactory:
    """Chunks of one completion share its id, creation time and model names."""

    def __init__(self, model: str) -> None:
        self.id = new_completion_id()
        self.created = int(time.time())
        self.model = model
        self.served_model: str | None = None

    def make(self, delta: Delta, finish_reason: str | None = None) -> ChatCompletionChunk:
        chunk = ChatCompletionChunk(
            id=self.id,
            created=self.created,
            model=self.model,
            choices=[ChunkChoice(delta=delta, finish_reason=finish_reason)],  # type: ignore[arg-type]
        )
        if self.served_model:
            chunk.served_model = self.served_model
        return chunk

    def usage(self, usage: Usage) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self.id, created=self.created, model=self.model, choices=[], usage=usage
        )
