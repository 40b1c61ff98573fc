"""``POST /upload``: the content-push stand-in that keeps uploaded bytes in memory."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import UploadFile

from simulator.routes.common import account_of, sim

router = APIRouter()


@router.post("/upload")
async def upload(request: Request) -> Response:
    state = sim(request)
    form = await request.form()
    part = form.get("file")
    if not isinstance(part, UploadFile):
        return PlainTextResponse("multipart part 'file' is required", status_code=400)
    data = await part.read()
    # Uploading takes a while on the real service; the page shows a spinner until it finishes.
    await asyncio.sleep(state.settings.upload_delay)
    account = account_of(request)
    stored = state.uploads.add(part.filename or "file", part.content_type or "", data, account.public_id)
    state.control.uploads.append(
        {
            "time": time.time(),
            "ref": stored.ref,
            "name": stored.name,
            "mime": stored.mime,
            "size": len(data),
            "sha256": stored.sha256,
            "account": account.kind.value,
            "account_id": account.public_id,
            "push_id": request.headers.get("push-id"),
            "tenant": request.headers.get("x-tenant-id"),
        }
    )
    return PlainTextResponse(stored.ref)
