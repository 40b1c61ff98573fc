"""HTTP routes of the Responses slice (HTTP only: the logic lives in ``service.responses.serving``):
``POST /responses``, ``GET`` and ``DELETE /responses/{id}``, ``POST /responses/{id}/cancel`` and
``GET /responses/{id}/input_items``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.responses.convert import ResponsesRequest
from service.responses.items import item_list
from service.responses.serving import ResponsesService
from service.state import CallerDep, GatewayDep
from service.streaming import EventStreamResponse, OpenEventStreamResponse, cancel_on_disconnect
from service.temporary import HEADER, asked

__all__ = ["ListQuery", "ListQueryDep", "ServiceDep", "router"]

router = APIRouter()


def get_service(gateway: GatewayDep) -> ResponsesService:
    return gateway.responses


ServiceDep = Annotated[ResponsesService, Depends(get_service)]


@dataclass(frozen=True)
class ListQuery:
    """OpenAI's list parameters (``service.responses.items.item_list``)."""

    limit: int
    order: Literal["asc", "desc"]
    after: str | None


def list_query(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Literal["asc", "desc"] = "desc",
    after: str | None = None,
) -> ListQuery:
    return ListQuery(limit, order, after)


ListQueryDep = Annotated[ListQuery, Depends(list_query)]


@router.post("/responses", response_model=None)
async def create_response(
    body: ResponsesRequest, request: Request, gateway: GatewayDep, caller: CallerDep, service: ServiceDep
) -> Response:
    body.temporary = asked(field=body.temporary, metadata=body.metadata, header=request.headers.get(HEADER))
    prepared = await service.prepare(body, caller.identity)
    settings = gateway.settings
    if body.background:
        run = await service.start_background(prepared, caller.identity)
        if not body.stream:
            return JSONResponse(prepared.shaper.body())
        # The stream follows the run; a client that goes away leaves the run going.
        return OpenEventStreamResponse(
            run.follow(None),  # type: ignore[arg-type]
            keep_alive=settings.keep_alive_interval,
            cleanup_timeout=settings.stop_timeout,
        )
    if body.stream:
        return EventStreamResponse(
            service.stream(prepared, caller.identity),  # type: ignore[arg-type]
            keep_alive=settings.keep_alive_interval,
            cleanup_timeout=settings.stop_timeout,
        )
    work = service.create(prepared, caller.identity)
    return JSONResponse(
        await cancel_on_disconnect(work, request.receive, cleanup_timeout=settings.stop_timeout)
    )


@router.get("/responses/{response_id}", response_model=None)
async def get_response(
    response_id: str,
    caller: CallerDep,
    service: ServiceDep,
    gateway: GatewayDep,
    stream: bool = False,
    starting_after: int | None = None,
) -> Response:
    if stream:
        events = await service.follow(caller.identity, response_id, starting_after)
        settings = gateway.settings
        return OpenEventStreamResponse(
            events,  # type: ignore[arg-type]
            keep_alive=settings.keep_alive_interval,
            cleanup_timeout=settings.stop_timeout,
        )
    return JSONResponse((await service.stored(caller.identity, response_id)).body)


@router.delete("/responses/{response_id}", response_model=None)
async def delete_response(response_id: str, caller: CallerDep, service: ServiceDep) -> Response:
    await service.delete(caller.identity, response_id)
    return JSONResponse({"id": response_id, "object": "response.deleted", "deleted": True})


@router.post("/responses/{response_id}/cancel", response_model=None)
async def cancel_response(response_id: str, caller: CallerDep, service: ServiceDep) -> Response:
    return JSONResponse(await service.cancel(caller.identity, response_id))


@router.get("/responses/{response_id}/input_items", response_model=None)
async def list_input_items(
    response_id: str, caller: CallerDep, service: ServiceDep, page: ListQueryDep
) -> Response:
    await service.stored(caller.identity, response_id)
    items = await asyncio.to_thread(service.store.input_items, caller.identity, response_id)
    return JSONResponse(item_list(items, limit=page.limit, order=page.order, after=page.after))
