"""HTTP routes of the Images API (HTTP only: the logic lives in ``service.images.serving``).

``POST /images/generations`` and ``POST /images/edits`` take JSON or multipart/form-data. A
streamed answer (``stream: true``) is planned first, so that every request error is a real HTTP
status; the event stream then starts at once and carries keep-alive comments while Gemini works.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.chat.protocol import ChatCompletionRequest
from service.images.bodies import EDIT_BODY, GENERATION_BODY
from service.images.chat import ImagenChat
from service.images.inputs import read_edit, read_generation
from service.images.serving import ImageJob, ImageOptions, ImageService
from service.state import CallerDep, GatewayDep
from service.streaming import EventStreamResponse, OpenEventStreamResponse, cancel_on_disconnect

__all__ = ["imagen_chat", "router"]

router = APIRouter()


@router.post("/images/generations", response_model=None, openapi_extra=GENERATION_BODY)
async def images_generations(request: Request, gateway: GatewayDep) -> Response:
    body = await read_generation(request)
    service = _service(gateway)
    return await _answer(service.plan("generation", body), service, request, gateway)


@router.post("/images/edits", response_model=None, openapi_extra=EDIT_BODY)
async def images_edits(request: Request, gateway: GatewayDep, caller: CallerDep) -> Response:
    chat = gateway.chat.options
    edit = await read_edit(
        request,
        policy=chat.fetch_policy,
        max_images=chat.max_images,
        admission=chat.admission,
        identity=caller.identity,
    )
    service = _service(gateway)
    return await _answer(service.plan("edit", edit.request, edit.images), service, request, gateway)


async def imagen_chat(
    body: ChatCompletionRequest, request: Request, gateway: GatewayDep, identity: str
) -> Response:
    """Chat completions for the imagen models (``service.images.chat``); the chat router's hook."""
    service = _service(gateway)
    chat = ImagenChat(service, gateway.chat.options)
    settings = gateway.settings
    if body.stream:
        return EventStreamResponse(
            chat.stream(body, identity),
            keep_alive=settings.keep_alive_interval,
            cleanup_timeout=settings.stop_timeout,
        )
    work = chat.create(body, identity)
    result = await cancel_on_disconnect(work, request.receive, cleanup_timeout=settings.stop_timeout)
    return JSONResponse(result.dump())


def _service(gateway: GatewayDep) -> ImageService:
    options = ImageOptions(
        gateway.settings.stop_timeout,
        watermark=gateway.watermark,
        delivery=gateway.media,
        janitor=gateway.chat.janitor,
    )
    return ImageService(gateway.backend, options)


async def _answer(job: ImageJob, service: ImageService, request: Request, gateway: GatewayDep) -> Response:
    settings = gateway.settings
    if job.request.stream:
        events = service.events(job)
        return OpenEventStreamResponse(
            events, keep_alive=settings.keep_alive_interval, cleanup_timeout=settings.stop_timeout
        )
    work = service.create(job)
    result = await cancel_on_disconnect(work, request.receive, cleanup_timeout=settings.stop_timeout)
    return JSONResponse(result.response.dump(), headers=result.headers())
