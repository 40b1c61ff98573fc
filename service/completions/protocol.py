"""Wire models of the legacy ``POST /v1/completions``, in OpenAI's shapes (openai-python
``types/completion.py``, ``completion_choice.py``): one object, ``text_completion``, for the whole
answer and for each streamed chunk; ``logprobs`` is always ``null`` (requests asking for it are
refused) and a chunk's ``finish_reason`` is ``null`` until its prompt's answer ends."""

from __future__ import annotations

import time
import uuid
from typing import Literal

from pydantic import Field

from service.chat.protocol import StreamOptions, Usage
from service.chat.sampling import SamplingFields
from service.wire import ResponseModel

__all__ = ["CompletionChoice", "CompletionRequest", "CompletionResponse", "new_completion_id"]

FinishReason = Literal["stop", "length"]


def new_completion_id() -> str:
    return f"cmpl-{uuid.uuid4().hex}"


class CompletionRequest(SamplingFields):
    model: str = Field(min_length=1)
    # Text, or several texts (one choice each); token-id arrays are refused (service.completions.serving).
    prompt: str | list[str] | list[int] | list[list[int]] | None
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    stop: str | list[str] | None = None
    echo: bool = False
    n: int = Field(1, ge=1, le=1)
    # Refused unless neutral (service.completions.serving): the page gives one answer, without
    # token probabilities, and writes no text after a suffix.
    best_of: int | None = Field(None, ge=1)
    logprobs: int | None = Field(None, ge=0, le=5)
    suffix: str | None = None

    @property
    def include_usage(self) -> bool:
        return bool(self.stream and self.stream_options and self.stream_options.include_usage)


class CompletionChoice(ResponseModel):
    keep_null = frozenset({"logprobs", "finish_reason"})

    text: str
    index: int
    logprobs: None = None
    finish_reason: FinishReason | None = None


class CompletionResponse(ResponseModel):
    """The whole answer, and (``choices`` of one, or none with ``usage``) each streamed chunk."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    served_model: str | None = None
    system_fingerprint: str | None = None
    choices: list[CompletionChoice]
    usage: Usage | None = None
