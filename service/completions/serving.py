"""The legacy completions served over chat serving: each prompt is one chat completion of a lone
user message (a new Gemini chat: a prompt has no history to continue), its answer the choice's
text. Several prompts are answered one after the other, one choice each (``index`` = the prompt's
position), as OpenAI answers a prompt list. ``echo`` puts the prompt before its answer; ``stop``
and ``max_tokens`` are chat's limits (``service.chat.limits``). What the page cannot do is refused
before any turn: token-id prompts, ``suffix``, ``best_of`` above 1, ``logprobs``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from service.catalog import Catalog, OutputKind
from service.chat.limits import limits_of
from service.chat.protocol import ChatCompletionRequest, Usage
from service.chat.sampling import refuse_logprobs
from service.chat.serving import ChatService
from service.completions.protocol import (
    CompletionChoice,
    CompletionRequest,
    CompletionResponse,
    FinishReason,
    new_completion_id,
)
from service.errors import InvalidRequest, ModelNotFound

__all__ = ["MAX_PROMPTS", "CompletionService", "prompts_of"]

# Each prompt is a whole turn on a page, one after the other: a bound on what one request holds.
MAX_PROMPTS = 16


def prompts_of(request: CompletionRequest) -> list[str]:
    """The request's prompts as texts; a 400 naming the field for anything the page cannot take."""
    prompt = request.prompt
    texts = [prompt] if isinstance(prompt, str) else list(prompt or [])
    if prompt is None or not texts:
        raise InvalidRequest("prompt is required: a text or a list of texts.", param="prompt")
    if not all(isinstance(text, str) for text in texts):
        raise InvalidRequest(
            "Token-id prompts are not supported: Gemini's page takes text, so send the prompt as text.",
            param="prompt",
        )
    if len(texts) > MAX_PROMPTS:
        raise InvalidRequest(
            f"At most {MAX_PROMPTS} prompts per request ({len(texts)} sent).", param="prompt"
        )
    for index, text in enumerate(texts):
        if not str(text).strip():
            param = "prompt" if isinstance(prompt, str) else f"prompt[{index}]"
            raise InvalidRequest(f"{param} is empty (or only whitespace).", param=param)
    return [str(text) for text in texts]


def _check(request: CompletionRequest, catalog: Catalog) -> None:
    model = catalog.find(request.model)
    if model is None:
        raise ModelNotFound(request.model)
    if model.output is not OutputKind.TEXT:
        raise InvalidRequest(
            f"The model {request.model} does not answer with text; use /chat/completions for it.",
            param="model",
        )
    if request.suffix:
        raise InvalidRequest(
            "suffix is not supported: Gemini's page writes no text to fit before a suffix.", param="suffix"
        )
    if request.best_of is not None and request.best_of > 1:
        raise InvalidRequest(
            "best_of above 1 is not supported: the page gives one answer per prompt.", param="best_of"
        )
    refuse_logprobs(request.logprobs is not None, param="logprobs")
    limits_of(request.stop, request.max_tokens, None)  # checked for every prompt, before the first


class CompletionService:
    """Legacy completions on a ``ChatService``."""

    def __init__(self, chat: ChatService) -> None:
        self.chat = chat

    def plan(self, request: CompletionRequest) -> list[ChatCompletionRequest]:
        """One chat request per prompt, every refusal made before the first turn."""
        _check(request, self.chat.options.catalog)
        return [_chat_request(request, prompt) for prompt in prompts_of(request)]

    async def create(self, request: CompletionRequest, identity: str) -> CompletionResponse:
        choices: list[CompletionChoice] = []
        usage = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0)
        served: str | None = None
        for index, chat in enumerate(self.plan(request)):
            answer = await self.chat.create(chat, identity)
            choice = answer.choices[0]
            text = choice.message.content or ""
            head = _prompt(chat) if request.echo else ""
            reason: FinishReason = "length" if choice.finish_reason == "length" else "stop"
            choices.append(CompletionChoice(text=head + text, index=index, finish_reason=reason))
            usage = _add(usage, answer.usage)
            served = answer.served_model or served
        return CompletionResponse(
            id=new_completion_id(), model=request.model, served_model=served, choices=choices, usage=usage
        )

    async def stream(self, request: CompletionRequest, identity: str) -> AsyncIterator[CompletionResponse]:
        """Chunks of each prompt's answer in turn: its opening (the echoed prompt; an empty text
        opens the stream once the first turn is leased), its text, then its finish chunk; a usage
        chunk last when asked for."""
        plans = self.plan(request)
        chunks = _Chunks(request.model)
        usage = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0)
        for index, chat in enumerate(plans):
            # Closed at once when the client goes: its finally stops the page's answer.
            async with contextlib.aclosing(self.chat.stream(chat, identity)) as answer:  # type: ignore[type-var]
                opened = False
                async for chunk in answer:
                    if chunk.usage is not None:
                        usage = _add(usage, chunk.usage)
                        continue
                    chunks.served_model = chunk.served_model or chunks.served_model
                    choice = chunk.choices[0]
                    text = choice.delta.content or ""
                    if not opened:
                        opened = True
                        head = _prompt(chat) if request.echo else ""
                        if head or index == 0:
                            yield chunks.make(index, head + text)
                            text = ""
                    if text:
                        yield chunks.make(index, text)
                    if choice.finish_reason is not None:
                        reason: FinishReason = "length" if choice.finish_reason == "length" else "stop"
                        yield chunks.make(index, "", reason)
        if request.include_usage:
            yield chunks.usage(usage)


def _chat_request(request: CompletionRequest, prompt: str) -> ChatCompletionRequest:
    body = {
        "model": request.model,
        "messages": [{"role": "user", "content": prompt}],
        "stream": request.stream,
        "stream_options": {"include_usage": True} if request.stream else None,
        "max_tokens": request.max_tokens,
        "stop": request.stop,
    }
    return ChatCompletionRequest.model_validate(body)


def _prompt(chat: ChatCompletionRequest) -> str:
    return chat.messages[0].text()


def _add(total: Usage, more: Usage) -> Usage:
    return Usage(
        prompt_tokens=total.prompt_tokens + more.prompt_tokens,
        completion_tokens=total.completion_tokens + more.completion_tokens,
        total_tokens=total.total_tokens + more.total_tokens,
    )


class _Chunks:
    """Chunks of one completion share its id, creation time and model names."""

    def __init__(self, model: str) -> None:
        self.first = CompletionResponse(id=new_completion_id(), model=model, choices=[])
        self.served_model: str | None = None

    def make(self, index: int, text: str, finish_reason: FinishReason | None = None) -> CompletionResponse:
        choice = CompletionChoice(text=text, index=index, finish_reason=finish_reason)
        return self.first.model_copy(update={"choices": [choice], "served_model": self.served_model})

    def usage(self, usage: Usage) -> CompletionResponse:
        return self.first.model_copy(update={"served_model": self.served_model, "usage": usage})
