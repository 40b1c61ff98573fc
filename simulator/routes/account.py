"""Account-side pages: cookie rotation, the captcha wall, the consent wall and the sign-in page."""

from __future__ import annotations

import hashlib
import time
from html import escape
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from simulator.accounts import CONSENT_COOKIE, TICKET_COOKIE
from simulator.routes.common import account_of, sim

router = APIRouter()


@router.post("/RotateCookies")
async def rotate_cookies(request: Request) -> Response:
    """A fresh ``__Secure-1PSIDTS`` per call for signed-in visitors; 401 when signed out."""
    account = account_of(request)
    if not account.signed_in:
        return PlainTextResponse("", status_code=401)
    log = sim(request).control.rotations
    count = len(log) + 1
    ticket = (
        "sidts-" + hashlib.sha256(f"{account.public_id}:{count}:{time.time_ns()}".encode()).hexdigest()[:40]
    )
    log.append(
        {"time": time.time(), "account": account.kind.value, "account_id": account.public_id, "n": count}
    )
    response = PlainTextResponse(')]}\'\n\n[["identity.hfcr",600]]')
    response.set_cookie(TICKET_COOKIE, ticket, path="/", secure=True, httponly=True, samesite="none")
    return response


def _safe_continue(target: str | None) -> str:
    """Only same-site paths are followed, so the walls cannot redirect elsewhere."""
    if not target:
        return "/app"
    parts = urlsplit(target)
    path = parts.path or "/app"
    return path + (f"?{parts.query}" if parts.query else "")


@router.get("/sorry/index")
async def sorry(request: Request) -> Response:
    target = escape(request.query_params.get("continue", ""))
    return HTMLResponse(
        "<!doctype html><html><head><title>Sorry...</title></head><body>"
        "<h1>Sorry...</h1><div id='infoDiv'>Our systems have detected unusual traffic from your computer "
        "network. This page checks to see if it's really you sending the requests, and not a robot.</div>"
        f"<form id='captcha-form' action='/sorry/index' method='get'><input type='hidden' name='continue' "
        f"value='{target}'><div class='g-recaptcha'>I'm not a robot</div></form></body></html>",
        status_code=429,
    )


@router.get("/consent")
async def consent_page(request: Request) -> Response:
    target = escape(request.query_params.get("continue", "/app"))
    return HTMLResponse(
        "<!doctype html><html><head><title>Before you continue to Google</title></head><body>"
        "<h1>Before you continue to Google</h1><p>We use cookies and data to deliver and maintain "
        "Google services.</p><form action='/consent' method='post'>"
        f"<input type='hidden' name='continue' value='{target}'>"
        "<button type='submit' name='set_eom' value='false' aria-label='Reject all'>Reject all</button>"
        "<button type='submit' name='set_eom' value='true' aria-label='Accept all'>Accept all</button>"
        "</form></body></html>"
    )


@router.post("/consent")
async def consent_accept(request: Request) -> Response:
    form = await request.form()
    target = form.get("continue")
    response = RedirectResponse(_safe_continue(target if isinstance(target, str) else None), status_code=303)
    if form.get("set_eom") != "false":
        response.set_cookie(CONSENT_COOKIE, "YES+cb.20261118-07-p0.en+FX+410", path="/", secure=True)
    return response


@router.get("/ServiceLogin")
async def service_login(request: Request) -> Response:
    return HTMLResponse(
        "<!doctype html><html><head><title>Sign in - Google Accounts</title></head><body>"
        "<h1>Sign in</h1><p>to continue to Gemini</p><input type='email' aria-label='Email or phone'>"
        "</body></html>"
    )
