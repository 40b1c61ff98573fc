"""Function calling on the Gemini-native door, emulated as the OpenAI tools are (``service.chat.tools``):
``functionDeclarations`` become tools, ``toolConfig`` the tool choice, ``functionCall`` parts in the
history assistant tool calls, ``functionResponse`` parts tool messages, and the answer's tool calls
``functionCall`` parts again."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from service.chat import compat_wire as oa
from service.chat.protocol import ChatMessage, ContentPart, TextPart
from service.errors import InvalidRequest
from service.gemini_native.wire import CallOut, Content, FunctionCallOut, GenerateContentRequest

__all__ = ["History", "call_parts", "tool_fields"]

ToolChoice = str | oa.NamedToolChoice | None


def tool_fields(
    body: GenerateContentRequest, schema: Callable[[Any], Any]
) -> tuple[list[oa.ToolSpec] | None, ToolChoice]:
    """The OpenAI ``tools`` and ``tool_choice`` for ``tools``/``toolConfig``; ``schema`` turns Google's
    Schema into JSON Schema."""
    declared = [declaration for tool in body.tools or [] for declaration in (tool.functionDeclarations or [])]
    for index, tool in enumerate(body.tools or []):
        others = tool.ignored_fields()
        if others:
            # googleSearch, codeExecution, urlContext...: the page decides for itself when to search or
            # run code, and cannot be told to; only declared functions are emulated.
            raise InvalidRequest(
                f"tools[{index}].{others[0]} is not supported by this gateway: only functionDeclarations "
                "are served in tools.",
                param=f"tools[{index}].{others[0]}",
            )
    config = body.toolConfig.functionCallingConfig if body.toolConfig else None
    mode = config.mode if config else None
    allowed = config.allowedFunctionNames if config else None
    if allowed:
        unknown = sorted(set(allowed) - {declaration.name for declaration in declared})
        if unknown:
            raise InvalidRequest(
                f"allowedFunctionNames names undeclared functions: {', '.join(unknown)}.",
                param="toolConfig.functionCallingConfig.allowedFunctionNames",
            )
        if mode != "ANY":
            raise InvalidRequest(
                "allowedFunctionNames needs mode ANY.", param="toolConfig.functionCallingConfig.mode"
            )
        declared = [declaration for declaration in declared if declaration.name in allowed]
    if not declared:
        if config is not None:
            raise InvalidRequest("toolConfig needs functionDeclarations in tools.", param="toolConfig")
        return None, None
    tools = [
        oa.ToolSpec(
            type="function",
            function=oa.FunctionSpec(
                name=declaration.name,
                description=declaration.description,
                parameters=declaration.parametersJsonSchema
                if declaration.parametersJsonSchema is not None
                else (schema(declaration.parameters) if declaration.parameters is not None else None),
            ),
        )
        for declaration in declared
    ]
    if mode == "NONE":
        return tools, "none"
    if mode == "ANY":
        if len(tools) == 1:
            return tools, oa.NamedToolChoice(function=oa.NamedFunction(name=tools[0].function.name))
        return tools, "required"
    return tools, None


class History:
    """Turns contents into chat messages, pairing each functionResponse with its call's id."""

    def __init__(self) -> None:
        self._open: dict[str, list[str]] = {}  # function name -> ids of calls not yet answered

    def messages(
        self, role: str, content: Content, regular: Sequence[ContentPart], where: str
    ) -> list[ChatMessage]:
        calls = [part.functionCall for part in content.parts if part.functionCall is not None]
        answers = [part.functionResponse for part in content.parts if part.functionResponse is not None]
        if role == "assistant":
            if answers:
                raise InvalidRequest(f"functionResponse belongs to a user turn (at {where}).", param=where)
            tool_calls = []
            for call in calls:
                ids = self._open.setdefault(call.name, [])
                made = oa.ToolCall(
                    id=call.id or oa.new_call_id(),
                    function=oa.FunctionCall(name=call.name, arguments=json.dumps(call.args or {})),
                )
                ids.append(made.id)
                tool_calls.append(made)
            text = "\n\n".join(part.text for part in regular if isinstance(part, TextPart))
            if not tool_calls:
                # A turn of thoughts only (skipped, ``translate._parts``) said nothing to fold.
                return [ChatMessage(role="assistant", content=list(regular))] if regular else []
            return [ChatMessage(role="assistant", content=text or None, tool_calls=tool_calls)]
        if calls:
            raise InvalidRequest(f"functionCall belongs to a model turn (at {where}).", param=where)
        out = []
        for answer in answers:
            ids = self._open.get(answer.name) or []
            call_id = answer.id or (ids.pop(0) if ids else None)
            if call_id is None:
                raise InvalidRequest(
                    f"functionResponse for {answer.name!r} answers no earlier functionCall (at {where}).",
                    param=where,
                )
            if call_id in ids:
                ids.remove(call_id)
            out.append(
                ChatMessage(
                    role="tool", tool_call_id=call_id, name=answer.name, content=json.dumps(answer.response)
                )
            )
        if regular or not answers:
            out.append(ChatMessage(role="user", content=list(regular)))
        return out


def call_parts(calls: Sequence[oa.ToolCall]) -> list[FunctionCallOut]:
    """The answer's tool calls as ``functionCall`` parts (arguments parsed back into ``args``)."""
    parts = []
    for call in calls:
        try:
            args = json.loads(call.function.arguments or "{}")
        except json.JSONDecodeError:
            args = {}
        parts.append(FunctionCallOut(functionCall=CallOut(name=call.function.name, args=args, id=call.id)))
    return parts
