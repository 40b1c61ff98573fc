"""Uploads: the page's resumable, cross-origin ``POST /upload/`` (E7) and the older same-origin
multipart ``POST /upload`` that GA-style HTTP clients use (protocol.md §3.4).

Resumable (VID HAR 2026-08-03, file 58161595199): ``start`` with ``x-goog-upload-protocol:
resumable``, ``x-goog-upload-command: start``, ``x-goog-upload-header-content-length``,
``x-tenant-id: bard-storage``, ``push-id`` and the body ``File name: <name>`` answers an
``x-goog-upload-url`` header (exposed through CORS); ``upload, finalize`` with
``x-goog-upload-offset: 0`` and the bytes at that URL answers ``/contrib_service/ttl_1d/<id>``.
CORS admits the page's origin (the other loopback name on this port) with credentials.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.datastructures import UploadFile

from simulator.accounts import Account
from simulator.routes.common import account_of, base_url, sim
from simulator.uploads import LOOPBACK_TWINS, Upload

router = APIRouter()

SESSION_PARAM = "sim_session"
_EXPOSED = "x-goog-upload-url, x-goog-upload-control-url, x-goog-upload-status"


def _log(request: Request, stored: Upload, account: Account, push_id: str | None, tenant: str | None) -> None:
    sim(request).control.uploads.append(
        {
            "time": time.time(),
            "ref": stored.ref,
            "name": stored.name,
            "mime": stored.mime,
            "size": len(stored.data),
            "sha256": stored.sha256,
            "account": account.kind.value,
            "account_id": account.public_id,
            "push_id": push_id,
            "tenant": tenant,
            "protocol": "multipart" if request.url.path == "/upload" else "resumable",
            "origin": request.headers.get("origin"),
        }
    )


@router.post("/upload")
async def upload(request: Request) -> Response:
    """The multipart form: one part ``file``; answers the ref as text."""
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
    _log(request, stored, account, request.headers.get("push-id"), request.headers.get("x-tenant-id"))
    return PlainTextResponse(stored.ref)


def _allowed_origin(request: Request) -> str | None:
    """The page's origin when it is this server under the other loopback name (or its own)."""
    origin = request.headers.get("origin")
    if not origin:
        return None
    parts = urlsplit(origin)
    host = request.url.hostname or ""
    same_port = parts.port == request.url.port
    return origin if same_port and parts.hostname in (host, LOOPBACK_TWINS.get(host)) else None


def _cors(request: Request, response: Response) -> Response:
    origin = _allowed_origin(request)
    if origin is not None:
        response.headers["access-control-allow-origin"] = origin
        response.headers["access-control-allow-credentials"] = "true"
        response.headers["access-control-expose-headers"] = _EXPOSED
        response.headers["vary"] = "Origin"
    return response


@router.options("/upload/")
async def upload_preflight(request: Request) -> Response:
    response = Response(status_code=204)
    if _allowed_origin(request) is not None:
        asked = request.headers.get("access-control-request-headers", "")
        response.headers["access-control-allow-methods"] = "POST, OPTIONS"
        response.headers["access-control-allow-headers"] = asked
        response.headers["access-control-max-age"] = "600"
        if request.headers.get("access-control-request-private-network") == "true":
            response.headers["access-control-allow-private-network"] = "true"
    return _cors(request, response)


def _uploader(request: Request) -> Account:
    """The cookies' account, else the one the page's session token names (see simulator/uploads.py)."""
    account = account_of(request)
    if account.signed_in:
        return account
    named = sim(request).upload_sessions.account(request.query_params.get(SESSION_PARAM, ""))
    return named if named is not None else account


def _refuse(request: Request, status: int, message: str) -> Response:
    return _cors(request, PlainTextResponse(message, status_code=status))


@router.post("/upload/")
async def resumable(request: Request) -> Response:
    command = request.headers.get("x-goog-upload-command", "")
    steps = {step.strip() for step in command.split(",")}
    if steps == {"start"}:
        return await _start(request)
    if steps == {"upload", "finalize"}:
        return await _finalize(request)
    return _refuse(request, 400, f"unsupported x-goog-upload-command {command!r}")


async def _start(request: Request) -> Response:
    if request.headers.get("x-goog-upload-protocol") != "resumable":
        return _refuse(request, 400, "x-goog-upload-protocol must be resumable")
    declared = request.headers.get("x-goog-upload-header-content-length", "")
    if not declared.isdigit():
        return _refuse(request, 400, "x-goog-upload-header-content-length is required")
    body = (await request.body()).decode("utf-8", errors="replace")
    name = body.removeprefix("File name: ").strip() if body.startswith("File name: ") else "file"
    pending = sim(request).uploads.start(
        _uploader(request),
        name or "file",
        request.headers.get("x-goog-upload-header-content-type", "application/octet-stream"),
        int(declared),
        request.headers.get("push-id"),
        request.headers.get("x-tenant-id"),
    )
    target = f"{base_url(request)}/upload/?upload_id={pending.upload_id}&upload_protocol=resumable"
    response = Response(status_code=200)
    response.headers["x-goog-upload-url"] = target
    response.headers["x-goog-upload-control-url"] = target
    response.headers["x-goog-upload-status"] = "active"
    return _cors(request, response)


async def _finalize(request: Request) -> Response:
    state = sim(request)
    if request.headers.get("x-goog-upload-offset") != "0":
        return _refuse(request, 400, "x-goog-upload-offset must be 0 (one chunk)")
    pending = state.uploads.finish(request.query_params.get("upload_id", ""))
    if pending is None:
        return _refuse(request, 404, "no such upload session")
    data = await request.body()
    if pending.size is not None and pending.size != len(data):
        return _refuse(request, 400, f"declared {pending.size} bytes, received {len(data)}")
    await asyncio.sleep(state.settings.upload_delay)  # the page's spinner shows meanwhile
    stored = state.uploads.add(pending.name, pending.mime, data, pending.account.public_id)
    _log(request, stored, pending.account, pending.push_id, pending.tenant)
    response = PlainTextResponse(stored.ref)
    response.headers["x-goog-upload-status"] = "final"
    return _cors(request, response)
