"""The app pages (``/app``, ``/app/<hex>``, ``/gem/{slug}``, ``/gem/{slug}/<hex>``) and the account
walls in front of them.

A chat's page is ``/app/<16 hex>`` (A3: ADM, PWA and VID strip ``c_``); ``/app/c_<hex>`` is not a
chat URL and shows "This chat couldn't be loaded" like any unknown chat (A11).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from simulator.accounts import Account, AccountKind
from simulator.gems import Gem
from simulator.page import PageModel, render_app_page
from simulator.routes.common import account_of, continue_url, session_of, sim
from simulator.uploads import upload_origin

router = APIRouter()

CHAT_ID = re.compile(r"[0-9a-f]{16}")

BUILD_LABEL = "boq_assistant-bard-web-server_20261118.07_p1"
PUSH_ID = "feeds/mcudyrk2a4khkz"


def wall_redirect(request: Request, account: Account) -> Response | None:
    """Captcha and consent accounts never see the app: they are sent to the wall first. A session the
    control API challenged goes to "Verify it's you" until the password is given (A4: INT tells
    ``/v3/signin/challenge`` apart as that wall)."""
    session = session_of(request)
    if session is not None and session.verify_pending and not session.revoked:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"/v3/signin/challenge/verify?continue={quote(here, safe='')}", status_code=302
        )
    target = {AccountKind.CAPTCHA: "/sorry/index", AccountKind.CONSENT: "/consent"}.get(account.kind)
    if target is None:
        return None
    return RedirectResponse(f"{target}?continue={quote(continue_url(request), safe='')}", status_code=302)


def wiz_data(request: Request, account: Account) -> dict[str, str]:
    settings = sim(request).settings
    session = int(hashlib.sha256(f"sid:{account.public_id}".encode()).hexdigest()[:15], 16) - 2**59
    wiz = {
        "cfb2h": BUILD_LABEL,
        "FdrFJe": str(session),
        "TuX5cc": request.query_params.get("hl", "en"),
        "qKIAYe": PUSH_ID,
        "simUi": settings.ui,
        "simTier": account.plan,
        # protocol.md §1.4 (600 s); on the simulated clock, so time_scale shortens it too.
        "simRotationInterval": f"{settings.rotation_interval / settings.time_scale:g}",
    }
    if account.signed_in:
        wiz["SNlM0e"] = account.xsrf_token
    return wiz


def _page(request: Request, gem: str | None = None, chat_id: str | None = None) -> Response:
    account = account_of(request)
    redirect = wall_redirect(request, account)
    if redirect is not None:
        return redirect
    state = sim(request)
    settings = state.settings
    chat_view: dict[str, object] | None = None
    missing = False
    if chat_id is not None:
        known = CHAT_ID.fullmatch(chat_id) is not None and account.session_valid
        chat = state.chats.get(f"c_{chat_id}", account.public_id) if known else None
        if chat is not None and chat.temporary:
            chat = (
                None  # a temporary chat cannot be opened again (docs/simulator-contract.md#temporary-chats)
            )
        chat_view = chat.page_view() if chat is not None else None
        missing = chat is None
    session = state.upload_sessions.open(account) if account.signed_in else ""
    model = PageModel(
        ui=settings.ui,
        plan=account.plan,
        wiz=wiz_data(request, account),
        gem=gem,
        gem_card=_gem_card(state.gems.find(account, gem)) if gem is not None else None,
        chat=chat_view,
        chat_missing=missing,
        signin_marker_delay=settings.signin_marker_delay,
        thinking_control=settings.thinking_control,
        label_fill_delay=settings.label_fill_delay,
        tools_label=settings.tools_label,
        tools_exclusive=settings.tools_exclusive,
        capacity=account.capacity,
        upload_origin=upload_origin(request.url.scheme, request.url.hostname or "", request.url.port),
        upload_session=session,
        temporary_chat=settings.temporary_chat_button,
    )
    return HTMLResponse(render_app_page(model))


def _gem_card(gem: Gem | None) -> tuple[str, str] | None:
    return (gem.name, gem.description) if gem is not None else None


@router.get("/")
async def root() -> Response:
    return RedirectResponse("/app", status_code=302)


@router.get("/app")
async def app_page(request: Request) -> Response:
    return _page(request)


@router.get("/app/{chat_id}")
async def chat_page(request: Request, chat_id: str) -> Response:
    return _page(request, chat_id=chat_id)


@router.get("/gem/{slug}")
async def gem_page(request: Request, slug: str) -> Response:
    return _page(request, gem=slug)


@router.get("/gem/{slug}/{chat_id}")
async def gem_chat_page(request: Request, slug: str, chat_id: str) -> Response:
    """One of a Gem's chats: the chat page with the Gem applied, its turns carrying the gem id."""
    return _page(request, gem=slug, chat_id=chat_id)
