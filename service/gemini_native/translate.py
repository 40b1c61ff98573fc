"""Gemini request -> ``ChatCompletionRequest`` and chat answers -> Gemini responses: the door
translates, the chat pipeline (``service.chat``) does the work. Fields this translation does not
understand are refused with a 400 naming them, never ignored."""

from __future__ import annotations

from typing import Any

from service.chat.compat_wire import JsonSchemaFormat, ResponseFormat
from service.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatMessage,
    ContentPart,
    ImagePart,
    ImageURL,
    StreamOptions,
    TextPart,
    Usage,
)
from service.chat.serving import estimate_tokens
from service.errors import InvalidRequest
from service.gemini_native.functions import History, call_parts, tool_fields
from service.gemini_native.think_tags import strip_think, think_block
from service.gemini_native.wire import (
    Candidate,
    Content,
    FinishReason,
    GenerateContentRequest,
    GenerateContentResponse,
    GenerationConfig,
    PartOut,
    ResponseContent,
    TextOut,
    UsageMetadata,
)
from service.wire import RequestModel

__all__ = [
    "chat_request",
    "from_chat",
    "from_chunk",
    "includes_thoughts",
    "json_schema",
    "reasoning_effort",
    "response_format",
    "usage_metadata",
]

_ROLES = {"user": "user", "model": "assistant"}
_FINISH: dict[str | None, FinishReason] = {"stop": "STOP", "length": "MAX_TOKENS"}


# Why the fields Google's clients send most often are refused (the rest: "not supported").
_WHY = {
    "safetySettings": "the web app applies its own safety filters, which cannot be set",
    "cachedContent": "there is no context caching here; send the whole contents",
}


def _refuse_unknown(model: RequestModel, where: str) -> None:
    unknown = model.ignored_fields()
    if unknown:
        why = _WHY.get(unknown[0])
        place = f" (at {where})" if where else ""
        reason = f": {why}" if why else ""
        raise InvalidRequest(
            f"Not supported by this gateway: {', '.join(unknown)}{place}{reason}.",
            param=f"{where}.{unknown[0]}" if where else unknown[0],
        )


def _file_image(uri: str, mime: str | None, at: str) -> ImagePart:
    """An image the gateway fetches, under the same fetch policy as the OpenAI route's image URLs;
    Google's Files API URIs name files this gateway never stored."""
    if not uri.startswith(("http://", "https://")) or "generativelanguage.googleapis.com" in uri:
        raise InvalidRequest(
            f"fileData.fileUri must be an http(s) URL of an image; there is no Files API here (at {at}).",
            param=f"{at}.fileData.fileUri",
        )
    if mime is not None and not mime.startswith("image/"):
        raise InvalidRequest(f"Only image fileData is supported (at {at}).", param=f"{at}.fileData.mimeType")
    return ImagePart(type="image_url", image_url=ImageURL(url=uri))


def _parts(content: Content, where: str) -> list[ContentPart]:
    _refuse_unknown(content, where)
    out: list[ContentPart] = []
    for index, part in enumerate(content.parts):
        at = f"{where}.parts[{index}]"
        _refuse_unknown(part, at)
        if part.thought:
            continue  # a model turn's thoughts, sent back: not read again, as Google does not
        if part.text is not None:
            out.append(TextPart(type="text", text=part.text))
        if part.inlineData is not None:
            blob = part.inlineData
            if not blob.mimeType.startswith("image/"):
                raise InvalidRequest(f"Only image inlineData is supported (at {at}).", param=at)
            url = f"data:{blob.mimeType};base64,{blob.data}"
            out.append(ImagePart(type="image_url", image_url=ImageURL(url=url)))
        if part.fileData is not None:
            out.append(_file_image(part.fileData.fileUri, part.fileData.mimeType, at))
        kinds = (part.text, part.inlineData, part.fileData, part.functionCall, part.functionResponse)
        if all(kind is None for kind in kinds):
            raise InvalidRequest(
                f"A part needs text, inlineData, fileData, functionCall or functionResponse (at {at}).",
                param=at,
            )
    return out


# thinkingBudget (tokens) to the effort whose page level is nearest; -1 is Google's "dynamic", the
# page's own choice (left as it is), and 0 asks for the least the page offers (it cannot turn thinking off).
_BUDGETS = ((0, "none"), (1024, "low"), (8192, "medium"))


def reasoning_effort(config: GenerationConfig | None) -> str | None:
    """The OpenAI ``reasoning_effort`` for Google's ``thinkingConfig``; the level wins over a budget."""
    thinking = config.thinkingConfig if config else None
    if thinking is None:
        return None
    _refuse_unknown(thinking, "generationConfig.thinkingConfig")
    if thinking.thinkingLevel is not None:
        return thinking.thinkingLevel.lower()
    budget = thinking.thinkingBudget
    if budget is None or budget == -1:
        return None
    return next((effort for limit, effort in _BUDGETS if budget <= limit), "high")


_JSON = "application/json"
_TEXT = ("text/plain", None)


def json_schema(schema: Any) -> Any:
    """Google's Schema (OpenAPI subset: upper-case types, ``nullable``, ``propertyOrdering``) as the
    JSON Schema ``service.chat.structured`` validates with."""
    if isinstance(schema, list):
        return [json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("propertyOrdering", "property_ordering", "nullable"):
            continue
        if key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: json_schema(node) for name, node in value.items()}
        elif key in ("items", "anyOf", "any_of"):
            out["anyOf" if key == "any_of" else key] = json_schema(value)
        else:
            out[key] = value
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def response_format(config: GenerationConfig | None) -> ResponseFormat | None:
    """The ``response_format`` for ``responseMimeType`` and a schema; a schema needs JSON (as Google)."""
    if config is None:
        return None
    mime, google, plain = config.responseMimeType, config.responseSchema, config.responseJsonSchema
    if google is not None and plain is not None:
        raise InvalidRequest(
            "Send responseSchema or responseJsonSchema, not both.", param="generationConfig.responseSchema"
        )
    schema = json_schema(google) if google is not None else plain
    if mime in _TEXT:
        if schema is not None:
            raise InvalidRequest(
                "A response schema needs responseMimeType application/json.",
                param="generationConfig.responseMimeType",
            )
        return None
    if mime != _JSON:
        raise InvalidRequest(
            f"responseMimeType {mime!r} is not supported: text/plain or application/json.",
            param="generationConfig.responseMimeType",
        )
    if schema is None:
        return ResponseFormat(type="json_object")
    return ResponseFormat(type="json_schema", json_schema=JsonSchemaFormat(name="response", schema=schema))


def includes_thoughts(body: GenerateContentRequest) -> bool:
    config = body.generationConfig
    return bool(config and config.thinkingConfig and config.thinkingConfig.includeThoughts)


def chat_request(model: str, body: GenerateContentRequest, *, stream: bool) -> ChatCompletionRequest:
    """The chat request that answers ``body`` on ``model``."""
    _refuse_unknown(body, "")
    messages: list[ChatMessage] = []
    if body.systemInstruction is not None:
        system = _parts(body.systemInstruction, "systemInstruction")
        text = "\n\n".join(part.text for part in system if isinstance(part, TextPart))
        if len(system) != sum(isinstance(part, TextPart) for part in system):
            raise InvalidRequest("systemInstruction takes text parts only.", param="systemInstruction")
        messages.append(ChatMessage(role="system", content=text))
    history = History()
    for index, content in enumerate(body.contents):
        where = f"contents[{index}]"
        messages.extend(
            history.messages(_ROLES[content.role or "user"], content, _parts(content, where), where)
        )
    tools, tool_choice = tool_fields(body, json_schema)
    config = body.generationConfig
    if config is not None:
        _refuse_unknown(config, "generationConfig")
        if config.candidateCount is not None and config.candidateCount > 1:
            raise InvalidRequest(
                "generationConfig.candidateCount must be 1: the web app gives one answer per turn.",
                param="generationConfig.candidateCount",
            )
    return ChatCompletionRequest(
        model=model,
        messages=messages,
        stream=stream,
        stream_options=StreamOptions(include_usage=True) if stream else None,
        n=1,
        max_tokens=config.maxOutputTokens if config else None,
        stop=config.stopSequences if config and config.stopSequences else None,
        temperature=config.temperature if config else None,
        top_p=config.topP if config else None,
        reasoning_effort=reasoning_effort(config),  # type: ignore[arg-type]
        response_format=response_format(config),
        tools=tools,
        tool_choice=tool_choice,  # type: ignore[arg-type]
    )


def usage_metadata(usage: Usage, thoughts: str = "") -> UsageMetadata:
    """Google's counts from the chat's estimates: the chat counts thoughts among the completion
    tokens, Google apart (``thoughtsTokenCount``, not in ``candidatesTokenCount``, in the total)."""
    thought_tokens = estimate_tokens(thoughts)
    return UsageMetadata(
        promptTokenCount=usage.prompt_tokens,
        candidatesTokenCount=max(0, usage.completion_tokens - thought_tokens),
        totalTokenCount=usage.total_tokens,
        thoughtsTokenCount=thought_tokens or None,
    )


def _model_version(model: str, served: str | None) -> str:
    return served or model


def _parts_out(thoughts: str | None, text: str, include_thoughts: bool) -> list[PartOut]:
    parts: list[PartOut] = []
    if include_thoughts and thoughts:
        parts.append(TextOut(text=thoughts, thought=True))
    if text or not parts:
        parts.append(TextOut(text=text))
    return parts


def from_chat(
    answer: ChatCompletionResponse, *, include_thoughts: bool = False, think_tags: bool = False
) -> GenerateContentResponse:
    """Thoughts become a ``thought`` part only when asked for, as Google does; ``think_tags``: the
    text starts with a think block (``reasoning_format: think_tags``), taken out."""
    choice = answer.choices[0]
    text = choice.message.content or ""
    thoughts = (think_block(text) if think_tags else "") or choice.message.reasoning_content or ""
    text = strip_think(text) if think_tags else text
    parts = _parts_out(choice.message.reasoning_content, text, include_thoughts)
    if choice.message.tool_calls:
        parts = [part for part in parts if not isinstance(part, TextOut) or part.text or part.thought]
        parts.extend(call_parts(choice.message.tool_calls))
    return GenerateContentResponse(
        candidates=[
            Candidate(
                content=ResponseContent(parts=parts),
                finishReason=_FINISH.get(choice.finish_reason, "STOP"),
            )
        ],
        usageMetadata=usage_metadata(answer.usage, thoughts),
        modelVersion=_model_version(answer.model, answer.served_model),
        responseId=answer.id,
    )


def from_chunk(
    chunk: ChatCompletionChunk, *, include_thoughts: bool = False, text: str | None = None
) -> GenerateContentResponse | None:
    """The Gemini chunk for a chat chunk; None for chunks that carry nothing Google sends (the
    role-only opening, empty deltas). The usage chunk is folded into the finish chunk by the router."""
    choice = chunk.choices[0] if chunk.choices else None
    if text is None:  # else the caller's version of the delta's text (``ThinkStripper``)
        text = (choice.delta.content or "") if choice else ""
    thoughts = (choice.delta.reasoning_content or "") if choice and include_thoughts else ""
    finish = choice.finish_reason if choice else None
    if not text and not thoughts and finish is None:
        return None
    return GenerateContentResponse(
        candidates=[
            Candidate(
                content=ResponseContent(parts=_parts_out(thoughts, text, include_thoughts)),
                finishReason=_FINISH.get(finish, "STOP") if finish is not None else None,
            )
        ],
        modelVersion=_model_version(chunk.model, chunk.served_model),
        responseId=chunk.id,
    )
