"""Reading an Images API request: JSON or multipart/form-data bodies, and the edit's input images.

Multipart fields are strings; booleans accept true/false/1/0/yes/no and numbers their digits
(pydantic's lax parsing). Edit images come as ``image``, ``image[]`` or a repeated ``image`` part,
or in JSON as ``images: [{"image_url": ...}]`` (data URLs, or http(s) through the SSRF guard of
``service.fetch``). Every upload's type is sniffed from its bytes with Pillow, never taken from the
part's content type.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile

from browser import Attachment
from service.chat.admission import ByteBudget, ImageAdmission
from service.chat.images import load_image
from service.errors import InvalidRequest, PayloadTooLarge, ServiceError
from service.fetch import FetchPolicy
from service.images.protocol import ImageEditRequest, ImageGenerationRequest

__all__ = ["EditInput", "read_edit", "read_generation", "sniff_upload"]

IMAGE_FIELDS = ("image", "image[]")
MAX_EDIT_IMAGES = 10
# Pillow's format names for the types Gemini's upload takes.
_PILLOW_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}

M = TypeVar("M", bound=BaseModel)
G = TypeVar("G", bound=ImageGenerationRequest)


@dataclass(frozen=True)
class EditInput:
    request: ImageEditRequest
    images: tuple[Attachment, ...]


def sniff_upload(data: bytes, *, name: str, param: str = "image") -> Attachment:
    """The upload as a file for the page, its type read from the bytes; a 400 when not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidRequest(f"The upload {name!r} is not an image Pillow can read.", param=param) from None
    mime = _PILLOW_TYPES.get(kind)
    if mime is None:
        message = f"The upload {name!r} is a {kind} image; use PNG, JPEG, WebP or GIF."
        raise InvalidRequest(message, param=param)
    stem = hashlib.sha256(data).hexdigest()[:12]
    return Attachment(name=f"image-{stem}.{_EXTENSIONS[mime]}", mime=mime, data=data)


async def read_generation(request: Request) -> ImageGenerationRequest:
    fields, files = await _read_body(request)
    if files:
        raise InvalidRequest("Image generation takes no files; use /images/edits.", param=files[0][0])
    return _with_prompt(_validate(ImageGenerationRequest, fields))


async def read_edit(
    request: Request, *, policy: FetchPolicy, max_images: int, admission: ImageAdmission, identity: str
) -> EditInput:
    fields, files = await _read_body(request)
    if "mask" in fields or any(name == "mask" for name, _ in files):
        raise InvalidRequest(
            "mask is not supported: Gemini edits the whole image from the prompt.", param="mask"
        )
    unexpected = [name for name, _ in files if name not in IMAGE_FIELDS]
    if unexpected:
        raise InvalidRequest(f"Unexpected file field {unexpected[0]!r}.", param=unexpected[0])
    edit = _with_prompt(_validate(ImageEditRequest, fields))  # before any image is read or fetched
    limit = min(MAX_EDIT_IMAGES, max_images)
    count = len(files) + len(edit.images or ())
    if count == 0:
        raise InvalidRequest("An edit needs at least one image (image or image[]).", param="image")
    if count > limit:
        raise InvalidRequest(f"At most {limit} images per edit ({count} sent).", param="image")
    images = [await _upload(upload, policy.max_bytes) for _, upload in files]
    if edit.images:
        # Admission before any referenced image is fetched or decoded (service.chat.admission).
        with admission.admit(identity) as budget:
            for ref in edit.images:
                images.append(await _referenced(ref.image_url, policy, budget))
    return EditInput(edit, tuple(images))


async def _upload(upload: UploadFile, max_bytes: int) -> Attachment:
    data = await upload.read(max_bytes + 1)
    name = upload.filename or "image"
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The upload {name!r} exceeds the limit of {max_bytes} bytes.", param="image")
    return sniff_upload(data, name=name)


async def _referenced(url: str, policy: FetchPolicy, budget: ByteBudget) -> Attachment:
    capped = replace(policy, max_bytes=min(policy.max_bytes, budget.remaining))
    try:
        loaded = await load_image(url, policy=capped)
        budget.charge(len(loaded.data))
    except ServiceError as exc:
        exc.param = "images"
        raise
    return sniff_upload(loaded.data, name="images[]", param="images")


async def _read_body(request: Request) -> tuple[dict[str, Any], list[tuple[str, UploadFile]]]:
    """Fields and file parts of a JSON, multipart or urlencoded body."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_files=4 * MAX_EDIT_IMAGES, max_fields=64)
        fields: dict[str, Any] = {}
        files: list[tuple[str, UploadFile]] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                files.append((name, value))
            else:
                fields[name] = value
        return fields, files
    body = await request.body()
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise InvalidRequest("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return data, []


def _with_prompt(request: G) -> G:
    if not request.prompt.strip():
        raise InvalidRequest("The prompt is empty (or only whitespace).", param="prompt")
    return request


def _validate(model: type[M], fields: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(dict(fields))
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
