"""HTTP routes of the Images API (HTTP only: the logic lives in ``service.images.serving``).

``POST /images/generations`` and ``POST /images/edits`` take JSON or multipart/form-data. A
streamed answer (``stream: true``) is planned first, so that every request error is a real HTTP
status; the event stream then starts at once and carries keep-alive comments while Gemini works.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.images.bodies import EDIT_BODY, GENERATION_BODY
from service.images.inputs import read_edit, read_generation
from service.images.serving import ImageJob
from service.state import CallerDep, GatewayDep
from service.streaming import OpenEventStreamResponse, cancel_on_disconnect

__all__ = ["router"]

router = APIRouter()


@router.post("/images/generations", response_model=None, openapi_extra=GENERATION_BODY)
async def images_generations(request: Request, gateway: GatewayDep) -> Response:
    body = await read_generation(request)
    return await _answer(gateway.images.plan("generation", body), request, gateway)


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
    return await _answer(gateway.images.plan("edit", edit.request, edit.images), request, gateway)


async def _answer(job: ImageJob, request: Request, gateway: GatewayDep) -> Response:
    settings, service = gateway.settings, gateway.images
    if job.request.stream:
        events = service.events(job)
        return OpenEventStreamResponse(
            events, keep_alive=settings.keep_alive_interval, cleanup_timeout=settings.stop_timeout
        )
    work = service.create(job)
    result = await cancel_on_disconnect(work, request.receive, cleanup_timeout=settings.stop_timeout)
    return JSONResponse(result.response.dump(), headers=result.headers())
