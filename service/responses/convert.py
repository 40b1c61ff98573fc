"""``POST /v1/responses`` requests, and their conversion to a chat completion request.

Input items become chat messages: ``message`` items (``input_text``, ``output_text``,
``input_image``, ``input_file`` parts), ``function_call`` items (an assistant turn's calls) and
``function_call_output`` items (``tool`` messages); ``reasoning`` items are dropped (Gemini keeps
its own). ``instructions`` lead as a system message and are not carried over by
``previous_response_id`` (as OpenAI does). Flat function tools, ``tool_choice``, ``text.format``
and ``max_output_tokens`` map to their chat counterparts.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import Field, StrictBool, StrictStr, ValidationError

from service.chat.checks import is_blank
from service.chat.compat_wire import ToolCall
from service.chat.protocol import ChatCompletionRequest, ChatMessage
from service.chat.sampling import Temperature, TopLogprobs, TopP, refuse_logprobs
from service.errors import InvalidRequest
from service.wire import RequestModel

__all__ = ["ResponsesRequest", "chat_request", "input_messages", "new_response_id"]


def new_response_id() -> str:
    return f"resp_{uuid.uuid4().hex}"


class FlatTool(RequestModel):
    type: str
    name: str | None = None
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class TextFormat(RequestModel):
    type: str = "text"
    name: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    description: str | None = None
    strict: bool | None = None


class TextConfig(RequestModel):
    format: TextFormat | None = None


class ConversationRef(RequestModel):
    id: str = Field(min_length=1)


class ResponsesRequest(RequestModel):
    model: str = Field(min_length=1)
    input: str | list[dict[str, Any]]
    instructions: str | None = None
    previous_response_id: str | None = None
    tools: list[FlatTool] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    max_output_tokens: int | None = None
    stream: bool = False
    store: bool = True
    background: bool = False  # run by service.responses.background, polled with GET
    conversation: str | ConversationRef | None = None  # service.conversations_api
    # Accepted within OpenAI's ranges and ignored like on chat: Gemini's web app has no such knobs.
    temperature: Temperature = None
    top_p: TopP = None
    top_logprobs: TopLogprobs = None  # refused above 0 (service.chat.sampling)
    include: list[str] | None = None
    # ``effort`` becomes the page's thinking level, as chat's ``reasoning_effort``.
    reasoning: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    user: str | None = None
    # Gemini's temporary chat (service.temporary), with ``metadata.temporary`` and the header.
    temporary: StrictBool | StrictStr | None = None

    @property
    def conversation_id(self) -> str | None:
        if isinstance(self.conversation, ConversationRef):
            return self.conversation.id
        return self.conversation or None


def input_messages(items: str | list[dict[str, Any]], *, field: str = "input") -> list[ChatMessage]:
    """The request's ``input`` (or another list of input items, named ``field`` in errors) as chat
    messages; a user message without content is a 400 naming it (the page cannot send nothing)."""
    if isinstance(items, str):
        if not items.strip():
            raise InvalidRequest(f"{field} is empty (or only whitespace).", param=field)
        return [ChatMessage(role="user", content=items)]
    messages: list[ChatMessage] = []
    for index, item in enumerate(items):
        kind = item.get("type") or ("message" if "role" in item else None)
        if kind == "message":
            message = _message(item, index, field)
            if message.role == "user" and is_blank(message):
                raise InvalidRequest(
                    f"{field}[{index}] is a user message without content (empty or only whitespace).",
                    param=f"{field}[{index}].content",
                )
            messages.append(message)
        elif kind == "function_call":
            call = ToolCall.model_validate(
                {
                    "id": item.get("call_id") or item.get("id"),
                    "type": "function",
                    "function": {"name": item.get("name"), "arguments": item.get("arguments") or ""},
                }
            )
            last = messages[-1] if messages else None
            if last is not None and last.role == "assistant":
                last.tool_calls = [*(last.tool_calls or []), call]  # one assistant turn, several calls
            else:
                messages.append(ChatMessage(role="assistant", content=None, tool_calls=[call]))
        elif kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else _parts_text(output)
            messages.append(ChatMessage(role="tool", tool_call_id=item.get("call_id"), content=text))
        elif kind == "reasoning":
            continue
        else:
            raise InvalidRequest(
                f"Input items of type {kind!r} are not supported.", param=f"{field}[{index}]"
            )
    return messages


def _message(item: dict[str, Any], index: int, field: str) -> ChatMessage:
    role = item.get("role")
    if role not in ("user", "assistant", "system", "developer"):
        raise InvalidRequest(f"Unknown role {role!r}.", param=f"{field}[{index}].role")
    content = item.get("content")
    if isinstance(content, str) or content is None:
        return ChatMessage.model_validate({"role": role, "content": content})
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text"):
            parts.append({"type": "text", "text": part.get("text") or ""})
        elif kind == "input_image":
            if not part.get("image_url"):
                raise InvalidRequest(
                    "input_image needs image_url (file_id is not supported).", param=f"{field}[{index}]"
                )
            parts.append({"type": "image_url", "image_url": {"url": part["image_url"]}})
        elif kind == "input_file":
            file = {
                key: part.get(key)
                for key in ("file_data", "filename", "file_id")
                if part.get(key) is not None
            }
            parts.append({"type": "file", "file": file})
        elif kind == "refusal":
            parts.append({"type": "text", "text": part.get("refusal") or ""})
        else:
            raise InvalidRequest(
                f"Content parts of type {kind!r} are not supported.", param=f"{field}[{index}]"
            )
    return ChatMessage.model_validate({"role": role, "content": parts})


def _parts_text(output: Any) -> str:
    if isinstance(output, list):
        return "\n\n".join(str(part.get("text", "")) for part in output if isinstance(part, dict))
    return "" if output is None else str(output)


# The ``include`` value asking for token probabilities (the page has none).
LOGPROBS_INCLUDE = "message.output_text.logprobs"
# Chat fields built from Responses fields of another name.
_RESPONSES_FIELD = {
    "max_tokens": "max_output_tokens",
    "messages": "input",
    "response_format": "text.format",
    "reasoning_effort": "reasoning.effort",
}


def chat_request(
    request: ResponsesRequest,
    history: list[ChatMessage],
    items: list[dict[str, Any]] | None = None,
    *,
    stream: bool | None = None,
) -> ChatCompletionRequest:
    """The chat completion that answers ``request`` after ``history`` (a previous response's, or
    its conversation's): its ``input``, or ``items`` (the input with its references resolved);
    ``stream`` overrides the request's (a background response is read as a stream)."""
    refuse_logprobs(bool(request.top_logprobs), param="top_logprobs")
    refuse_logprobs(LOGPROBS_INCLUDE in (request.include or ()), param="include")
    messages: list[ChatMessage] = []
    if request.instructions:
        messages.append(ChatMessage(role="system", content=request.instructions))
    given = request.input if items is None or isinstance(request.input, str) else items
    messages += history + input_messages(given)
    streamed = request.stream if stream is None else stream
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [m.model_dump(exclude_none=True) for m in messages],
        "stream": streamed,
        "max_tokens": request.max_output_tokens,
        "parallel_tool_calls": request.parallel_tool_calls,
    }
    effort = (request.reasoning or {}).get("effort")
    if effort is not None:
        body["reasoning_effort"] = effort
    if streamed:
        body["stream_options"] = {"include_usage": True}
    tools = []
    for index, tool in enumerate(request.tools or ()):
        if tool.type != "function" or not tool.name:
            raise InvalidRequest(
                f"Only function tools are supported here, not {tool.type!r}.", param=f"tools[{index}]"
            )
        function = {"name": tool.name, "description": tool.description, "parameters": tool.parameters}
        tools.append({"type": "function", "function": {k: v for k, v in function.items() if v is not None}})
    if tools:
        body["tools"] = tools
    choice = request.tool_choice
    if isinstance(choice, dict):
        if choice.get("type") != "function" or not choice.get("name"):
            raise InvalidRequest("tool_choice must name a function tool.", param="tool_choice")
        body["tool_choice"] = {"type": "function", "function": {"name": choice["name"]}}
    elif choice is not None:
        body["tool_choice"] = choice
    fmt = request.text.format if request.text is not None else None
    if fmt is not None and fmt.type == "json_schema":
        schema = {"name": fmt.name or "response", "schema": fmt.schema_, "strict": fmt.strict}
        body["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif fmt is not None and fmt.type in ("json_object", "text"):
        body["response_format"] = {"type": fmt.type}
    elif fmt is not None:
        raise InvalidRequest(f"Unknown text.format type {fmt.type!r}.", param="text.format")
    try:
        return ChatCompletionRequest.model_validate({k: v for k, v in body.items() if v is not None})
    except ValidationError as exc:
        # A value the Responses shape lets through but chat refuses (e.g. tool_choice ""): the
        # client's mistake, named by the Responses field it came from.
        first = exc.errors(include_input=False, include_url=False)[0]
        param = _RESPONSES_FIELD.get(str(first["loc"][0]), str(first["loc"][0])) if first["loc"] else None
        raise InvalidRequest(f"{first['msg']} (at {param})", param=param) from None
