"""Wire models of Anthropic's Messages API: tolerant requests (``service.wire``), and the blocks this
gateway understands. A block of a kind it cannot serve yet is refused naming its place
(``service.anthropic.convert``), never dropped."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from service.wire import RequestModel, ToolName

__all__ = [
    "ImageBlock",
    "ImageSource",
    "InputMessage",
    "MessagesRequest",
    "TextBlock",
    "Thinking",
    "TokenCountRequest",
    "ToolChoice",
    "ToolDefinition",
]


class TextBlock(RequestModel):
    type: Literal["text"]
    text: str


class ImageSource(RequestModel):
    type: Literal["base64", "url"]
    media_type: str | None = None
    data: str | None = None
    url: str | None = None


class ImageBlock(RequestModel):
    type: Literal["image"]
    source: ImageSource


class InputMessage(RequestModel):
    role: Literal["user", "assistant"]
    # Blocks stay dicts here so that a kind not served yet is refused by name, not as a schema error.
    content: str | list[dict[str, Any]]


class Thinking(RequestModel):
    type: Literal["enabled", "disabled"]
    budget_tokens: int | None = Field(None, ge=1024)


class ToolDefinition(RequestModel):
    name: ToolName
    description: str | None = None
    input_schema: dict[str, Any]


class ToolChoice(RequestModel):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class TokenCountRequest(RequestModel):
    model: str = Field(min_length=1)
    messages: list[InputMessage] = Field(min_length=1)
    system: str | list[TextBlock] | None = None
    thinking: Thinking | None = None
    # Emulated through the prompt by the chat slice's tools emulation (service.chat.tools).
    tools: list[ToolDefinition] | None = None
    tool_choice: ToolChoice | None = None


class MessagesRequest(TokenCountRequest):
    # Required by Anthropic; honoured as the OpenAI route's max_tokens is: the answer is cut at this
    # many estimated tokens (``service.chat.limits``) and stop_reason says "max_tokens".
    max_tokens: int = Field(ge=1)
    stop_sequences: list[str] | None = None
    stream: bool = False
    # Anthropic's ranges, checked and then ignored as the OpenAI route does: the page has no knobs.
    temperature: Annotated[float | None, Field(ge=0, le=1)] = None
    top_p: Annotated[float | None, Field(ge=0, le=1)] = None
    top_k: Annotated[int | None, Field(ge=0)] = None
    metadata: dict[str, Any] | None = None
