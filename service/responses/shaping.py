"""Response objects and the Responses stream's event sequence, shaped from chat completions.

Output items, in order: a ``reasoning`` item (its summary is the thoughts) when there were
thoughts, a ``message`` item with one ``output_text`` part when there was text, then one
``function_call`` item per tool call. Events each carry ``type`` and ``sequence_number``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from service.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatMessage,
)
from service.errors import ServiceError, error_body
from service.responses.convert import ResponsesRequest

__all__ = ["Shaper", "history_after", "response_from_chat"]


def _item_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }


class Shaper:
    """Builds one response: its skeleton, its output items, and (streaming) its events."""

    def __init__(self, request: ResponsesRequest, response_id: str, conversation: str | None = None) -> None:
        self.request = request
        self.id = response_id
        self.conversation = conversation
        self.created = int(time.time())
        self.output: list[dict[str, Any]] = []
        self.status = "in_progress"
        self.usage: dict[str, Any] | None = None
        self.incomplete: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.served_model: str | None = None
        self._sequence = 0

    def body(self) -> dict[str, Any]:
        request = self.request
        fmt = request.text.format if request.text is not None else None
        text = {"format": fmt.model_dump(by_alias=True, exclude_none=True) if fmt else {"type": "text"}}
        tools = [tool.model_dump(exclude_none=True) for tool in request.tools or ()]
        body: dict[str, Any] = {
            "id": self.id,
            "object": "response",
            "created_at": self.created,
            "status": self.status,
            "background": request.background,
            "conversation": {"id": self.conversation} if self.conversation else None,
            "error": self.error,
            "incomplete_details": self.incomplete,
            "instructions": request.instructions,
            "max_output_tokens": request.max_output_tokens,
            "model": request.model,
            "output": self.output,
            "parallel_tool_calls": request.parallel_tool_calls is not False,
            "previous_response_id": request.previous_response_id,
            "reasoning": {"effort": None, "summary": None},
            "store": request.store,
            "temperature": request.temperature,
            "text": text,
            "tool_choice": request.tool_choice or "auto",
            "tools": tools,
            "top_p": request.top_p,
            "truncation": "disabled",
            "usage": self.usage,
            "metadata": request.metadata or {},
        }
        if self.served_model:
            body["served_model"] = self.served_model
        return body

    def finish(self, finish_reason: str | None) -> None:
        if finish_reason == "length":
            self.status = "incomplete"
            self.incomplete = {"reason": "max_output_tokens"}
        else:
            self.status = "completed"

    # Items.
    @staticmethod
    def reasoning_item(thoughts: str, item_id: str | None = None) -> dict[str, Any]:
        summary = [{"type": "summary_text", "text": thoughts}] if thoughts else []
        return {"id": item_id or _item_id("rs"), "type": "reasoning", "summary": summary}

    @staticmethod
    def message_item(text: str, status: str = "completed", item_id: str | None = None) -> dict[str, Any]:
        content = [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
        return {
            "id": item_id or _item_id("msg"),
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        }

    @staticmethod
    def call_item(
        call_id: str, name: str, arguments: str, status: str = "completed", item_id: str | None = None
    ) -> dict[str, Any]:
        return {
            "id": item_id or _item_id("fc"),
            "type": "function_call",
            "status": status,
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
        }

    # Events.
    def event(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event

    async def events(
        self, chunks: AsyncIterator[ChatCompletionChunk], *, created: bool = True
    ) -> AsyncIterator[dict[str, Any]]:
        """The Responses stream for a chat stream. The chat stream's first chunk is awaited before
        anything is yielded, so errors before the lease are HTTP errors; later ones end the stream
        with ``response.failed``. ``created=False``: the caller announced the response already (a
        background response, ``queued`` until its turn starts)."""
        first = await anext(chunks)
        self.status = "in_progress"
        if created:
            yield self.event("response.created", response=self.body())
        yield self.event("response.in_progress", response=self.body())
        state = _StreamState()
        try:
            async for event in self._consume(first, state):
                yield event
            async for chunk in chunks:
                async for event in self._consume(chunk, state):
                    yield event
        except ServiceError as exc:
            for event in self._close_open(state):
                yield event
            self.status = "failed"
            error = error_body(exc).error
            self.error = {"code": error.code or error.type, "message": error.message}
            yield self.event("response.failed", response=self.body())
            return
        for event in self._close_open(state):
            yield event
        self.finish(state.finish_reason)
        kind = "response.completed" if self.status == "completed" else "response.incomplete"
        yield self.event(kind, response=self.body())

    async def _consume(
        self, chunk: ChatCompletionChunk, state: _StreamState
    ) -> AsyncIterator[dict[str, Any]]:
        self.served_model = chunk.served_model or self.served_model
        if chunk.usage is not None:
            self.usage = _usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        for choice in chunk.choices:
            delta = choice.delta
            if delta.reasoning_content and state.reasoning_done and state.reasoning is not None:
                # Thoughts that grow after the text started: kept in the item, no events after its done.
                state.thoughts += delta.reasoning_content
                self.output[state.reasoning[0]] = self.reasoning_item(state.thoughts, state.reasoning[1])
            elif delta.reasoning_content:
                if state.reasoning is None:
                    state.reasoning = (len(self.output), _item_id("rs"))
                    item = self.reasoning_item("", state.reasoning[1])
                    self.output.append(item)
                    yield self.event("response.output_item.added", output_index=state.reasoning[0], item=item)
                    part = {"type": "summary_text", "text": ""}
                    yield self.event(
                        "response.reasoning_summary_part.added",
                        item_id=state.reasoning[1],
                        output_index=state.reasoning[0],
                        summary_index=0,
                        part=part,
                    )
                state.thoughts += delta.reasoning_content
                yield self.event(
                    "response.reasoning_summary_text.delta",
                    item_id=state.reasoning[1],
                    output_index=state.reasoning[0],
                    summary_index=0,
                    delta=delta.reasoning_content,
                )
            if delta.content:
                for event in self._close_reasoning(state):
                    yield event
                if state.message is None:
                    state.message = (len(self.output), _item_id("msg"))
                    item = self.message_item("", "in_progress", state.message[1])
                    self.output.append(item)
                    yield self.event("response.output_item.added", output_index=state.message[0], item=item)
                    text_part: dict[str, Any] = {"type": "output_text", "text": "", "annotations": []}
                    yield self.event(
                        "response.content_part.added",
                        item_id=state.message[1],
                        output_index=state.message[0],
                        content_index=0,
                        part=text_part,
                    )
                state.text += delta.content
                yield self.event(
                    "response.output_text.delta",
                    item_id=state.message[1],
                    output_index=state.message[0],
                    content_index=0,
                    delta=delta.content,
                )
            for fragment in delta.tool_calls or ():
                for event in self._close_reasoning(state):
                    yield event
                for event in self._close_message(state):
                    yield event
                if fragment.id is not None:
                    for event in self._close_call(state):
                        yield event
                    index, item_id = len(self.output), _item_id("fc")
                    item = self.call_item(
                        fragment.id, fragment.function.name or "", "", "in_progress", item_id
                    )
                    self.output.append(item)
                    state.call = (index, item_id)
                    yield self.event("response.output_item.added", output_index=index, item=item)
                if state.call is not None and fragment.function.arguments:
                    self.output[state.call[0]]["arguments"] += fragment.function.arguments
                    yield self.event(
                        "response.function_call_arguments.delta",
                        item_id=state.call[1],
                        output_index=state.call[0],
                        delta=fragment.function.arguments,
                    )
            if choice.finish_reason is not None:
                state.finish_reason = choice.finish_reason

    def _close_open(self, state: _StreamState) -> list[dict[str, Any]]:
        return [*self._close_reasoning(state), *self._close_message(state), *self._close_call(state)]

    def _close_reasoning(self, state: _StreamState) -> list[dict[str, Any]]:
        if state.reasoning is None or state.reasoning_done:
            return []
        state.reasoning_done = True
        index, item_id = state.reasoning
        item = self.reasoning_item(state.thoughts, item_id)
        self.output[index] = item
        part = {"type": "summary_text", "text": state.thoughts}
        return [
            self.event(
                "response.reasoning_summary_text.done",
                item_id=item_id,
                output_index=index,
                summary_index=0,
                text=state.thoughts,
            ),
            self.event(
                "response.reasoning_summary_part.done",
                item_id=item_id,
                output_index=index,
                summary_index=0,
                part=part,
            ),
            self.event("response.output_item.done", output_index=index, item=item),
        ]

    def _close_message(self, state: _StreamState) -> list[dict[str, Any]]:
        if state.message is None or state.message_done:
            return []
        state.message_done = True
        index, item_id = state.message
        item = self.message_item(state.text, "completed", item_id)
        self.output[index] = item
        part = item["content"][0]
        return [
            self.event(
                "response.output_text.done",
                item_id=item_id,
                output_index=index,
                content_index=0,
                text=state.text,
            ),
            self.event(
                "response.content_part.done", item_id=item_id, output_index=index, content_index=0, part=part
            ),
            self.event("response.output_item.done", output_index=index, item=item),
        ]

    def _close_call(self, state: _StreamState) -> list[dict[str, Any]]:
        if state.call is None:
            return []
        index, item_id = state.call
        state.call = None
        item = self.output[index]
        item["status"] = "completed"
        return [
            self.event(
                "response.function_call_arguments.done",
                item_id=item_id,
                output_index=index,
                arguments=item["arguments"],
            ),
            self.event("response.output_item.done", output_index=index, item=item),
        ]


class _StreamState:
    def __init__(self) -> None:
        self.reasoning: tuple[int, str] | None = None
        self.reasoning_done = False
        self.thoughts = ""
        self.message: tuple[int, str] | None = None
        self.message_done = False
        self.text = ""
        self.call: tuple[int, str] | None = None
        self.finish_reason: str | None = None


def response_from_chat(shaper: Shaper, chat: ChatCompletionResponse) -> dict[str, Any]:
    """The Response object for a non-streamed chat answer."""
    choice = chat.choices[0]
    message = choice.message
    if message.reasoning_content:
        shaper.output.append(shaper.reasoning_item(message.reasoning_content))
    if message.content:
        shaper.output.append(shaper.message_item(message.content))
    for call in message.tool_calls or ():
        shaper.output.append(shaper.call_item(call.id, call.function.name, call.function.arguments))
    shaper.usage = _usage(chat.usage.prompt_tokens, chat.usage.completion_tokens)
    shaper.served_model = chat.served_model
    shaper.finish(choice.finish_reason)
    return shaper.body()


def history_after(
    chat: ChatCompletionRequest, output: list[dict[str, Any]], *, instructed: bool
) -> list[dict[str, Any]]:
    """The chat history a later ``previous_response_id`` continues: this request's messages
    (without the leading instructions, ``instructed``) and its output as the assistant message."""
    messages = list(chat.messages)[1:] if instructed else list(chat.messages)  # not carried over
    text = "".join(part["text"] for item in output if item["type"] == "message" for part in item["content"])
    calls = [
        {
            "id": item["call_id"],
            "type": "function",
            "function": {"name": item["name"], "arguments": item["arguments"]},
        }
        for item in output
        if item["type"] == "function_call"
    ]
    said: dict[str, Any] = {"role": "assistant", "content": text or (None if calls else "")}
    if calls:
        said["tool_calls"] = calls
    dumped = [m.model_dump(exclude_none=True, by_alias=True) for m in messages]
    return [*dumped, ChatMessage.model_validate(said).model_dump(exclude_none=True)]
