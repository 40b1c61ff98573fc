"""Test control under ``/_sim/`` (not part of Google's surface): behaviours, config, logs, reset."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field, ValidationError

from simulator.control import BehaviourRequest
from simulator.routes.common import sim

router = APIRouter(prefix="/_sim")


@router.post("/behaviours")
async def queue_behaviours(request: Request, body: BehaviourRequest) -> dict[str, Any]:
    sim(request).control.enqueue(body)
    return {"queued": len(body.behaviours)}


@router.post("/config")
async def configure(request: Request, changes: dict[str, Any]) -> dict[str, Any]:
    state = sim(request)
    unknown = sorted(set(changes) - set(type(state.settings).model_fields))
    if unknown:
        raise HTTPException(status_code=422, detail=f"unknown settings: {unknown}")
    try:
        updated = type(state.settings).model_validate({**state.settings.model_dump(), **changes})
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail=exc.errors(include_url=False)) from exc
    state.configure(updated)
    return state.settings.model_dump()


@router.get("/config")
async def current_config(request: Request) -> dict[str, Any]:
    return sim(request).settings.model_dump()


@router.get("/requests")
async def requests_log(request: Request) -> list[dict[str, Any]]:
    return sim(request).control.requests


@router.delete("/requests")
async def clear_requests(request: Request) -> dict[str, bool]:
    sim(request).control.requests.clear()
    return {"cleared": True}


@router.get("/uploads")
async def uploads_log(request: Request) -> list[dict[str, Any]]:
    return sim(request).control.uploads


@router.delete("/uploads")
async def clear_uploads(request: Request) -> dict[str, bool]:
    sim(request).control.uploads.clear()
    return {"cleared": True}


@router.get("/rotations")
async def rotations_log(request: Request) -> list[dict[str, Any]]:
    return sim(request).control.rotations


@router.delete("/rotations")
async def clear_rotations(request: Request) -> dict[str, bool]:
    sim(request).control.rotations.clear()
    return {"cleared": True}


@router.get("/rpcs")
async def rpcs_log(request: Request) -> list[dict[str, Any]]:
    return sim(request).control.rpcs


@router.delete("/rpcs")
async def clear_rpcs(request: Request) -> dict[str, bool]:
    sim(request).control.rpcs.clear()
    return {"cleared": True}


class GemSpec(BaseModel):
    name: str = Field(min_length=1)
    description: str = ""
    prompt: str = ""


class GemsRequest(BaseModel):
    """``account`` is an account kind (``paid``: every account of that kind) or one 1PSID value."""

    account: str = Field(min_length=1)
    gems: list[GemSpec]


@router.post("/gems")
async def add_gems(request: Request, body: GemsRequest) -> dict[str, Any]:
    """Custom Gems an account made on gems.google (protocol.md §8: CNgdBe kind 2 lists them)."""
    book = sim(request).gems
    added = [book.add(body.account, spec.name, spec.description, spec.prompt) for spec in body.gems]
    return {"gems": [{"id": gem.id, "name": gem.name} for gem in added]}


@router.post("/reset")
async def reset(request: Request) -> dict[str, bool]:
    sim(request).reset()
    return {"reset": True}
