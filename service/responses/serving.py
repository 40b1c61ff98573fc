"""Serving the Responses API on chat serving: a request is prepared (its history from a previous
response or its conversation, its item references resolved, its chat request built and checked),
then answered whole, as a stream, or in the background, and remembered: stored for GET,
``previous_response_id`` and references (``store``), and added to its conversation.

Errors the chat layer names by chat field (``messages``) are named by the Responses field they
came from (``input``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from service.catalog import Catalog, OutputKind
from service.chat.emulation import emulation_for
from service.chat.protocol import ChatCompletionChunk, ChatCompletionRequest, ChatMessage
from service.chat.serving import ChatService
from service.cluster.forward import staying_here, to_run_owner
from service.errors import InvalidRequest, ModelNotFound, NotFound, ServiceError, error_body
from service.responses.background import BackgroundRuns, Run
from service.responses.convert import ResponsesRequest, chat_request, input_messages, new_response_id
from service.responses.items import Item, normal_items, resolve_references, with_ids
from service.responses.shaping import Shaper, history_after, response_from_chat
from service.responses.store import INTERRUPTED, StoredResponse
from service.stores.interfaces import ConversationObjectStore, ResponseArchive

log = logging.getLogger(__name__)

__all__ = ["Prepared", "ResponsesService"]

_TERMINAL = ("response.completed", "response.incomplete", "response.failed")
_RUNNING = ("queued", "in_progress")
_TEMPORARY_IDS = 10_000  # temporary response ids remembered (service.temporary)


@dataclass(frozen=True)
class Prepared:
    """A request ready to run: its chat request, its input items (references resolved, each with
    an id) and the shaper that builds its Response object and events."""

    request: ResponsesRequest
    chat: ChatCompletionRequest
    items: list[Item]
    shaper: Shaper
    temporary: bool = False  # a temporary chat: never stored, never continued (service.temporary)

    @property
    def conversation(self) -> str | None:
        return self.request.conversation_id


class ResponsesService:
    """The Responses API for the lifespan: the stores, the background runs, and chat serving."""

    def __init__(
        self,
        chat: ChatService,
        store: ResponseArchive,
        conversations: ConversationObjectStore,
        runs: BackgroundRuns,
    ) -> None:
        self.chat = chat
        self.store = store
        self.conversations = conversations
        self.runs = runs
        # Ids of temporary responses (never stored), so that continuing one is a clear 400 rather
        # than a 404; in memory and bounded: after a restart such an id is simply not found.
        self._temporary: OrderedDict[tuple[str, str], None] = OrderedDict()

    # Preparing.
    async def prepare(self, request: ResponsesRequest, identity: str) -> Prepared:
        temporary = self.chat.options.temporary(request.temporary)
        if temporary:
            _refuse_storage(request)
            request.store = False
        previous = request.previous_response_id
        if previous and (identity, previous) in self._temporary:
            raise InvalidRequest(
                f"The response {previous!r} was a temporary chat: it was not stored and cannot be "
                "continued. Send the conversation so far as input instead.",
                param="previous_response_id",
                code="temporary_not_continued",
            )
        if request.background and not request.store:
            raise InvalidRequest(
                "A background response must be stored (store: true): it is read back with GET.", param="store"
            )
        if request.conversation_id and request.previous_response_id:
            raise InvalidRequest(
                "conversation and previous_response_id cannot be used together.", param="conversation"
            )
        history = await self._history(request, identity)
        items = with_ids(await self.resolve(normal_items(request.input), identity))
        chat = chat_request(request, history, items, stream=True if request.background else None)
        chat.temporary = temporary
        _check_early(chat, self.chat.options.catalog)
        shaper = Shaper(request, new_response_id(), request.conversation_id)
        return Prepared(request, chat, items, shaper, temporary)

    async def _history(self, request: ResponsesRequest, identity: str) -> list[ChatMessage]:
        if request.previous_response_id:
            previous = await self.stored(identity, request.previous_response_id, param="previous_response_id")
            return [ChatMessage.model_validate(message) for message in previous.history]
        conversation = request.conversation_id
        if conversation:
            items = await asyncio.to_thread(self.conversations.items, identity, conversation)
            if items is None:
                raise _missing(f"Conversation with id {conversation!r} not found.", "conversation")
            return input_messages(items, field="conversation")
        return []

    async def resolve(self, items: list[Item], identity: str, *, field: str = "input") -> list[Item]:
        async def lookup(item_id: str) -> Item | None:
            found = await asyncio.to_thread(self.store.item, identity, item_id)
            if found is None:
                found = await asyncio.to_thread(self.conversations.find_item, identity, item_id)
            return found

        return await resolve_references(items, lookup, field=field)

    async def stored(self, identity: str, response_id: str, *, param: str | None = None) -> StoredResponse:
        found = await asyncio.to_thread(self.store.get, identity, response_id)
        if found is None:
            raise _missing(f"No response with id {response_id!r} was found.", param)
        return found

    # Answering.
    async def create(self, prepared: Prepared, identity: str) -> dict[str, Any]:
        try:
            answer = await self.chat.create(prepared.chat, identity)
        except InvalidRequest as exc:
            raise _as_input(exc) from None
        body = response_from_chat(prepared.shaper, answer)
        await self.remember(prepared, identity)
        return body

    async def stream(self, prepared: Prepared, identity: str) -> AsyncIterator[dict[str, Any]]:
        async for event in prepared.shaper.events(self._chat_stream(prepared, identity)):
            if event["type"] in _TERMINAL:
                await self.remember(prepared, identity)
            yield event

    async def _chat_stream(self, prepared: Prepared, identity: str) -> AsyncIterator[ChatCompletionChunk]:
        chunks = self.chat.stream(prepared.chat, identity)
        async with contextlib.aclosing(chunks):  # type: ignore[type-var]
            try:
                async for chunk in chunks:
                    yield chunk
            except InvalidRequest as exc:
                raise _as_input(exc) from None

    async def remember(
        self, prepared: Prepared, identity: str, events: list[dict[str, Any]] | None = None
    ) -> None:
        """Store the response when asked to (a failed or cancelled one too, so that GET shows it,
        but with no history to continue), and add its turn to its conversation only when it was
        answered (completed, or incomplete at its token budget)."""
        shaper, request = prepared.shaper, prepared.request
        answered = shaper.status in ("completed", "incomplete")
        if prepared.temporary:
            self._temporary[(identity, shaper.id)] = None
            while len(self._temporary) > _TEMPORARY_IDS:
                self._temporary.popitem(last=False)
            return  # nothing of a temporary chat is kept
        if request.store:
            history = history_after(prepared.chat, shaper.output, instructed=bool(request.instructions))
            put = self.store.put
            await asyncio.to_thread(
                put,
                identity,
                shaper.body(),
                history if answered else [],
                input_items=prepared.items,
                events=events,
            )
        if prepared.conversation and answered:
            turn = [*prepared.items, *shaper.output]
            await asyncio.to_thread(self.conversations.append, identity, prepared.conversation, turn)

    # In the background.
    async def start_background(self, prepared: Prepared, identity: str) -> Run:
        """Store the response as ``queued``, announce it, and start its run."""
        await self.chat.to_owner(prepared.chat, identity)  # its run stays here: where it belongs first
        shaper = prepared.shaper
        shaper.status = "queued"
        body = shaper.body()
        await asyncio.to_thread(self.store.put, identity, body, [], input_items=prepared.items)
        run = Run(shaper.id)
        run.publish(shaper.event("response.created", response=body))
        run.publish(shaper.event("response.queued", response=body))

        async def work(run: Run) -> None:
            with staying_here():  # its request has its answer already: the run is this replica's
                await self._run(prepared, identity, run)

        self.runs.start(run, work)
        return run

    async def _run(self, prepared: Prepared, identity: str, run: Run) -> None:
        shaper = prepared.shaper
        try:
            async for event in shaper.events(self._chat_stream(prepared, identity), created=False):
                if event["type"] == "response.in_progress":
                    await asyncio.to_thread(self.store.put, identity, shaper.body(), [])
                if event["type"] in _TERMINAL:
                    await self.remember(prepared, identity, events=[*run.events, event])
                run.publish(event)
        except asyncio.CancelledError:
            if not run.discarded:
                shaper.status = "cancelled" if run.cancelled_by_client else "failed"
                shaper.error = None if run.cancelled_by_client else dict(INTERRUPTED)
                await self.remember(prepared, identity, events=run.events)
            run.finish()
            if not run.cancelled_by_client:
                raise  # the gateway is stopping: the cancellation is not ours to swallow
        except Exception as exc:  # before its turn started (no account, an image refused, ...)
            if not isinstance(exc, ServiceError):
                log.exception("background response %s failed", shaper.id)
            shaper.status = "failed"
            error = error_body(exc).error
            shaper.error = {"code": error.code or error.type, "message": error.message}
            event = shaper.event("response.failed", response=shaper.body())
            await self.remember(prepared, identity, events=[*run.events, event])
            run.publish(event)

    async def cancel(self, identity: str, response_id: str) -> dict[str, Any]:
        stored = await self.stored(identity, response_id)
        if not stored.body.get("background"):
            raise InvalidRequest("Only background responses can be cancelled.", param="response_id")
        run = self.runs.get(response_id)
        if run is None:
            await _elsewhere(stored, response_id)
        else:
            await self.runs.cancel(run)
            stored = await self.stored(identity, response_id)
        status = stored.body.get("status")
        if status not in ("cancelled", "queued", "in_progress"):
            raise InvalidRequest(
                f"The response is {status} already: it cannot be cancelled.", param="response_id"
            )
        return stored.body

    async def delete(self, identity: str, response_id: str) -> None:
        run = self.runs.get(response_id)
        stored = await asyncio.to_thread(self.store.get, identity, response_id)
        if run is None and stored is not None:
            await _elsewhere(stored, response_id)  # its run would store it again after the delete
        if run is not None and stored is not None:
            await self.runs.cancel(run, discard=True)  # stops its page answer; nothing is stored after
        if not await asyncio.to_thread(self.store.delete, identity, response_id):
            raise _missing(f"No response with id {response_id!r} was found.", None)

    async def follow(
        self, identity: str, response_id: str, after: int | None
    ) -> AsyncIterator[dict[str, Any]]:
        """A background response's events after ``after``: live while it runs, else as stored."""
        stored = await self.stored(identity, response_id)
        if not stored.body.get("background"):
            raise InvalidRequest("Only background responses can be streamed again.", param="stream")
        run = self.runs.get(response_id)
        if run is not None:
            return run.follow(after)
        await _elsewhere(stored, response_id)  # live on another replica: followed there
        return _replay(stored.events or [], after)


async def _elsewhere(stored: StoredResponse, response_id: str) -> None:
    """A background response stored as running that does not run here runs on another replica
    (clustered): the request about it is forwarded there (``Redirected``). Nothing otherwise, and
    nothing when its replica died: what is stored answers (``service.stores.redis_responses`` marks
    it failed once its run lapsed)."""
    if stored.body.get("background") and stored.body.get("status") in _RUNNING:
        await to_run_owner(response_id)


async def _replay(events: list[dict[str, Any]], after: int | None) -> AsyncIterator[dict[str, Any]]:
    for event in events:
        if after is None or event["sequence_number"] > after:
            yield event


def _refuse_storage(request: ResponsesRequest) -> None:
    """What a temporary chat cannot be: stored (an explicit ``store: true``, a background response)
    or part of a conversation."""
    if request.store and "store" in request.model_fields_set:
        raise InvalidRequest(
            "A temporary chat is never stored: send store: false, or leave store out.", param="store"
        )
    if request.background:
        raise InvalidRequest(
            "A background response is stored to be read back, and a temporary chat never is.",
            param="background",
        )
    if request.conversation_id:
        raise InvalidRequest("A temporary chat is kept in no conversation.", param="conversation")


def _check_early(chat: ChatCompletionRequest, catalog: Catalog) -> None:
    """What chat serving would refuse, refused now: before a background response is queued."""
    model = catalog.find(chat.model)
    if model is None:
        raise ModelNotFound(chat.model)
    if model.output is OutputKind.MUSIC:  # its answer is a track, which no response item here carries
        raise InvalidRequest(
            f"{model.name} answers with audio; ask for it through /v1/chat/completions.", param="model"
        )
    emulation_for(chat)


def _missing(message: str, param: str | None) -> NotFound:
    missing = NotFound(message)
    missing.param = param
    return missing


def _as_input(exc: ServiceError) -> ServiceError:
    if exc.param is not None and exc.param.startswith("messages"):
        exc.param = "input"
    return exc
