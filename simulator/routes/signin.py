"""Google's sign-in flow (accounts.google.com) and the binding of the session it makes to a device key.

Evidence: fidelity.md A4 (``ServiceLogin``, ``/v3/signin/...`` sign in; ``/v3/signin/challenge`` is
"Verify it's you"), page.md §1.15 (sign-in refused in a browser the page sees as automated: "Couldn't
sign you in — This browser or app may not be secure"), protocol.md §1.4 (device-bound sessions). The
contract is docs/simulator-contract.md ("Sign-in and device-bound sessions").

A flow in progress is named by the ``TL`` token its pages carry (Google's pages carry one too).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from simulator.accounts import SESSION_COOKIE, TICKET_COOKIE
from simulator.dbsc import ProofError, public_key_from_jwk, verified_claims
from simulator.page.signin_flow import (
    bind_page,
    identifier_page,
    password_page,
    rejected_page,
    totp_page,
    verify_page,
)
from simulator.routes.account import safe_continue
from simulator.routes.common import session_of, sim
from simulator.sessions import Session, SessionBook, SignInFlow

router = APIRouter()

# The jar a signed-in browser holds (contract, Pages 5): the PSIDs are httponly like Google's.
JAR_NAMES = ("SID", "HSID", "SSID", "APISID", "SAPISID", "__Secure-3PSID", "SIDCC")
HTTPONLY = frozenset({SESSION_COOKIE, TICKET_COOKIE, "__Secure-3PSID", "HSID", "SSID", "SID"})


def session_jar(session: Session, book: SessionBook) -> dict[str, str]:
    """Every cookie of the session's jar by name, the newest ticket included."""
    jar = {SESSION_COOKIE: session.psid, TICKET_COOKIE: book.newest_ticket(session)}
    for name in JAR_NAMES:
        jar[name] = f"{name.lower().strip('_')}-{session.public_id}"
    return jar


def set_jar(response: Response, jar: dict[str, str]) -> None:
    for name, value in jar.items():
        response.set_cookie(
            name,
            value,
            path="/",
            secure=True,
            httponly=name in HTTPONLY,
            samesite="none",
            max_age=400 * 86400,
        )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _flow(request: Request, token: str | None) -> SignInFlow | None:
    return sim(request).sessions.flows.get(token or "")


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _restart(target: str = "/app") -> Response:
    return _see_other(f"/v3/signin/identifier?continue={quote(target, safe='')}")


@router.get("/ServiceLogin")
@router.get("/v3/signin/identifier")
async def identifier(request: Request) -> Response:
    return HTMLResponse(identifier_page(safe_continue(request.query_params.get("continue"))))


@router.post("/v3/signin/identifier")
async def identifier_submit(request: Request) -> Response:
    form = await _form(request)
    book = sim(request).sessions
    target = safe_continue(form.get("continue"))
    email = form.get("identifier", "").strip()
    webdriver = form.get("webdriver") or None
    agent = request.headers.get("user-agent", "")
    if webdriver == "true":
        book.log_attempt(email, "rejected", webdriver, agent)
        return _see_other("/v3/signin/rejected")
    user = book.user(email)
    if user is None:
        book.log_attempt(email, "unknown_email", webdriver, agent)
        return HTMLResponse(identifier_page(target, "Couldn't find your Google Account"))
    token = book.start_flow(
        SignInFlow(email=user.email, target=target, webdriver=webdriver, user_agent=agent)
    )
    return _see_other(f"/v3/signin/challenge/pwd?TL={token}")


@router.get("/v3/signin/rejected")
async def rejected() -> Response:
    return HTMLResponse(rejected_page())


@router.get("/v3/signin/challenge/pwd")
async def password(request: Request) -> Response:
    token = request.query_params.get("TL")
    flow = _flow(request, token)
    if flow is None or flow.stage != "password":
        return _restart()
    return HTMLResponse(password_page(token or "", flow.email))


def _next_step(request: Request, token: str, flow: SignInFlow) -> Response:
    """After a passed step: the user's TOTP, then their "Verify it's you", then success."""
    user = sim(request).sessions.user(flow.email)
    if user is None:
        return _restart(flow.target)
    if flow.stage == "password" and user.otp is not None:
        flow.stage = "totp"
        return _see_other(f"/v3/signin/challenge/totp?TL={token}")
    if flow.stage in ("password", "totp") and user.verify:
        flow.stage = "verify"
        return _see_other(f"/v3/signin/challenge/verify?TL={token}&continue={quote(flow.target, safe='')}")
    return _signed_in(request, token, flow)


def _signed_in(request: Request, token: str, flow: SignInFlow) -> Response:
    """Success: a bound session, its jar set, and the success page that makes the device key."""
    book = sim(request).sessions
    user = book.user(flow.email)
    assert user is not None
    book.flows.pop(token, None)
    session = book.create(user.kind, bound=True, email=user.email, password=user.password)
    book.log_attempt(flow.email, "signed_in", flow.webdriver, flow.user_agent)
    response = _see_other(f"/v3/signin/bind?continue={quote(flow.target, safe='')}")
    set_jar(response, session_jar(session, book))
    return response


@router.post("/v3/signin/challenge/pwd")
async def password_submit(request: Request) -> Response:
    form = await _form(request)
    token = form.get("TL", "")
    flow = _flow(request, token)
    if flow is None or flow.stage != "password":
        return _restart()
    book = sim(request).sessions
    user = book.user(flow.email)
    if user is None or form.get("Passwd") != user.password:
        book.log_attempt(flow.email, "wrong_password", flow.webdriver, flow.user_agent)
        return HTMLResponse(
            password_page(token, flow.email, "Wrong password. Try again or click Forgot password.")
        )
    return _next_step(request, token, flow)


@router.get("/v3/signin/challenge/totp")
async def totp(request: Request) -> Response:
    token = request.query_params.get("TL", "")
    flow = _flow(request, token)
    if flow is None or flow.stage != "totp":
        return _restart()
    return HTMLResponse(totp_page(token))


@router.post("/v3/signin/challenge/totp")
async def totp_submit(request: Request) -> Response:
    form = await _form(request)
    token = form.get("TL", "")
    flow = _flow(request, token)
    if flow is None or flow.stage != "totp":
        return _restart()
    book = sim(request).sessions
    user = book.user(flow.email)
    if user is None or form.get("totpPin", "").strip() != user.otp:
        book.log_attempt(flow.email, "wrong_code", flow.webdriver, flow.user_agent)
        return HTMLResponse(totp_page(token, "Wrong code. Try again."))
    return _next_step(request, token, flow)


@router.get("/v3/signin/challenge/verify")
async def verify(request: Request) -> Response:
    """ "Verify it's you": the last step of a sign-in (``TL``), or forced on a running session."""
    target = safe_continue(request.query_params.get("continue"))
    token = request.query_params.get("TL", "")
    flow = _flow(request, token)
    if flow is not None and flow.stage == "verify":
        return HTMLResponse(verify_page(flow.email, flow.target, flow=token))
    session = session_of(request)
    if session is None or not session.verify_pending:
        return _see_other(target) if session is not None else _restart(target)
    return HTMLResponse(verify_page(session.email, target))


@router.post("/v3/signin/challenge/verify")
async def verify_submit(request: Request) -> Response:
    form = await _form(request)
    token = form.get("TL", "")
    target = safe_continue(form.get("continue"))
    book = sim(request).sessions
    flow = _flow(request, token)
    if flow is not None and flow.stage == "verify":
        user = book.user(flow.email)
        if user is None or form.get("Passwd") != user.password:
            book.log_attempt(flow.email, "wrong_password", flow.webdriver, flow.user_agent)
            return HTMLResponse(verify_page(flow.email, flow.target, token, "Wrong password. Try again."))
        return _signed_in(request, token, flow)
    session = session_of(request)
    if session is None:
        return _restart(target)
    if form.get("Passwd") != session.password:
        return HTMLResponse(verify_page(session.email, target, error="Wrong password. Try again."))
    session.verify_pending = False
    return _see_other(target)


@router.get("/v3/signin/bind")
async def bind(request: Request) -> Response:
    target = safe_continue(request.query_params.get("continue"))
    session = session_of(request)
    if session is None or session.key is not None:
        return _see_other(target)
    return HTMLResponse(bind_page(session.registration_nonce, target))


@router.post("/RegisterBoundSession")
async def register_bound_session(request: Request, body: dict[str, Any]) -> Response:
    """Binds the session the cookies name to the page's device key, proven by a JWT over the nonce
    its success page was given (our own path: the evidence does not show Google's registration)."""
    session = session_of(request)
    if session is None or not session.bound:
        return JSONResponse({"error": "no bound session"}, status_code=401)
    if session.key is not None:
        return JSONResponse({"error": "already registered"}, status_code=409)
    try:
        key = public_key_from_jwk(body.get("key"))
        claims = verified_claims(str(body.get("jwt", "")), key)
    except ProofError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    if claims.get("challenge") != session.registration_nonce:
        return JSONResponse({"error": "wrong challenge"}, status_code=400)
    session.key = key
    return JSONResponse({"registered": True})
