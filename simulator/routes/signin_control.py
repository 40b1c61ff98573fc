"""Test control of sign-in under ``/_sim/``: users who may sign in, sessions (signed in here or "on
another device"), a forced "Verify it's you", revocation, and the log of sign-in attempts."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from simulator.dbsc import device_elsewhere
from simulator.routes.common import sim
from simulator.routes.signin import HTTPONLY, session_jar
from simulator.sessions import DEFAULT_PASSWORD, Session, SessionKind, User

router = APIRouter(prefix="/_sim")

# An export lists the jar under Google's domain (the gateway maps it to the simulator's host).
EXPORT_DOMAIN = ".google.com"
EXPORT_LIFETIME_S = 400 * 86400
PUBLIC_ID_HEADER = "X-Sim-Public-Id"


class UserRequest(BaseModel):
    email: str
    password: str
    kind: SessionKind = "paid"
    otp: str | None = None
    verify: bool = False


class SessionRequest(BaseModel):
    kind: SessionKind = "paid"
    bound: bool = True
    email: str | None = None


@router.post("/users")
async def add_user(request: Request, body: UserRequest) -> dict[str, Any]:
    user = User(email=body.email, password=body.password, kind=body.kind, otp=body.otp, verify=body.verify)
    sim(request).sessions.add_user(user)
    return user.view()


@router.get("/users")
async def list_users(request: Request) -> list[dict[str, Any]]:
    return [user.view() for user in sim(request).sessions.users.values()]


@router.post("/sessions")
async def make_session(request: Request, body: SessionRequest) -> JSONResponse:
    """A session "signed in on another device" (bound: its key stays there; the caller never sees it)
    or an unbound one (like a Firefox export); answered as an export lists the jar, its public id in
    ``X-Sim-Public-Id``."""
    book = sim(request).sessions
    password, email = DEFAULT_PASSWORD, ""
    if body.email is not None:
        user = book.user(body.email)
        if user is None:
            raise HTTPException(status_code=422, detail="unknown user")
        password, email = user.password, user.email
    session = book.create(body.kind, bound=body.bound, email=email, password=password)
    if body.bound:
        session.key = device_elsewhere()
    expires = int(time.time()) + EXPORT_LIFETIME_S
    jar = [
        {
            "name": name,
            "value": value,
            "domain": EXPORT_DOMAIN,
            "path": "/",
            "expires": expires,
            "httpOnly": name in HTTPONLY,
            "secure": True,
        }
        for name, value in session_jar(session, book).items()
    ]
    return JSONResponse(jar, headers={PUBLIC_ID_HEADER: session.public_id})


@router.get("/sessions")
async def list_sessions(request: Request) -> list[dict[str, Any]]:
    state = sim(request)
    lifetime = state.settings.bound_ticket_lifetime
    return [state.sessions.view(session, lifetime) for session in state.sessions.sessions.values()]


def _session(request: Request, public_id: str) -> Session:
    session = sim(request).sessions.by_public_id(public_id)
    if session is None:
        raise HTTPException(status_code=404, detail="unknown session")
    return session


@router.post("/sessions/{public_id}/challenge")
async def challenge_session(request: Request, public_id: str) -> dict[str, Any]:
    """The session's next app page load goes to "Verify it's you" until the password is given."""
    _session(request, public_id).verify_pending = True
    return {"public_id": public_id, "verify_pending": True}


@router.post("/sessions/{public_id}/expire")
async def expire_session(request: Request, public_id: str) -> dict[str, Any]:
    """Revoked for good: every request is answered as for ``expired``, no refresh is offered."""
    _session(request, public_id).revoked = True
    return {"public_id": public_id, "revoked": True}


@router.get("/signins")
async def signins(request: Request) -> list[dict[str, Any]]:
    return sim(request).sessions.signins
