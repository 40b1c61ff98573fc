"""``/healthz`` (the process answers) and ``/readyz`` (the shared state answers, with
``state.backend: redis``, and at least one account can take a turn now; 503 naming why not).
Neither needs a key: they say nothing about accounts beyond counts by state."""

from __future__ import annotations

from collections import Counter

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from service.state import GatewayDep

__all__ = ["router"]

router = APIRouter()

_READY_STATES = frozenset({"ready", "busy"})


@router.get("/healthz")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(gateway: GatewayDep) -> JSONResponse:
    accounts = gateway.backend.accounts()
    states = Counter("paused" if account.paused else str(account.state) for account in accounts)
    ready = sum(count for state, count in states.items() if state in _READY_STATES)
    body: dict[str, object] = {"accounts": dict(sorted(states.items())), "ready": ready}
    if gateway.stores is not None and not await gateway.stores.reachable():
        reason = "the shared state (state.redis_url) does not answer"
        return JSONResponse({"status": "not_ready", "reason": reason, **body}, status_code=503)
    if ready:
        return JSONResponse({"status": "ready", **body})
    if not accounts:
        reason = "no account in the pool: add one (admin API or configuration)"
    else:
        reason = "no account ready: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    return JSONResponse({"status": "not_ready", "reason": reason, **body}, status_code=503)
