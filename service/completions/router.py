"""HTTP route of the legacy completions slice (HTTP only: the logic lives in
``service.completions.serving``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from service.completions.protocol import CompletionRequest
from service.state import CallerDep, GatewayDep
from service.streaming import EventStreamResponse, cancel_on_disconnect

__all__ = ["router"]

router = APIRouter()


@router.post("/completions", response_model=None)
async def completions(
    body: CompletionRequest, request: Request, gateway: GatewayDep, caller: CallerDep
) -> Response:
    service = gateway.completions
    settings = gateway.settings
    if body.stream:
        service.plan(body)  # every refusal is an HTTP error, before the stream opens
        return EventStreamResponse(
            service.stream(body, caller.identity),
            keep_alive=settings.keep_alive_interval,
            cleanup_timeout=settings.stop_timeout,
        )
    work = service.create(body, caller.identity)
    result = await cancel_on_disconnect(work, request.receive, cleanup_timeout=settings.stop_timeout)
    return JSONResponse(result.dump())
