"""Wire models of ``POST /v1/chat/completions``: tolerant requests, exact responses and chunks.

Responses carry the requested model name in ``model`` and, as an extra field, ``served_model``: the
label of the model the page actually served (e.g. ``"3.5 Flash"``) when the page reported one, so a
silent downgrade is visible to clients. Thoughts go to ``reasoning_content``.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Literal

from pydantic import Field

from service.wire import RequestModel, ResponseModel

__all__ = [
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatMessage",
    "Choice",
    "ChunkChoice",
    "ContentPart",
    "Delta",
    "ImagePart",
    "ImageURL",
    "ResponseMessage",
    "StreamOptions",
    "TextPart",
    "Usage",
    "new_completion_id",
]

Role = Literal["system", "developer", "user", "assistant"]
FinishReason = Literal["stop", "length"]


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


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class ChatMessage(RequestModel):
    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = None

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


class ChatCompletionRequest(RequestModel):
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(1, ge=1, le=1)
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    user: str | None = None

    @property
    def include_usage(self) -> bool:
        return bool(self.stream and self.stream_options and self.stream_options.include_usage)


class Usage(ResponseModel):
    """Estimates: the page reports no token counts, so these count about four characters a token."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ResponseMessage(ResponseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    reasoning_content: str | None = None


class Choice(ResponseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: FinishReason = "stop"


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


class ChunkChoice(ResponseModel):
    keep_null = frozenset({"finish_reason"})

    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(ResponseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    served_model: str | None = None
    choices: list[ChunkChoice]
    usage: Usage | None = None
