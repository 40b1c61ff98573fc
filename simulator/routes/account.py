"""Account-side pages: cookie rotation (plain and device-bound), the captcha wall and the consent wall.

The sign-in pages are in ``simulator/routes/signin.py``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from html import escape
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from simulator.accounts import CONSENT_COOKIE, TICKET_COOKIE, Account
from simulator.dbsc import ProofError, verified_claims
from simulator.routes.common import account_of, session_of, sim
from simulator.sessions import Session, SessionBook

router = APIRouter()

CHALLENGE_HEADER = "Sec-Session-Google-Challenge"
RESPONSE_HEADER = "Sec-Session-Google-Response"
PAGE_RESPONSE_HEADER = "Session-Google-Response"


def _ticket_cookie(response: Response, ticket: str) -> None:
    response.set_cookie(TICKET_COOKIE, ticket, path="/", secure=True, httponly=True, samesite="none")


def _log_rotation(request: Request, account: Account, *, bound: bool) -> int:
    log = sim(request).control.rotations
    count = len(log) + 1
    log.append(
        {
            "time": time.time(),
            "account": account.kind.value,
            "account_id": account.public_id,
            "n": count,
            "bound": bound,
        }
    )
    return count


@router.post("/RotateCookies")
async def rotate_cookies(request: Request) -> Response:
    """A fresh ``__Secure-1PSIDTS`` per call for signed-in visitors; 401 when signed out.

    A bound session gets only a new ``SIDCC`` here: its ticket comes from ``/RotateBoundCookies``
    alone (protocol.md §1.4), so a copy of its cookies cannot keep itself alive this way."""
    account = account_of(request)
    if not account.signed_in:
        return PlainTextResponse("", status_code=401)
    state = sim(request)
    session = session_of(request)
    if session is not None and session.revoked:
        return PlainTextResponse("", status_code=401)
    response = PlainTextResponse(')]}\'\n\n[["identity.hfcr",600]]')
    if session is not None and session.bound:
        response.set_cookie("SIDCC", "sidcc-" + secrets.token_hex(20), path="/", secure=True, samesite="none")
        return response
    count = _log_rotation(request, account, bound=False)
    if session is not None:
        ticket = state.sessions.issue_ticket(session)
        session.rotations += 1
    else:
        ticket = (
            "sidts-"
            + hashlib.sha256(f"{account.public_id}:{count}:{time.time_ns()}".encode()).hexdigest()[:40]
        )
    _ticket_cookie(response, ticket)
    return response


def _challenge(session: Session, book: SessionBook) -> Response:
    nonce = book.new_challenge(session)
    return PlainTextResponse(
        "",
        status_code=401,
        headers={CHALLENGE_HEADER: f"session_id=sidts_session; challenge={nonce}"},
    )


@router.get("/RotateBoundCookies")
async def rotate_bound_cookies(request: Request) -> Response:
    """DBSC refresh (protocol.md §1.4): 401 with ``Sec-Session-Google-Challenge``, then the same
    request with a JWT over the challenge, signed by the session's device key, gets a new ticket. A
    stale ticket does not matter (the key is the proof); a revoked session gets no challenge.

    Chrome sends the proof as ``Sec-Session-Google-Response``; the simulated page's script (which may
    not set ``Sec-`` headers) sends it as ``Session-Google-Response``."""
    session = session_of(request)
    if session is None or not session.bound or session.revoked:
        return PlainTextResponse("", status_code=401)
    book = sim(request).sessions
    proof = request.headers.get(RESPONSE_HEADER) or request.headers.get(PAGE_RESPONSE_HEADER)
    if not proof or session.key is None:
        return _challenge(session, book)
    try:
        claims = verified_claims(proof, session.key)
    except ProofError:
        return _challenge(session, book)
    if not book.take_challenge(session, str(claims.get("challenge", ""))):
        return _challenge(session, book)
    ticket = book.issue_ticket(session)
    session.rotations += 1
    _log_rotation(request, account_of(request), bound=True)
    response = PlainTextResponse("")
    _ticket_cookie(response, ticket)
    return response


def safe_continue(target: str | None) -> str:
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
    response = RedirectResponse(safe_continue(target if isinstance(target, str) else None), status_code=303)
    if form.get("set_eom") != "false":
        response.set_cookie(CONSENT_COOKIE, "YES+cb.20261118-07-p0.en+FX+410", path="/", secure=True)
    return response
