"""Chat serving logic: plan a turn for a request, run it on the pool, and shape the answer.

``create()`` returns one ``ChatCompletionResponse``; ``stream()`` yields ``ChatCompletionChunk``s
(role first, then content/reasoning deltas, then the finish chunk, then an optional usage chunk).
Both raise ``service.errors`` classes. The lease is taken inside ``stream()`` and given back in its
``finally``; an answer that did not finish (client gone, error) is stopped on the page first.

Which chat a turn goes to and what becomes of it (the claim of a continued chat, the fallback to a
new one, remembering the answer, releasing the claim) is ``service.chat.affinity``'s. The answer
names the model the page served in ``served_model`` (see ``service.chat.protocol``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace

from browser import AccountInfo, ThinkingLevel, TurnRequest, TurnSnapshot
from service.backend import Backend, BackendTurn
from service.catalog import Catalog, ModelSpec, can_serve, unservable
from service.chat.admission import ByteBudget, ImageAdmission
from service.chat.affinity import ConversationAffinity, Track, new_turn_length
from service.chat.emulation import (
    PLAIN,
    Emulation,
    Outcome,
    Retry,
    assistant_message,
    call_deltas,
    delivered,
    emulation_for,
    response_message,
)
from service.chat.inputs import PreparedPrompt, prepare_prompt
from service.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatMessage,
    Choice,
    ChunkChoice,
    Delta,
    Usage,
    new_completion_id,
)
from service.cluster.forward import to_model_server
from service.conversations import ChatRef
from service.deltas import DeltaTracker
from service.errors import (
    InvalidRequest,
    ModelNotFound,
    NotImplementedYet,
    UpstreamFailed,
)
from service.fetch import FetchPolicy
from service.gem_models import gem_routes
from service.janitor import ChatJanitor
from service.reasoning import ReasoningFormat, ReasoningShaper, thinking_level
from service.stores.interfaces import ChatMappings

log = logging.getLogger(__name__)

__all__ = ["ChatService", "ServingOptions", "TurnPlan", "estimate_tokens"]


@dataclass(frozen=True)
class ServingOptions:
    fetch_policy: FetchPolicy
    max_images: int
    max_prompt_bytes: int
    stop_timeout: float
    admission: ImageAdmission
    reasoning_format: ReasoningFormat = ReasoningFormat.REASONING_CONTENT
    temporary_by_default: bool = False  # GatewaySettings.temporary_chats_by_default
    catalog: Catalog = field(default_factory=Catalog)  # the app's models (its Gem aliases)

    def temporary(self, asked: object) -> bool:
        """Whether a request is a temporary chat: what it said (``service.temporary``), else the
        default."""
        return asked if isinstance(asked, bool) else self.temporary_by_default


@dataclass(frozen=True)
class TurnPlan:
    """A request resolved against the catalog and the conversation store. ``prompt_text`` is all
    the text Gemini reads for the turn (typed, or attached as message.txt when oversized)."""

    model: ModelSpec
    spec: TurnRequest
    messages: tuple[ChatMessage, ...]
    continues: ChatRef | None
    prompt_text: str
    emulation: Emulation = PLAIN  # tools, structured output, limits (service.chat.emulation)


def estimate_tokens(text: str) -> int:
    """About four characters a token: the page reports no counts, so usage is an estimate."""
    return math.ceil(len(text) / 4)


class ChatService:
    """Serves chat completions on a ``Backend`` with conversation reuse."""

    opens_early = False  # the stream starts with the turn: errors before it are HTTP statuses

    def __init__(
        self,
        backend: Backend,
        conversations: ChatMappings,
        options: ServingOptions,
        janitor: ChatJanitor | None = None,
    ) -> None:
        self.backend = backend
        self.options = options
        self.affinity = ConversationAffinity(conversations, janitor)

    async def ready(self, request: ChatCompletionRequest, identity: str) -> None:
        """Nothing to look up before a stream opens."""

    async def create(
        self, request: ChatCompletionRequest, identity: str, *, backend: Backend | None = None
    ) -> ChatCompletionResponse:
        """The whole answer. ``backend``: what this request's turns run on, when not ours (a
        serving's wrapper of it that reshapes the answer, ``service.chat.longrun``)."""
        turns = backend or self.backend
        plan = await self.plan(request, identity)
        seen = _Seen(claimed=plan.continues, temporary=plan.spec.temporary)
        async with self.affinity.settled(seen):
            async with AsyncExitStack() as stack:
                turn, plan = await self._enter(stack, plan, seen, identity, turns)
                finished = False
                try:
                    final = await _last_snapshot(turn, seen, plan.emulation.reached)
                    finished = not seen.cut  # a limit cut the answer short: stop the page
                finally:
                    if not finished:
                        await self._stop(turn)
                account_id = turn.account_id
            answer = _raise_if_failed(final)
            outcome, answer = await self._emulate(plan, answer, account_id, seen, turns, identity=identity)
            said = assistant_message(outcome, outcome.content)
            await self._remember(plan, seen, identity, said, account_id, answer.cid)
        shaper = ReasoningShaper(self.options.reasoning_format)
        thoughts, content = shaper.whole(answer.thoughts, outcome.content)
        message = response_message(outcome, content, thoughts)
        return ChatCompletionResponse(
            model=request.model,
            served_model=answer.served_model_label,
            choices=[
                Choice(
                    message=message,
                    finish_reason=outcome.finish_reason,  # type: ignore[arg-type]
                    stop_sequence=outcome.stop_sequence,
                )
            ],
            usage=_usage(plan.prompt_text, delivered(outcome, outcome.content) + (answer.thoughts or "")),
        )

    async def stream(
        self, request: ChatCompletionRequest, identity: str, *, backend: Backend | None = None
    ) -> AsyncIterator[ChatCompletionChunk]:
        """The answer as chunks; ``backend`` as for ``create``."""
        turns = backend or self.backend
        plan = await self.plan(request, identity)
        chunks = _ChunkFactory(request.model)
        seen = _Seen(claimed=plan.continues, temporary=plan.spec.temporary)
        async with self.affinity.settled(seen), AsyncExitStack() as stack:
            turn, plan = await self._enter(stack, plan, seen, identity, turns)
            finished = False
            try:
                yield chunks.make(Delta(role="assistant", content=""))
                text, thoughts = DeltaTracker(), DeltaTracker()
                shaper, shown = ReasoningShaper(self.options.reasoning_format), plan.emulation.visible
                final: TurnSnapshot | None = None
                async for snapshot in turn:
                    final = snapshot
                    seen.note(turn.account_id, snapshot)
                    chunks.served_model = snapshot.served_model_label or chunks.served_model
                    reasoning = thoughts.update(snapshot.thoughts or "")
                    delta = _delta(*shaper.delta(reasoning, text.update(shown(snapshot.text))))
                    if delta is not None:
                        yield chunks.make(delta)
                    if plan.emulation.reached(snapshot.text):
                        seen.cut = True
                        break
                final = _raise_if_failed(final)
                if seen.cut:
                    await self._stop(turn)
                finished = True  # the page's answer is over: complete, or stopped just above
                outcome, final = await self._emulate(
                    plan, final, turn.account_id, seen, turns, stack, identity=identity
                )
                reasoning = thoughts.finish(final.thoughts or "")
                delta = _delta(*shaper.delta(reasoning, text.finish(outcome.content or ""), final=True))
                if delta is not None:
                    yield chunks.make(delta)
                for call_delta in call_deltas(outcome):
                    yield chunks.make(call_delta)
                if text.diverged:
                    log.warning("streamed text diverged from the final text; the final text was not resent")
                # What the client received is what it will send back as the assistant message.
                said = assistant_message(outcome, text.sent or (None if outcome.tool_calls else ""))
                await self._remember(plan, seen, identity, said, turn.account_id, final.cid)
                yield chunks.make(Delta(), outcome.finish_reason, outcome.stop_sequence)
                if request.include_usage:
                    completion = delivered(outcome, text.sent) + thoughts.sent
                    yield chunks.usage(_usage(plan.prompt_text, completion))
            finally:
                if not finished:
                    await self._stop(turn)

    async def to_owner(self, request: ChatCompletionRequest, identity: str) -> None:
        """For work that runs apart from its request (a background response), decided while the
        request may still be forwarded (``Redirected``): a model no local account serves goes to a
        replica whose accounts do, a continued chat to the replica that drives its account; once
        started here, the run could only refuse or fold."""
        model = _chat_model(self.options.catalog, request.model)
        accounts = self.backend.accounts()
        if not can_serve(model, accounts):
            to_model_server(model)
        if not self.options.temporary(request.temporary):
            await self.affinity.to_owner(identity, _chat_key(model), request.messages, accounts)

    async def plan(self, request: ChatCompletionRequest, identity: str) -> TurnPlan:
        """Resolve the model, check inputs, and decide between continuing a chat and a new one."""
        model = _chat_model(self.options.catalog, request.model)
        accounts = self.backend.accounts()
        if not can_serve(model, accounts):
            to_model_server(model)  # another replica's accounts serve it: answered there
            # Fail before leasing with the same verdict /models reports.
            raise unservable(model, accounts)
        messages = tuple(request.messages)
        emulation = emulation_for(request)
        thinking = thinking_level(request.reasoning_effort)
        if not model.image_input and any(message.image_urls() for message in messages):
            raise InvalidRequest(f"The model {model.name} does not accept image input.", param="messages")
        if self.options.temporary(request.temporary):
            # Never continued: the whole history goes into a new temporary chat (service.temporary).
            prompt = await self._prepare(emulation.prompt_messages(messages), identity)
            spec = _turn_spec(model, prompt, thinking, accounts, temporary=True)
            return TurnPlan(model, spec, messages, None, prompt.text, emulation)
        ref = await self.affinity.claim(identity, _chat_key(model), messages, accounts)
        if ref is not None:
            try:
                tail = messages[-new_turn_length(messages) :]
                prompt = await self._prepare(emulation.prompt_messages(tail, messages), identity)
            except BaseException:
                await self.affinity.release(ref, touched=False)
                raise
            spec = _turn_spec(
                model, prompt, thinking, accounts, account_id=ref.account_id, chat_id=ref.chat_id
            )
            return TurnPlan(model, spec, messages, ref, prompt.text, emulation)
        prompt = await self._prepare(emulation.prompt_messages(messages), identity)
        spec = _turn_spec(model, prompt, thinking, accounts)
        return TurnPlan(model, spec, messages, None, prompt.text, emulation)

    async def _prepare(self, messages: Sequence[ChatMessage], identity: str) -> PreparedPrompt:
        if not any(message.image_urls() for message in messages):
            return await self._prepare_with(messages, None)
        # Admission before any image is fetched or decoded (service.chat.admission).
        with self.options.admission.admit(identity) as budget:
            return await self._prepare_with(messages, budget)

    async def _prepare_with(
        self, messages: Sequence[ChatMessage], budget: ByteBudget | None
    ) -> PreparedPrompt:
        return await prepare_prompt(
            messages,
            policy=self.options.fetch_policy,
            max_images=self.options.max_images,
            max_prompt_bytes=self.options.max_prompt_bytes,
            budget=budget,
        )

    async def _enter(
        self, stack: AsyncExitStack, plan: TurnPlan, seen: _Seen, identity: str, turns: Backend
    ) -> tuple[BackendTurn, TurnPlan]:
        """Lease a turn (``service.chat.affinity``: a continuation whose account cannot serve now
        falls back to a new chat). Returns the plan actually sent: the fallback types the folded
        history, not the new turn."""
        folded: TurnPlan | None = None

        async def refold() -> TurnRequest:
            nonlocal folded
            prompt = await self._prepare(plan.emulation.prompt_messages(plan.messages), identity)
            spec = replace(
                plan.spec, prompt=prompt.prompt, attachments=prompt.files, account_id=None, chat_id=None
            )
            folded = replace(plan, spec=spec, continues=None, prompt_text=prompt.text)
            return spec

        turn = await self.affinity.lease(stack, turns, plan.spec, seen, refold)
        return turn, folded or plan

    async def _remember(
        self,
        plan: TurnPlan,
        seen: _Seen,
        identity: str,
        answer: str | ChatMessage,
        account_id: str,
        chat_id: str | None,
    ) -> None:
        """Map the history with this answer (as the client received it) to the chat's new tip; a
        temporary chat keeps no mapping (it is never continued)."""
        if plan.spec.temporary:
            return
        said = answer if isinstance(answer, ChatMessage) else ChatMessage(role="assistant", content=answer)
        history = (*plan.messages, said)
        await self.affinity.remember(seen, identity, _chat_key(plan.model), history, account_id, chat_id)

    async def _emulate(
        self,
        plan: TurnPlan,
        answer: TurnSnapshot,
        account_id: str,
        seen: _Seen,
        turns: Backend,
        lease: AsyncExitStack | None = None,
        *,
        identity: str = "",
    ) -> tuple[Outcome, TurnSnapshot]:
        """Read the answer as the request asked (service.chat.emulation); when it does not hold (no
        valid tool call, invalid JSON), ask once more in the same chat, the lease given back first."""
        outcome = plan.emulation.read(answer.text, completed=answer.completed and not seen.cut, retried=False)
        if not isinstance(outcome, Retry):
            return outcome, answer
        if not answer.cid and not plan.spec.temporary:
            raise UpstreamFailed("Gemini's answer did not hold what was asked, and no chat to ask again in.")
        if lease is not None:
            await lease.aclose()
        if plan.spec.temporary:
            # A temporary chat is not asked again: a new one gets the history, the answer and the ask.
            again_messages = (
                *plan.messages,
                ChatMessage(role="assistant", content=answer.text),
                ChatMessage(role="user", content=outcome.prompt),
            )
            folded = await self._prepare(plan.emulation.prompt_messages(again_messages), identity)
            spec = replace(plan.spec, prompt=folded.prompt, attachments=folded.files)
        else:
            spec = replace(
                plan.spec, prompt=outcome.prompt, attachments=(), account_id=account_id, chat_id=answer.cid
            )
        seen.cut = False
        async with turns.turn(spec) as turn:
            finished = False
            try:
                final = await _last_snapshot(turn, seen, plan.emulation.reached)
                finished = not seen.cut
            finally:
                if not finished:
                    await self._stop(turn)
        again = _raise_if_failed(final)
        retried = plan.emulation.read(again.text, completed=again.completed and not seen.cut, retried=True)
        if isinstance(retried, Retry):  # read(retried=True) answers or raises; never asks again
            raise UpstreamFailed("Gemini's answer did not hold what was asked.")
        return retried, again

    async def _stop(self, turn: BackendTurn) -> None:
        """Stop an unfinished answer on the page, bounded; the lease returns either way."""
        with contextlib.suppress(Exception):
            await asyncio.wait_for(turn.stop(), self.options.stop_timeout)


def _chat_model(catalog: Catalog, name: str) -> ModelSpec:
    model = catalog.find(name)
    if model is None:
        raise ModelNotFound(name)
    if not model.chat_ready:
        raise NotImplementedYet(
            f"The model {name} ({model.output.value} output) is not implemented yet on this gateway.",
            param="model",
            code="model_not_implemented",
        )
    return model


def _chat_key(model: ModelSpec) -> str:
    """What a continued chat must have been: the same family, or the same Gem for a Gem model (a
    Gem's chat is continued on the Gem's page, a plain one never is)."""
    return model.name if model.gem_model else model.family.value


def _turn_spec(
    model: ModelSpec,
    prompt: PreparedPrompt,
    thinking: ThinkingLevel | None,
    accounts: Sequence[AccountInfo],
    *,
    account_id: str | None = None,
    chat_id: str | None = None,
    temporary: bool = False,
) -> TurnRequest:
    gem_by_account = gem_routes(model.name, model.gem_target, accounts) if model.gem_model else None
    if gem_by_account is not None and not gem_by_account:
        raise ModelNotFound(model.name)  # the Gem went away since ``can_serve`` looked
    return TurnRequest(
        prompt=prompt.prompt,
        mode=model.family,
        tool=model.tool,
        gem=model.gem,
        gem_by_account=gem_by_account,
        thinking=thinking,
        attachments=prompt.files,
        account_id=account_id,
        chat_id=chat_id,
        temporary=temporary,
    )


async def _last_snapshot(
    turn: BackendTurn, seen: _Seen, reached: Callable[[str], bool] | None = None
) -> TurnSnapshot | None:
    """The turn's last snapshot; with ``reached``, the first whose text reaches a limit (``seen.cut``)."""
    final: TurnSnapshot | None = None
    async for snapshot in turn:
        final = snapshot
        seen.note(turn.account_id, snapshot)
        if reached is not None and reached(snapshot.text):
            seen.cut = True
            break
    return final


@dataclass
class _Seen(Track):
    """The request's track (``service.chat.affinity``), and whether a limit (stop, max_tokens) ended
    the answer before the page did."""

    cut: bool = False


def _raise_if_failed(final: TurnSnapshot | None) -> TurnSnapshot:
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

    def make(
        self, delta: Delta, finish_reason: str | None = None, stop_sequence: str | None = None
    ) -> ChatCompletionChunk:
        choice = ChunkChoice(delta=delta, finish_reason=finish_reason, stop_sequence=stop_sequence)  # type: ignore[arg-type]
        chunk = ChatCompletionChunk(id=self.id, created=self.created, model=self.model, choices=[choice])
        if self.served_model:
            chunk.served_model = self.served_model
        return chunk

    def usage(self, usage: Usage) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self.id, created=self.created, model=self.model, choices=[], usage=usage
        )
