"""Anthropic's Messages request as the chat pipeline's request, and the chat answer as Anthropic's
message: this door translates, the chat slice (``service.chat``) serves.

- ``system`` becomes the leading system message; text blocks are joined like OpenAI text parts.
- ``max_tokens`` and ``stop_sequences`` are the chat request's ``max_tokens`` and ``stop`` (cut by
  ``service.chat.limits``); ``temperature``/``top_p``/``top_k`` are range-checked and ignored as on
  the OpenAI route; ``metadata.user_id`` is the chat request's ``user``.
- ``thinking`` with a ``budget_tokens`` picks the page's thinking level like ``reasoning_effort``.
- Token counts are estimates (about four characters a token, ``service.chat.serving``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, Literal

from pydantic import ValidationError

from service.anthropic.protocol import (
    ImageBlock,
    InputMessage,
    MessagesRequest,
    TextBlock,
    TokenCountRequest,
    ToolChoice,
)
from service.chat.compat_wire import (
    FunctionCall,
    FunctionSpec,
    NamedFunction,
    NamedToolChoice,
    ToolCall,
    ToolSpec,
)
from service.chat.emulation import emulation_for
from service.chat.inputs import fold_messages
from service.chat.protocol import (
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatMessage,
    ContentPart,
    ImagePart,
    ImageURL,
    StreamOptions,
    TextPart,
)
from service.chat.serving import estimate_tokens
from service.errors import InvalidRequest

__all__ = [
    "STOP_REASONS",
    "Effort",
    "chat_request",
    "effort_for",
    "estimate_input_tokens",
    "message_from_chat",
    "new_message_id",
    "signature_for",
    "stop_reason_for",
    "thinking_enabled",
    "tool_use_block",
]

Effort = Literal["low", "medium", "high"]

# The chat finish reasons as Anthropic's stop reasons; a "stop" the chat says a stop sequence made
# (``Choice.stop_sequence``, from ``service.chat.limits``) is "stop_sequence" (``stop_reason_for``).
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
}

# Thinking budgets (tokens) to the page's three levels: Anthropic's minimum is 1024, and its docs
# call a few thousand "simple" and 16k+ "complex" tasks.
_LOW_BELOW = 4096
_MEDIUM_BELOW = 16384


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def effort_for(request: TokenCountRequest) -> Effort | None:
    """The OpenAI ``reasoning_effort`` a thinking budget stands for; None leaves the page's level."""
    thinking = request.thinking
    if thinking is None or thinking.type == "disabled":
        return None
    if thinking.budget_tokens is None:
        raise InvalidRequest("thinking.budget_tokens is required when thinking is enabled.", param="thinking")
    if thinking.budget_tokens < _LOW_BELOW:
        return "low"
    return "medium" if thinking.budget_tokens < _MEDIUM_BELOW else "high"


def thinking_enabled(request: TokenCountRequest) -> bool:
    return request.thinking is not None and request.thinking.type == "enabled"


def chat_request(request: TokenCountRequest, *, stream: bool = False) -> ChatCompletionRequest:
    """The chat pipeline's request for an Anthropic Messages (or count_tokens) request."""
    messages: list[ChatMessage] = []
    if request.system:
        system = request.system if isinstance(request.system, str) else _joined(request.system)
        messages.append(ChatMessage(role="system", content=system))
    for index, message in enumerate(request.messages):
        messages.extend(_messages(message, index))
    fields: dict[str, Any] = {"model": request.model, "messages": messages, "stream": stream}
    if request.tools:
        fields["tools"] = [
            ToolSpec(
                type="function",
                function=FunctionSpec(
                    name=tool.name, description=tool.description, parameters=tool.input_schema
                ),
            )
            for tool in request.tools
        ]
    if request.tool_choice is not None:
        fields.update(_tool_choice(request.tool_choice))
    effort = effort_for(request)
    if effort is not None:
        fields["reasoning_effort"] = effort
    if isinstance(request, MessagesRequest):
        fields.update(
            max_tokens=request.max_tokens,
            stop=request.stop_sequences or None,
            temperature=request.temperature,
            top_p=request.top_p,
        )
        if "temporary" in (request.metadata or {}):
            raise InvalidRequest(
                "Anthropic's metadata takes user_id only: ask for a temporary chat with the "
                "X-Gateway-Temporary header.",
                param="metadata.temporary",
            )
        user = (request.metadata or {}).get("user_id")
        if isinstance(user, str):
            fields["user"] = user
        if stream:
            fields["stream_options"] = StreamOptions(include_usage=True)
    try:
        return ChatCompletionRequest(**fields)
    except ValidationError as exc:
        # What Anthropic's shape let through but a chat cannot be (e.g. only empty messages): the
        # chat's own rule, named by its field, never the value.
        error = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in error["loc"]) or "messages"
        raise InvalidRequest(f"{where}: {error['msg']}", param="messages") from None


def _joined(blocks: list[TextBlock]) -> str:
    return "\n\n".join(block.text for block in blocks)


def _tool_choice(choice: ToolChoice) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if choice.type == "tool":
        if not choice.name:
            raise InvalidRequest("tool_choice of type 'tool' needs a name.", param="tool_choice.name")
        fields["tool_choice"] = NamedToolChoice(function=NamedFunction(name=choice.name))
    else:
        fields["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[choice.type]
    if choice.disable_parallel_tool_use is not None:
        fields["parallel_tool_calls"] = not choice.disable_parallel_tool_use
    return fields


def _messages(message: InputMessage, index: int) -> list[ChatMessage]:
    """One Anthropic message as chat messages: ``tool_result`` blocks become ``tool`` messages (before
    the rest of the user's turn), ``tool_use`` blocks the assistant's ``tool_calls``."""
    if isinstance(message.content, str):
        return [ChatMessage(role=message.role, content=message.content)]
    parts: list[ContentPart] = []
    results: list[ChatMessage] = []
    calls: list[ToolCall] = []
    for position, block in enumerate(message.content):
        where = f"messages[{index}].content[{position}]"
        kind = block.get("type")
        if kind == "text":
            parts.append(TextPart(type="text", text=TextBlock.model_validate(block).text))
        elif kind == "image":
            parts.append(_image(ImageBlock.model_validate(block), where))
        elif kind == "tool_use" and message.role == "assistant":
            call = FunctionCall(name=str(block.get("name", "")), arguments=json.dumps(block.get("input", {})))
            calls.append(ToolCall(id=str(block.get("id", "")), function=call))
        elif kind == "tool_result" and message.role == "user":
            results.append(_tool_result(block, where))
        else:
            raise InvalidRequest(
                f"{where} is a {kind!r} block in a {message.role} message, which this gateway does not "
                "serve on /v1/messages (text, image, tool_use and tool_result blocks are served).",
                param=where,
            )
    said: list[ChatMessage] = []
    if parts or calls:
        said.append(ChatMessage(role=message.role, content=parts or None, tool_calls=calls or None))
    return results + said


def _tool_result(block: dict[str, Any], where: str) -> ChatMessage:
    content = block.get("content", "")
    if isinstance(content, list):
        texts = [
            item.get("text", "") for item in content if isinstance(item, dict) and item.get("type") == "text"
        ]
        if len(texts) != len(content):
            raise InvalidRequest(
                "A tool_result's content may hold text blocks only.", param=f"{where}.content"
            )
        content = "\n\n".join(texts)
    if block.get("is_error"):
        content = f"Error: {content}"
    tool_use_id = block.get("tool_use_id")
    if not isinstance(tool_use_id, str) or not tool_use_id:
        raise InvalidRequest("A tool_result needs the tool_use_id it answers.", param=f"{where}.tool_use_id")
    return ChatMessage(role="tool", tool_call_id=tool_use_id, content=str(content))


def _image(block: ImageBlock, where: str) -> ImagePart:
    source = block.source
    if source.type == "base64":
        if not source.data or not source.media_type:
            raise InvalidRequest("A base64 image needs media_type and data.", param=f"{where}.source")
        url = f"data:{source.media_type};base64,{source.data}"
    else:
        if not source.url:
            raise InvalidRequest("A url image needs url.", param=f"{where}.source")
        url = source.url
    return ImagePart(type="image_url", image_url=ImageURL(url=url))


def estimate_input_tokens(request: TokenCountRequest) -> int:
    """The estimate chat usage reports as prompt tokens, for the prompt this request would send."""
    chat = chat_request(request)
    return estimate_tokens(fold_messages(emulation_for(chat).prompt_messages(chat.messages)))


def tool_use_block(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": json.loads(arguments or "{}")}


def signature_for(thinking: str) -> str:
    """An opaque signature for a thinking block (the gateway does not check it when sent back)."""
    return hashlib.sha256(thinking.encode()).hexdigest()


def stop_reason_for(finish_reason: str | None, stop_sequence: str | None = None) -> str:
    if stop_sequence is not None and finish_reason == "stop":
        return "stop_sequence"
    return STOP_REASONS.get(finish_reason or "stop", "end_turn")


def message_from_chat(answer: ChatCompletionResponse, request: MessagesRequest) -> dict[str, Any]:
    """Anthropic's message for a chat answer (thinking first when asked for, then the text)."""
    choice = answer.choices[0]
    content: list[dict[str, Any]] = []
    thoughts = choice.message.reasoning_content
    if thinking_enabled(request) and thoughts:
        content.append({"type": "thinking", "thinking": thoughts, "signature": signature_for(thoughts)})
    calls = choice.message.tool_calls or []
    if choice.message.content or not calls:
        content.append({"type": "text", "text": choice.message.content or ""})
    content.extend(tool_use_block(call.id, call.function.name, call.function.arguments) for call in calls)
    return {
        "id": new_message_id(),
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": content,
        "stop_reason": stop_reason_for(choice.finish_reason, choice.stop_sequence),
        "stop_sequence": choice.stop_sequence,
        "usage": {
            "input_tokens": answer.usage.prompt_tokens,
            "output_tokens": answer.usage.completion_tokens,
        },
    }
