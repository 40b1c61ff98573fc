"""Serving the Images API on the pool: plan a job, run image turns until ``n`` images, post-process.

A job is one or more turns with the model's image tool (a new chat each; edits attach the inputs to
every turn). One Gemini answer gives one or two images, so ``n`` above what the first answer gave
takes further turns with the same prompt, up to ``n`` turns in all. Each image is downloaded inside
its turn's lease through the account's context: the preview the page shows (``=s1024-rj``), or with
``return_origin_image`` the full-size original (``Turn.fetch_original``: c8o8Fe, then size
suffixes). Then, in order: watermark removal (interface I6, only where the mark is detected; the
mark's maps are calibrated on first need, with the account that made the image, after its lease),
conversion to ``output_format`` with Pillow, and delivery inline (``b64_json``) or by URL (I5).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from PIL import Image

from browser import Attachment, ModeFamily, TurnRequest, TurnSnapshot
from service.backend import Backend, BackendTurn
from service.catalog import Catalog, ModelSpec, OutputKind, can_serve, unservable
from service.cluster.forward import to_model_server
from service.errors import (
    InvalidRequest,
    ModelNotFound,
    UpstreamFailed,
)
from service.images.protocol import (
    ImageData,
    ImageGenerationRequest,
    ImagesResponse,
    ImageStreamEvent,
    ImageUsage,
    InputTokensDetails,
)
from service.images.sizes import aspect_ratio, ratio_prompt
from service.janitor import ChatJanitor
from service.media.delivery import MediaDelivery
from service.watermark import AlphaMaps, Detection, remove_watermark
from service.watermark.calibrate import CalibrationFailed

log = logging.getLogger(__name__)

__all__ = ["ImageJob", "ImageOptions", "ImageResult", "ImageService", "Produced", "image_model"]

Kind = Literal["generation", "edit"]
# A rough per-image figure for the usage estimate (OpenAI counts image tokens; the page gives none).
IMAGE_TOKENS = 1290
_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
_MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class WatermarkMaps(Protocol):
    """Where the mark's alpha maps come from (``service.watermark.auto.AutoCalibration``)."""

    async def maps_for(
        self, width: int, height: int, *, account_id: str | None, mode: ModeFamily
    ) -> AlphaMaps:
        """The maps for an image of this size; ``CalibrationFailed`` says why there are none."""
        ...


@dataclass(frozen=True)
class ImageOptions:
    stop_timeout: float
    watermark: WatermarkMaps | None = None
    delivery: MediaDelivery | None = None
    # An image turn's chat is never continued: the janitor deletes it under ``delete_chats=after_turn``.
    janitor: ChatJanitor | None = None
    catalog: Catalog = field(default_factory=Catalog)  # the app's models (its Gem aliases)


@dataclass(frozen=True)
class ImageJob:
    """A validated request: what to type, how many images, and what to do with them."""

    kind: Kind
    model: ModelSpec
    request: ImageGenerationRequest
    prompt: str  # as typed into the page (with the aspect ratio in words)
    files: tuple[Attachment, ...] = ()
    temporary: bool = False  # each turn in a temporary chat (service.temporary)

    @property
    def output_format(self) -> Literal["png", "jpeg", "webp"]:
        return self.request.output_format or "png"


@dataclass(frozen=True)
class Produced:
    """One finished image: bytes in the output format, Gemini's text, and the watermark decision."""

    data: bytes
    width: int
    height: int
    revised_prompt: str | None
    watermark: Detection | None = None


@dataclass
class ImageResult:
    response: ImagesResponse
    watermarks: list[Detection] = field(default_factory=list)

    def headers(self) -> dict[str, str]:
        if not self.watermarks:
            return {}
        return {"X-Watermark": ", ".join(detection.header() for detection in self.watermarks)}


def image_model(catalog: Catalog, name: str) -> ModelSpec:
    model = catalog.find(name)
    if model is None:
        raise ModelNotFound(name)
    if model.output is not OutputKind.IMAGES:
        raise InvalidRequest(
            f"The model {name} does not make images; use gemini-2.5-flash-imagen or gemini-2.5-pro-imagen.",
            param="model",
            code="model_not_supported",
        )
    return model


class ImageService:
    def __init__(self, backend: Backend, options: ImageOptions) -> None:
        self.backend = backend
        self.options = options

    def plan(self, kind: Kind, request: ImageGenerationRequest, files: Sequence[Attachment] = ()) -> ImageJob:
        """Check the request against the catalog, the accounts and this gateway's configuration."""
        model = image_model(self.options.catalog, request.model)
        if not request.prompt.strip():
            raise InvalidRequest("The prompt is empty.", param="prompt")
        if request.background == "transparent":
            raise InvalidRequest(
                "background 'transparent' is not supported: Gemini makes opaque images (use auto or opaque).",
                param="background",
            )
        if request.response_format == "url" and self.options.delivery is None:
            raise InvalidRequest("url delivery is not configured on this gateway.", param="response_format")
        if request.remove_watermark and self.options.watermark is None:
            message = "remove_watermark is not available on this gateway."
            raise InvalidRequest(message, param="remove_watermark")
        accounts = self.backend.accounts()
        if not can_serve(model, accounts):
            to_model_server(model)  # another replica's accounts serve it: answered there
            raise unservable(model, accounts)
        prompt = ratio_prompt(request.prompt.strip(), aspect_ratio(request.size))
        return ImageJob(kind, model, request, prompt, tuple(files))

    async def create(self, job: ImageJob) -> ImageResult:
        images = [image async for image in self.produce(job)]
        data = [await self._deliver(job, image) for image in images]
        response = ImagesResponse(
            created=int(time.time()),
            data=data,
            output_format=job.output_format,
            size=_size(images[0]),
            usage=_usage(job, len(images)),
        )
        return ImageResult(response, [image.watermark for image in images if image.watermark is not None])

    async def events(self, job: ImageJob) -> AsyncIterator[ImageStreamEvent]:
        """One completed event per image, as each one is ready."""
        kind: Literal["image_generation.completed", "image_edit.completed"] = (
            "image_edit.completed" if job.kind == "edit" else "image_generation.completed"
        )
        async for image in self.produce(job):
            delivered = await self._deliver(job, image)
            yield ImageStreamEvent(
                type=kind,
                b64_json=delivered.b64_json,
                url=delivered.url,
                revised_prompt=delivered.revised_prompt,
                created_at=int(time.time()),
                output_format=job.output_format,
                size=_size(image),
                usage=_usage(job, 1),
            )

    async def produce(self, job: ImageJob) -> AsyncIterator[Produced]:
        """Run turns until ``n`` images came back (at most ``n`` turns); each image post-processed."""
        wanted = job.request.n
        made = 0
        for _ in range(wanted):
            async for image in self._one_turn(job, wanted - made):
                made += 1
                yield image
            if made >= wanted:
                return

    async def _one_turn(self, job: ImageJob, limit: int) -> AsyncIterator[Produced]:
        spec = TurnRequest(
            prompt=job.prompt,
            mode=job.model.family,
            tool=job.model.tool,
            attachments=job.files,
            temporary=job.temporary,
        )
        async with self.backend.turn(spec) as turn:
            finished = False
            final: TurnSnapshot | None = None
            try:
                final = await _last_snapshot(turn)
                finished = True
            finally:
                if not finished:
                    await self._stop(turn)
                if self.options.janitor is not None and final is not None and final.cid and not job.temporary:
                    self.options.janitor.chat_unkept(turn.account_id, final.cid)
            if final is None or not final.images:
                raise _no_images(final)
            text = final.text.strip() or None
            downloads = []
            for image in list(final.images)[:limit]:
                if job.request.return_origin_image:
                    downloads.append(await turn.fetch_original(image))
                else:
                    downloads.append(await turn.fetch_media(image.url))
            made_by = turn.account_id
        for media in downloads:
            maps = await self._maps(job, media.data, made_by)  # after the lease: it may take a turn
            yield await asyncio.to_thread(self._finish, job, media.data, text, maps)

    async def _maps(self, job: ImageJob, data: bytes, account_id: str) -> AlphaMaps | None:
        if not job.request.remove_watermark or self.options.watermark is None:
            return None
        with Image.open(io.BytesIO(data)) as image:  # the header only: the size picks the class
            width, height = image.size
        try:
            return await self.options.watermark.maps_for(
                width, height, account_id=account_id, mode=job.model.family
            )
        except CalibrationFailed as exc:
            raise InvalidRequest(
                f"remove_watermark: the watermark could not be calibrated: {exc}", param="remove_watermark"
            ) from exc

    def _finish(self, job: ImageJob, data: bytes, text: str | None, maps: AlphaMaps | None) -> Produced:
        detection: Detection | None = None
        if maps is not None:
            data, detection = remove_watermark(data, maps)
        converted, width, height = convert(data, job.output_format, job.request.output_compression)
        return Produced(converted, width, height, text, detection)

    async def _deliver(self, job: ImageJob, image: Produced) -> ImageData:
        if job.request.response_format == "url":
            assert self.options.delivery is not None  # plan() refused url without delivery
            url = await self.options.delivery.url_for(
                image.data, _MIME[job.output_format], suffix=f".{job.output_format}"
            )
            return ImageData(url=url, revised_prompt=image.revised_prompt)
        encoded = base64.b64encode(image.data).decode("ascii")
        return ImageData(b64_json=encoded, revised_prompt=image.revised_prompt)

    async def _stop(self, turn: BackendTurn) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(turn.stop(), self.options.stop_timeout)


def convert(data: bytes, output_format: str, compression: int | None) -> tuple[bytes, int, int]:
    """The image re-encoded as ``output_format`` (``compression`` 0-100 for jpeg/webp: 100 is the
    most compressed, as OpenAI defines it); PNG input asked as PNG is passed through unchanged."""
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        if image.format == _PILLOW_FORMATS[output_format] and compression is None:
            return data, width, height
        buffer = io.BytesIO()
        if output_format == "png":
            image.save(buffer, format="PNG")
        else:
            quality = 95 if compression is None else max(1, 100 - compression)
            rgb = image.convert("RGB") if output_format == "jpeg" else image
            rgb.save(buffer, format=_PILLOW_FORMATS[output_format], quality=quality)
    return buffer.getvalue(), width, height


async def _last_snapshot(turn: BackendTurn) -> TurnSnapshot | None:
    final: TurnSnapshot | None = None
    async for snapshot in turn:
        final = snapshot
    return final


def _no_images(final: TurnSnapshot | None) -> UpstreamFailed:
    if final is not None and final.error_code is not None:
        return UpstreamFailed(
            f"Gemini rejected the request (code {final.error_code}).", gemini_code=final.error_code
        )
    said = (final.text.strip()[:300] if final is not None else "") or "nothing"
    return UpstreamFailed(f"Gemini answered without an image: {said}")


def _size(image: Produced) -> str:
    return f"{image.width}x{image.height}"


def _usage(job: ImageJob, count: int) -> ImageUsage:
    text_tokens = max(1, len(job.prompt) // 4)
    image_tokens = IMAGE_TOKENS * len(job.files)
    output = IMAGE_TOKENS * count
    return ImageUsage(
        input_tokens=text_tokens + image_tokens,
        input_tokens_details=InputTokensDetails(image_tokens=image_tokens, text_tokens=text_tokens),
        output_tokens=output,
        total_tokens=text_tokens + image_tokens + output,
    )
