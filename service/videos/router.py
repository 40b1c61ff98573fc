"""HTTP routes of the video jobs API, OpenAI's shape: ``POST/GET /videos``, ``GET/DELETE
/videos/{id}``, ``GET /videos/{id}/content?variant=video|thumbnail``.

``POST`` takes multipart/form-data (what the openai SDK sends) or JSON: ``prompt``, ``model``
(default ``gemini-2.5-pro-video``), ``seconds`` (Veo makes 8-second clips: ``"8"`` or absent),
``size`` (landscape ``1280x720``/``1792x1024`` or portrait ``720x1280``/``1024x1792``, told to the
page as an aspect ratio) and ``input_reference`` (an image upload). Status answers carry
``openai-poll-after-ms`` so the SDK's ``poll`` and ``create_and_poll`` pace themselves.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import UploadFile
from starlette.responses import Response

from browser import Attachment
from service.catalog import OutputKind
from service.chat.longrun import check_accounts
from service.cluster.forward import to_account_owner
from service.errors import InvalidRequest, ModelNotFound, NotFound
from service.images.inputs import sniff_upload
from service.openapi_bodies import FILE, JSON, MULTIPART, NON_BLANK, Schema, catalog_models, request_body
from service.state import CallerDep, GatewayDep
from service.videos.jobs import VideoJobs
from service.videos.store import VideoRecord

__all__ = ["CREATE_BODY", "router"]

DEFAULT_MODEL = "gemini-2.5-pro-video"
DEFAULT_SIZE = "1280x720"
SECONDS = "8"
_RATIOS = {"1280x720": "16:9", "1792x1024": "16:9", "720x1280": "9:16", "1024x1792": "9:16"}
_FIELDS = {"prompt", "model", "seconds", "size", "input_reference"}


def _create_body() -> dict[str, Any]:
    fields: dict[str, Schema] = {
        "prompt": {"type": "string", "pattern": NON_BLANK, "description": "Must not be blank."},
        "model": {"type": "string", "default": DEFAULT_MODEL, **catalog_models(OutputKind.VIDEO)},
        "seconds": {
            "type": "string",
            "enum": [SECONDS],
            "default": SECONDS,
            "description": f"Veo makes {SECONDS}-second clips.",
        },
        "size": {
            "type": "string",
            "enum": list(_RATIOS),
            "default": DEFAULT_SIZE,
            "description": "Told to Gemini as the aspect ratio (16:9 or 9:16).",
        },
    }
    reference = {**FILE, "description": "An image to start from: PNG, JPEG, WebP or GIF."}

    def shape(properties: dict[str, Schema]) -> Schema:
        return {
            "type": "object",
            "properties": properties,
            "required": ["prompt"],
            "additionalProperties": False,
        }

    return request_body(
        # An image upload needs multipart: JSON has no input_reference.
        {MULTIPART: shape({**fields, "input_reference": reference}), JSON: shape(fields)},
        description="Multipart (what the openai SDK sends) or JSON.",
        examples={JSON: {"prompt": "a paper boat on a rainy street", "size": "1280x720", "seconds": SECONDS}},
    )


CREATE_BODY = _create_body()

router = APIRouter()


def get_jobs(gateway: GatewayDep) -> VideoJobs:
    return gateway.videos


JobsDep = Annotated[VideoJobs, Depends(get_jobs)]


def video_object(record: VideoRecord) -> dict[str, Any]:
    error = (
        {"code": record.error_code or "upstream_error", "message": record.error_message or ""}
        if record.status == "failed"
        else None
    )
    return {
        "id": record.id,
        "object": "video",
        "model": record.model,
        "status": record.status,
        "progress": record.progress,
        "created_at": record.created_at,
        "completed_at": record.completed_at,
        "expires_at": record.expires_at,
        "error": error,
        "prompt": record.prompt,
        "seconds": record.seconds,
        "size": record.size,
        "remixed_from_video_id": None,
    }


def _answer(record: VideoRecord, gateway: GatewayDep) -> JSONResponse:
    poll_after = int(gateway.settings.video_poll_interval * 1000)
    return JSONResponse(video_object(record), headers={"openai-poll-after-ms": str(poll_after)})


async def _fields(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        return {key: value for key, value in form.multi_items()}
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return body


@router.post("/videos", response_model=None, openapi_extra=CREATE_BODY)
async def create_video(request: Request, gateway: GatewayDep, caller: CallerDep, jobs: JobsDep) -> Response:
    fields = await _fields(request)
    unknown = sorted(set(fields) - _FIELDS)
    if unknown:
        raise InvalidRequest(f"Unknown field {unknown[0]!r}.", param=unknown[0])
    prompt = fields.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidRequest("The prompt is empty.", param="prompt")
    model_name = fields.get("model") or DEFAULT_MODEL
    model = gateway.catalog.find(str(model_name))
    if model is None:
        raise ModelNotFound(str(model_name))
    if model.output is not OutputKind.VIDEO:
        raise InvalidRequest(
            f"The model {model.name} does not make videos; use {DEFAULT_MODEL}.", param="model"
        )
    seconds = str(fields.get("seconds") or SECONDS)
    if seconds != SECONDS:
        raise InvalidRequest(
            f"Veo makes {SECONDS}-second clips; seconds must be {SECONDS!r}.", param="seconds"
        )
    size = str(fields.get("size") or DEFAULT_SIZE)
    if size not in _RATIOS:
        raise InvalidRequest(f"size must be one of {', '.join(_RATIOS)}.", param="size")
    files: tuple[Attachment, ...] = ()
    reference = fields.get("input_reference")
    if isinstance(reference, UploadFile):
        data = await reference.read()
        files = (sniff_upload(data, name=reference.filename or "reference", param="input_reference"),)
    elif reference is not None:
        raise InvalidRequest("input_reference must be an image upload (multipart).", param="input_reference")
    check_accounts(model, gateway.backend.accounts())
    typed = f"{prompt.strip()}\n\nAspect ratio {_RATIOS[size]}."
    record = await jobs.create(
        owner=caller.identity,
        model=model.name,
        prompt=prompt,
        typed=typed,
        seconds=seconds,
        size=size,
        files=files,
    )
    return _answer(record, gateway)


@router.get("/videos", response_model=None)
async def list_videos(
    gateway: GatewayDep,
    caller: CallerDep,
    jobs: JobsDep,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Literal["asc", "desc"] = "desc",
) -> Response:
    rows = await asyncio.to_thread(
        jobs.store.page, caller.identity, after=after, limit=limit + 1, ascending=order == "asc"
    )
    data = [video_object(row) for row in rows[:limit]]
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(rows) > limit,
        }
    )


async def _record(jobs: VideoJobs, video_id: str, owner: str) -> VideoRecord:
    record = await asyncio.to_thread(jobs.store.get, video_id, owner)
    if record is None:
        raise NotFound(f"No video {video_id!r}.")
    return record


@router.get("/videos/{video_id}", response_model=None)
async def retrieve_video(video_id: str, gateway: GatewayDep, caller: CallerDep, jobs: JobsDep) -> Response:
    return _answer(await _record(jobs, video_id, caller.identity), gateway)


@router.delete("/videos/{video_id}", response_model=None)
async def delete_video(video_id: str, caller: CallerDep, jobs: JobsDep) -> Response:
    record = await _record(jobs, video_id, caller.identity)
    if not jobs.runs(video_id) and record.account_id is not None:
        # Run or kept by the replica that drives its account: cancelled and removed there.
        to_account_owner(record.account_id)
    jobs.cancel(video_id)
    await asyncio.to_thread(jobs.store.delete, video_id, caller.identity)
    return JSONResponse({"id": video_id, "object": "video.deleted", "deleted": True})


@router.get("/videos/{video_id}/content", response_model=None)
async def video_content(
    video_id: str, caller: CallerDep, jobs: JobsDep, variant: Literal["video", "thumbnail"] = "video"
) -> Response:
    record = await _record(jobs, video_id, caller.identity)
    if record.status != "completed":
        raise InvalidRequest(f"The video {video_id} is {record.status}, not completed.", param="video_id")
    path = jobs.store.file(video_id, variant)
    if not path.exists() and record.account_id is not None:
        to_account_owner(record.account_id)  # kept by the replica that rendered it: sent from there
    if not path.exists():
        raise NotFound(f"The video {video_id} has no {variant}.")
    return FileResponse(path, media_type="video/mp4" if variant == "video" else "image/jpeg")
