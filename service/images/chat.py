"""The imagen models through chat completions: the answer's text plus its images as markdown images.

The conversation is folded into one prompt (``service.chat.inputs``); image parts of the messages
become the edit's inputs. Images are delivered by URL (interface I5) unless the request asks for
inline ``data:`` URLs with the extra field ``image_delivery: "data_url"``; the Images API's
``return_origin_image`` and ``remove_watermark`` are accepted as extra fields too. Each call is a new
Gemini chat (image answers are not continued). A stream sends the role chunk at once, then the whole
content when the images are ready (keep-alives fill the wait), then the finish chunk.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from service.chat.admission import ByteBudget
from service.chat.inputs import PreparedPrompt, prepare_prompt
from service.chat.protocol import (
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    Choice,
    ChunkChoice,
    Delta,
    ResponseMessage,
    Usage,
    new_completion_id,
)
from service.chat.serving import ServingOptions, estimate_tokens
from service.errors import InvalidRequest
from service.images.protocol import ImageGenerationRequest
from service.images.serving import ImageJob, ImageService, Produced

__all__ = ["DELIVERY_FIELD", "ImagenChat"]

DELIVERY_FIELD = "image_delivery"
_SWITCHES = ("return_origin_image", "remove_watermark")
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class ImagenChat:
    """Chat completions for the imagen models, on an ``ImageService``."""

    opens_early = False  # the role chunk at once, the images when they are ready

    def __init__(self, images: ImageService, options: ServingOptions) -> None:
        self.images = images
        self.options = options

    async def plan(self, request: ChatCompletionRequest, identity: str) -> tuple[ImageJob, bool]:
        """The image job for the conversation, and whether images go inline as data URLs."""
        extra: dict[str, Any] = dict(request.model_extra or {})
        delivery = extra.pop(DELIVERY_FIELD, "url")
        if delivery not in ("url", "data_url"):
            raise InvalidRequest(f"{DELIVERY_FIELD} must be 'url' or 'data_url'.", param=DELIVERY_FIELD)
        prompt = await self._prepare(request, identity)
        fields = {name: extra[name] for name in _SWITCHES if name in extra}
        try:
            image_request = ImageGenerationRequest(prompt=prompt.prompt, model=request.model, **fields)
        except ValidationError as exc:
            raise RequestValidationError(exc.errors()) from None
        inputs = tuple(item for item in prompt.files if item.mime.startswith("image/"))
        job = self.images.plan("edit" if inputs else "generation", image_request, prompt.files)
        return replace(job, temporary=self.options.temporary(request.temporary)), delivery == "data_url"

    async def _prepare(self, request: ChatCompletionRequest, identity: str) -> PreparedPrompt:
        async def prepare(budget: ByteBudget | None) -> PreparedPrompt:
            return await prepare_prompt(
                request.messages,
                policy=self.options.fetch_policy,
                max_images=self.options.max_images,
                max_prompt_bytes=self.options.max_prompt_bytes,
                budget=budget,
            )

        if not any(message.image_urls() for message in request.messages):
            return await prepare(None)
        # Admission before any image is fetched or decoded, as for chat (service.chat.admission).
        with self.options.admission.admit(identity) as budget:
            return await prepare(budget)

    async def ready(self, request: ChatCompletionRequest, identity: str) -> None:
        """Nothing to look up before a stream opens."""

    async def create(self, request: ChatCompletionRequest, identity: str) -> ChatCompletionResponse:
        job, inline = await self.plan(request, identity)
        images = [image async for image in self.images.produce(job)]
        content = await self._content(job, images, inline)
        return ChatCompletionResponse(
            model=request.model,
            choices=[Choice(message=ResponseMessage(content=content))],
            usage=_usage(job, content),
        )

    async def stream(
        self, request: ChatCompletionRequest, identity: str
    ) -> AsyncIterator[ChatCompletionChunk]:
        job, inline = await self.plan(request, identity)
        completion_id, created = new_completion_id(), int(time.time())

        def chunk(delta: Delta, finish: bool = False) -> ChatCompletionChunk:
            choice = ChunkChoice(delta=delta, finish_reason="stop" if finish else None)
            return ChatCompletionChunk(
                id=completion_id, created=created, model=request.model, choices=[choice]
            )

        yield chunk(Delta(role="assistant", content=""))
        images = [image async for image in self.images.produce(job)]
        yield chunk(Delta(content=await self._content(job, images, inline)))
        yield chunk(Delta(), finish=True)

    async def _content(self, job: ImageJob, images: list[Produced], inline: bool) -> str:
        mime = _MIME[job.output_format]
        links: list[str] = []
        for image in images:
            if inline:
                url = f"data:{mime};base64,{base64.b64encode(image.data).decode('ascii')}"
            else:
                delivery = self.images.options.delivery
                if delivery is None:
                    raise InvalidRequest(
                        "url delivery is not configured on this gateway.", param=DELIVERY_FIELD
                    )
                url = await delivery.url_for(image.data, mime, suffix=f".{job.output_format}")
            links.append(f"![image {len(links) + 1}]({url})")
        text = (images[0].revised_prompt or "") if images else ""
        return "\n\n".join([text, *links] if text else links)


def _usage(job: ImageJob, content: str) -> Usage:
    prompt_tokens, completion_tokens = estimate_tokens(job.prompt), estimate_tokens(content)
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
    )
