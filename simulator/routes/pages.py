"""The app pages (``/app``, ``/app/{cid}``, ``/gem/{slug}``) and the account walls in front of them."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from simulator.accounts import Account, AccountKind
from simulator.page import PageModel, render_app_page
from simulator.routes.common import account_of, continue_url, sim

router = APIRouter()

BUILD_LABEL = "boq_assistant-bard-web-server_20261118.07_p1"
PUSH_ID = "feeds/mcudyrk2a4khkz"


def wall_redirect(request: Request, account: Account) -> Response | None:
    """Captcha and consent accounts never see the app: they are sent to the wall first."""
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
        "simTier": account.tier,
        "simRotationInterval": f"{settings.rotation_interval:g}",
    }
    if account.signed_in:
        wiz["SNlM0e"] = account.xsrf_token
    return wiz


def _page(request: Request, gem: str | None = None, cid: str | None = None) -> Response:
    account = account_of(request)
    redirect = wall_redirect(request, account)
    if redirect is not None:
        return redirect
    chat_view: dict[str, object] | None = None
    missing = False
    if cid is not None:
        chats = sim(request).chats
        chat = chats.get(f"c_{cid}", account.public_id) if account.session_valid else None
        chat_view = chat.page_view() if chat is not None else None
        missing = chat is None
    model = PageModel(
        ui=sim(request).settings.ui,
        tier=account.tier,
        wiz=wiz_data(request, account),
        gem=gem,
        chat=chat_view,
        chat_missing=missing,
        signin_marker_delay=sim(request).settings.signin_marker_delay,
    )
    return HTMLResponse(render_app_page(model))


@router.get("/")
async def root() -> Response:
    return RedirectResponse("/app", status_code=302)


@router.get("/app")
async def app_page(request: Request) -> Response:
    return _page(request)


@router.get("/app/{cid}")
async def chat_page(request: Request, cid: str) -> Response:
    return _page(request, cid=cid.removeprefix("c_"))


@router.get("/gem/{slug}")
async def gem_page(request: Request, slug: str) -> Response:
    return _page(request, gem=slug)
