"""Wire models of ``POST /v1/chat/completions``: tolerant requests, exact responses and chunks.

Responses carry the requested model name in ``model`` and, as an extra field, ``served_model``: the
label of the model the page actually served (e.g. ``"3.5 Flash"``) when the page reported one, so a
silent downgrade is visible to clients. Thoughts go to ``reasoning_content``.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictStr, field_validator

from service.chat.compat_wire import (
    FunctionCall,
    FunctionCallDelta,
    FunctionSpec,
    NamedFunction,
    NamedToolChoice,
    ResponseFormat,
    ToolCall,
    ToolCallDelta,
    ToolSpec,
)
from service.chat.sampling import SamplingFields, TopLogprobs
from service.wire import RequestModel, ResponseModel

__all__ = [
    "AudioDelta",
    "AudioOutput",
    "AudioPart",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatMessage",
    "Choice",
    "ChunkChoice",
    "ContentPart",
    "Delta",
    "FilePart",
    "ImagePart",
    "ImageURL",
    "ResponseMessage",
    "StreamOptions",
    "TextPart",
    "Usage",
    "new_completion_id",
]

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
FinishReason = Literal["stop", "length", "tool_calls", "function_call"]


def new_completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def _now() -> int:
    return int(time.time())


class TextPart(RequestModel):
    type: Literal["text"]
    text: str


class ImageURL(RequestModel):
    url: str = Field(min_length=1)
    detail: str | None = None


class ImagePart(RequestModel):
    type: Literal["image_url"]
    image_url: ImageURL

    @field_validator("image_url", mode="before")
    @classmethod
    def _bare_url(cls, value: Any) -> Any:
        return {"url": value} if isinstance(value, str) else value  # some clients send the URL bare


class FileData(RequestModel):
    file_data: str | None = None  # a data URL, or bare base64
    filename: str | None = None
    file_id: str | None = None


class FilePart(RequestModel):
    """A document, audio or video file (service.chat.files)."""

    type: Literal["file"]
    file: FileData


class InputAudio(RequestModel):
    data: str  # base64
    format: str


class AudioPart(RequestModel):
    type: Literal["input_audio"]
    input_audio: InputAudio


ContentPart = Annotated[TextPart | ImagePart | FilePart | AudioPart, Field(discriminator="type")]


class ChatMessage(RequestModel):
    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None  # assistant turns that called tools
    tool_call_id: str | None = None  # a ``tool`` message answers this call
    function_call: FunctionCall | None = None  # legacy assistant call

    def text(self) -> str:
        """The message's text: the string, or its text parts joined by blank lines."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n\n".join(part.text for part in self.content if isinstance(part, TextPart))

    def image_urls(self) -> list[str]:
        if not isinstance(self.content, list):
            return []
        return [part.image_url.url for part in self.content if isinstance(part, ImagePart)]


class StreamOptions(RequestModel):
    include_usage: bool = False


class ChatCompletionRequest(SamplingFields):
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(1, ge=1, le=1)
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    logprobs: bool | None = None  # refused when true (service.chat.checks)
    top_logprobs: TopLogprobs = None
    # Emulated through the prompt (service.chat.tools, .structured) and cut here (.limits).
    tools: list[ToolSpec] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    functions: list[FunctionSpec] | None = None
    function_call: Literal["none", "auto"] | NamedFunction | None = None
    response_format: ResponseFormat | None = None
    stop: str | list[str] | None = None
    # Set as the page's thinking level on the chosen model (service.reasoning.EFFORTS).
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    # Gemini's temporary chat (service.temporary): the router reads it with ``metadata.temporary``
    # and the header into a bool; None leaves the setting's default.
    temporary: StrictBool | StrictStr | None = None
    # OpenAI's request tags: ``temporary`` is read; chat completions are not stored, so the others
    # are kept nowhere (docs/guides/temporary-chats.md).
    metadata: dict[str, Any] | None = None

    @property
    def include_usage(self) -> bool:
        return bool(self.stream and self.stream_options and self.stream_options.include_usage)


class Usage(ResponseModel):
    """Estimates: the page reports no token counts, so these count about four characters a token."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AudioOutput(ResponseModel):
    """``message.audio`` of an audio answer (the music model, service.chat.music): base64 ``data``
    in the requested format, ``expires_at`` when the track's delivered link stops working."""

    id: str
    data: str
    expires_at: int
    transcript: str


class AudioDelta(ResponseModel):
    """``delta.audio`` pieces of a streamed audio answer: id and transcript, data, expires_at."""

    id: str | None = None
    data: str | None = None
    expires_at: int | None = None
    transcript: str | None = None


class ResponseMessage(ResponseModel):
    keep_null = frozenset({"content"})

    role: Literal["assistant"] = "assistant"
    content: str | None
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] | None = None
    function_call: FunctionCall | None = None
    audio: AudioOutput | None = None


class Choice(ResponseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: FinishReason = "stop"
    # Which ``stop`` sequence cut the answer: not in OpenAI's JSON (excluded), read by the doors
    # whose wire names it (Anthropic's ``stop_sequence``).
    stop_sequence: str | None = Field(default=None, exclude=True)


class ChatCompletionResponse(ResponseModel):
    id: str = Field(default_factory=new_completion_id)
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=_now)
    model: str
    served_model: str | None = None
    system_fingerprint: str | None = None
    choices: list[Choice]
    usage: Usage


class Delta(ResponseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    function_call: FunctionCallDelta | None = None
    audio: AudioDelta | None = None


class ChunkChoice(ResponseModel):
    keep_null = frozenset({"finish_reason"})

    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None
    stop_sequence: str | None = Field(default=None, exclude=True)  # as ``Choice.stop_sequence``


class ChatCompletionChunk(ResponseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    served_model: str | None = None
    choices: list[ChunkChoice]
    usage: Usage | None = None
