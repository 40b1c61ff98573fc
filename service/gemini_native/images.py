"""The imagen models on the Gemini-native door: ``generateContent`` answers with Gemini's text and
the images as ``inlineData`` parts (mimeType + base64), as Google's image models answer. The
conversation is folded and the images made by the imagen chat serving (``service.images.chat``:
its plan, its ``ImageService``); this module only shapes the answer.

What an image answer cannot honour is refused naming the field (tools, structured output, stop
sequences, output budget, thinking), and ``responseModalities`` must allow ``IMAGE``."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

from service.chat.protocol import ChatCompletionRequest
from service.chat.serving import estimate_tokens
from service.chat.servings import ChatServing
from service.errors import InvalidRequest
from service.gemini_native.wire import (
    BlobOut,
    Candidate,
    GenerateContentRequest,
    GenerateContentResponse,
    InlineDataOut,
    PartOut,
    ResponseContent,
    TextOut,
    UsageMetadata,
)
from service.images.chat import ImagenChat
from service.images.serving import ImageJob

__all__ = ["check_image_request", "image_answer", "image_chunks"]

_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

# The generationConfig fields an image answer cannot honour (the page makes images, not text under
# a budget or a schema), each named in the refusal.
_NOT_FOR_IMAGES = (
    "stopSequences",
    "maxOutputTokens",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "thinkingConfig",
)


def check_image_request(model: str, body: GenerateContentRequest) -> None:
    if body.tools or body.toolConfig:
        field = "tools" if body.tools else "toolConfig"
        raise InvalidRequest(f"The image model {model} does not take {field}.", param=field)
    config = body.generationConfig
    if config is None:
        return
    for name in _NOT_FOR_IMAGES:
        if getattr(config, name) is not None:
            raise InvalidRequest(
                f"generationConfig.{name} is not supported by the image model {model}.",
                param=f"generationConfig.{name}",
            )
    modalities = config.responseModalities
    if modalities is not None and "IMAGE" not in modalities:
        raise InvalidRequest(
            f"The image model {model} answers with images: responseModalities must include IMAGE.",
            param="generationConfig.responseModalities",
        )


def _imagen(serving: ChatServing) -> ImagenChat:
    if not isinstance(serving, ImagenChat):  # the catalog's image models are served by ImagenChat
        raise TypeError(f"expected the imagen serving, got {type(serving).__name__}")
    return serving


async def image_answer(
    serving: ChatServing, chat: ChatCompletionRequest, identity: str, response_id: str
) -> GenerateContentResponse:
    """The whole answer: Gemini's text (when it said any), then one inlineData part per image."""
    imagen = _imagen(serving)
    job, _ = await imagen.plan(chat, identity)
    return await _made(imagen, job, chat, response_id)


async def _made(
    imagen: ImagenChat, job: ImageJob, chat: ChatCompletionRequest, response_id: str
) -> GenerateContentResponse:
    images = [image async for image in imagen.images.produce(job)]
    mime = _MIME[job.output_format]
    text = (images[0].revised_prompt or "") if images else ""
    parts: list[PartOut] = [TextOut(text=text)] if text else []
    parts += [
        InlineDataOut(inlineData=BlobOut(mimeType=mime, data=base64.b64encode(image.data).decode("ascii")))
        for image in images
    ]
    prompt_tokens, answer_tokens = estimate_tokens(job.prompt), estimate_tokens(text)
    return GenerateContentResponse(
        candidates=[Candidate(content=ResponseContent(parts=parts), finishReason="STOP")],
        usageMetadata=UsageMetadata(
            promptTokenCount=prompt_tokens,
            candidatesTokenCount=answer_tokens,
            totalTokenCount=prompt_tokens + answer_tokens,
        ),
        modelVersion=chat.model,
        responseId=response_id,
    )


async def image_chunks(
    serving: ChatServing, chat: ChatCompletionRequest, identity: str, response_id: str
) -> AsyncIterator[GenerateContentResponse]:
    """Streamed: an empty-text chunk once the request is planned (so that a refusal before it is
    still an HTTP status, and the stream's keep-alives fill the wait after it), then the whole
    answer in one chunk when the images are ready (the page shows them whole)."""
    imagen = _imagen(serving)
    job, _ = await imagen.plan(chat, identity)
    yield GenerateContentResponse(
        candidates=[Candidate(content=ResponseContent(parts=[TextOut(text="")]))],
        modelVersion=chat.model,
        responseId=response_id,
    )
    yield await _made(imagen, job, chat, response_id)
