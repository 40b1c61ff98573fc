"""The dashboard at ``/admin/ui``: server-rendered HTML (Jinja2 templates in ``templates/``, inline
SVG charts from ``charts.py``, no front-end build, nothing fetched from elsewhere) behind the admin key.

A login form trades the admin key for a session cookie. The page shows the last hour overall and per
account (requests and errors per minute, time to first token and answer time at p50/p95, the queue,
cooldowns with their reset times, the last errors with their request ids), refreshed in place every
few seconds from ``/admin/ui/panels``; every account with a screenshot of its page and buttons to
check, pause, resume and remove it and to list its Gems again, its Gems with their models and
aliases, how its session was signed in, its age and last cookie rotation, and, when it needs a
person, why and what to do; a box to add one by pasting cookies; the
keys with their usage and scopes. Light and dark themes (the system's, or the toggle's choice), and
a layout for phones. No cookie value is ever rendered: the paste box is always sent back empty, and
screenshots are named by account id (a name or a digest of the session, never the cookie).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from browser import CookieFormatError
from service.activity import BUCKET_SECONDS, Series
from service.admin.auth import SESSION_COOKIE, SESSION_TTL, check_admin
from service.admin.charts import Chart, counts_chart, latency_chart, sparkline
from service.admin.cookies import spec_from_paste
from service.admin.deps import AdminDep, CatalogDep, OpsDep
from service.admin.live import add_for_sign_in
from service.admin.operations import Operations
from service.admin.remote import all_accounts, local_accounts, refuse_remote, replicas_out
from service.admin.wire import AccountOut, KeyOut, account_out, key_out
from service.catalog import Catalog
from service.errors import AuthenticationFailed, InvalidRequest, ServiceError
from service.key_scopes import SCOPES

__all__ = ["router"]

router = APIRouter()

BASE = "/admin/ui"
SCREENSHOT_REFRESH_MS = 5000
PANELS_REFRESH_MS = 10000
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
}


def _when(at: float | None) -> str:
    if at is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def _until(at: float, now: float) -> str:
    left = at - now
    if left <= 0:
        return "now"
    minutes, seconds = divmod(int(left), 60)
    hours, minutes = divmod(minutes, 60)
    return f"in {hours} h {minutes} min" if hours else f"in {minutes} min {seconds} s"


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _pair(values: tuple[float | None, float | None]) -> str:
    return " / ".join(_seconds(value) for value in values)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    minutes = int(seconds) // 60
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


_METHODS = {
    "signed_in_inside": "signed in inside the gateway",
    "profile_import": "imported profile",
    "cookie_import": "imported cookies",
}
_REASONS = {
    "expired": "session expired",
    "verify": '"Verify it\'s you"',
    "signed_out": "signed out",
    "consent": "cookie consent",
    "terms": "terms to accept",
    "captcha": "captcha",
    "region": "region not served",
}


def _limits(key: KeyOut) -> str:
    limits = []
    if key.per_minute:
        limits.append(f"{key.per_minute}/min")
    if key.max_concurrent:
        limits.append(f"{key.max_concurrent} at once")
    return ", ".join(limits) or "—"


_TEMPLATES = Environment(
    loader=PackageLoader("service.admin", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEMPLATES.filters.update(
    when=_when,
    until=_until,
    pair=_pair,
    limits=_limits,
    age=_age,
    seconds=_seconds,
    method=lambda value: _METHODS.get(value, value),
    reason=lambda value: _REASONS.get(value, value),
)


@dataclass(frozen=True)
class _AccountRow:
    id: str
    name: str
    state: str
    series: Series
    chart: Chart
    cooldowns: list[tuple[str, float]]


def _render(template: str, status: int = 200, **values: Any) -> HTMLResponse:
    document = _TEMPLATES.get_template(template).render(base=BASE, **values)
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _login(error: str | None = None, status: int = 200) -> HTMLResponse:
    return _render("login.html.j2", status, title="Gateway admin: sign in", error=error)


def _panels(ops: Operations, accounts: list[AccountOut]) -> dict[str, Any]:
    """What ``panels.html.j2`` shows: the last hour, overall and per account."""
    view = ops.metrics.activity.view()
    step, start = BUCKET_SECONDS, view.start
    overall = view.overall
    rows = []
    for account in accounts:
        series = view.accounts.get(account.id) or _quiet(view.overall)
        chart = counts_chart(
            f"account-{account.id}",
            "",
            series.requests,
            series.errors,
            start=start,
            step=step,
            labels=("turns", "failed"),
            compact=True,
        )
        cooldowns = sorted(account.cooling_until.items(), key=lambda item: item[1])
        rows.append(
            _AccountRow(
                account.id,
                account.name,
                "paused" if account.paused else account.state,
                series,
                chart,
                cooldowns,
            )
        )
    states = Counter("paused" if a.paused else a.state for a in accounts)
    return {
        "overall": overall,
        "queue_now": view.queue_now,
        "now": view.now,
        "states": ", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "none",
        "account_rows": rows,
        "errors": view.errors,
        "charts": {
            "requests": counts_chart(
                "requests",
                "Requests and errors per minute",
                overall.requests,
                overall.errors,
                start=start,
                step=step,
            ),
            "first_token": latency_chart(
                "first-token",
                "Time to first token",
                overall.first_token_p50,
                overall.first_token_p95,
                start=start,
                step=step,
            ),
            "queue": sparkline(
                "queue", "Turns waiting for an account", overall.queue, start=start, step=step
            ),
        },
    }


def _quiet(like: Series) -> Series:
    """An account without turns in the last hour: zeros over the same minutes."""
    zeros = tuple(0 for _ in like.requests)
    nothing = tuple(None for _ in like.requests)
    return Series(zeros, zeros, zeros, nothing, nothing, (None, None), (None, None))


async def _accounts(ops: Operations, catalog: Catalog) -> list[AccountOut]:
    """This replica's accounts (the panels' metrics are this replica's own)."""
    return await local_accounts(ops.accounts, catalog)


async def _dashboard(
    ops: Operations,
    catalog: Catalog,
    *,
    error: str | None = None,
    notice: str | None = None,
    new_key: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    local = await _accounts(ops, catalog)
    # Replicas on one Redis: every account of the cluster, the others' as their owners reported them.
    accounts = await all_accounts(ops.accounts, catalog)
    replicas = await replicas_out(ops.accounts)
    now = ops.now()
    keys = [key_out(r, now=now, active=await ops.keys.active(r.id)) for r in await ops.keys.list()]
    return _render(
        "dashboard.html.j2",
        status,
        title="Gemini gateway admin",
        error=error,
        notice=notice,
        new_key=new_key,
        accounts=accounts,
        local_ids={account.id for account in local},
        replicas=replicas,
        keys=keys,
        scopes=SCOPES,
        screenshot_ms=SCREENSHOT_REFRESH_MS,
        panels_ms=PANELS_REFRESH_MS,
        **_panels(ops, local),
    )


def _signed_in(request: Request, ops: Operations) -> bool:
    try:
        check_admin(request, ops.settings.admin_keys, ops.sessions)
    except AuthenticationFailed:
        return False
    return True


@router.get("")
@router.get("/")
async def dashboard(request: Request, ops: OpsDep, catalog: CatalogDep) -> HTMLResponse:
    if not _signed_in(request, ops):
        return _login()
    return await _dashboard(ops, catalog)


@router.get("/panels")
async def panels(ops: AdminDep, catalog: CatalogDep) -> HTMLResponse:
    """The live part of the dashboard, for the page to refresh in place."""
    return _render("panels.html.j2", **_panels(ops, await _accounts(ops, catalog)))


@router.post("/login")
async def login(request: Request, ops: OpsDep) -> Response:
    form = await request.form()
    key = form.get("key")
    try:
        check_admin(
            _with_key(request, key if isinstance(key, str) else ""), ops.settings.admin_keys, ops.sessions
        )
    except AuthenticationFailed as exc:
        return _login(exc.message, status=401)
    response = RedirectResponse(BASE, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        ops.sessions.open(),
        max_age=int(SESSION_TTL),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def _with_key(request: Request, key: str) -> Request:
    scope = dict(request.scope)
    scope["headers"] = [(b"authorization", f"Bearer {key}".encode())] if key else []
    return Request(scope)


@router.post("/logout")
async def logout(request: Request, ops: OpsDep) -> Response:
    ops.sessions.close(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(BASE, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


@router.post("/accounts")
async def add_account(request: Request, ops: AdminDep, catalog: CatalogDep) -> Response:
    form = await request.form()
    try:
        spec = spec_from_paste(
            _text(form.get("cookies")) or "",
            name=_text(form.get("name")),
            psidts=_text(form.get("psidts")),
            proxy=_text(form.get("proxy")),
        )
        info = await ops.accounts.add(spec)
    except CookieFormatError as exc:
        return await _dashboard(ops, catalog, error=f"The cookies cannot be read: {exc}", status=400)
    except ServiceError as exc:
        return await _dashboard(ops, catalog, error=exc.message, status=_status(exc))
    return await _dashboard(ops, catalog, notice=f"Account {info.id} added: {info.state.value}.", status=201)


@router.post("/accounts/sign-in-inside")
async def add_for_sign_in_inside(request: Request, ops: AdminDep, catalog: CatalogDep) -> Response:
    """ "Add account → Sign in inside the gateway": a new account by name, then its live view."""
    form = await request.form()
    name = _text(form.get("name"))
    try:
        if name is None:
            raise InvalidRequest("An account signed in inside the gateway needs a name.")
        info = await add_for_sign_in(ops, name)
    except ServiceError as exc:
        return await _dashboard(ops, catalog, error=exc.message, status=_status(exc))
    return RedirectResponse(f"{BASE}/accounts/{quote(info.id, safe='')}/live", status_code=303)


@router.get("/accounts/{account_id}/live")
async def live_page(account_id: str, ops: AdminDep, catalog: CatalogDep) -> HTMLResponse:
    """The live view of one account's page: frames from, and input to, ``WS /admin/accounts/{id}/live``."""
    await refuse_remote(ops.accounts, account_id)
    info = ops.accounts.get(account_id)
    return _render(
        "live.html.j2",
        title=f"Sign in {info.name}",
        account=account_out(
            info,
            added=account_id in await ops.accounts.added_ids(),
            catalog=catalog,
            owner=ops.accounts.owner(account_id),
        ),
        ws_path=f"/admin/accounts/{quote(info.id, safe='')}/live",
    )


@router.post("/accounts/{account_id}/{action}")
async def account_action(account_id: str, action: str, ops: AdminDep, catalog: CatalogDep) -> Response:
    try:
        if action != "remove" or account_id not in await ops.accounts.added_ids():
            # Another replica's account: refused naming its owner (an added one is removed from any).
            await refuse_remote(ops.accounts, account_id)
        if action == "check":
            await ops.accounts.backend.check_account(account_id)
        elif action == "gems":  # re-list the account's Gems now, its page left as it is
            await ops.accounts.backend.refresh_gems(account_id)
        elif action == "pause":
            await ops.accounts.backend.pause_account(account_id)
        elif action == "resume":
            await ops.accounts.backend.resume_account(account_id)
        elif action == "remove":
            await ops.accounts.remove(account_id)
        else:
            raise InvalidRequest(f"Unknown action {action!r}.")
    except ServiceError as exc:
        return await _dashboard(ops, catalog, error=exc.message, status=_status(exc))
    return RedirectResponse(BASE, status_code=303)


@router.get("/accounts/{account_id}/screenshot.png")
async def screenshot(account_id: str, ops: AdminDep) -> Response:
    await refuse_remote(ops.accounts, account_id)
    png = await ops.accounts.backend.screenshot(account_id)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/keys")
async def create_key(request: Request, ops: AdminDep, catalog: CatalogDep) -> Response:
    form = await request.form()
    name = _text(form.get("name"))
    try:
        if name is None:
            raise InvalidRequest("A key needs a name.")
        hours = _number(form.get("expires_hours"), "expires_hours")
        accounts = _text(form.get("accounts"))
        created = await ops.keys.create(
            name,
            expires_at=ops.now() + hours * 3600 if hours else None,
            max_concurrent=_whole(form.get("max_concurrent"), "max_concurrent"),
            per_minute=_whole(form.get("per_minute"), "per_minute"),
            accounts=tuple(a.strip() for a in accounts.split(",") if a.strip()) if accounts else None,
            scopes=[value for value in form.getlist("scopes") if isinstance(value, str)] or None,
        )
    except ServiceError as exc:
        return await _dashboard(ops, catalog, error=exc.message, status=_status(exc))
    notice = f"Key {created.record.name} created. Copy it now, it is not shown again:"
    return await _dashboard(ops, catalog, notice=notice, new_key=created.key, status=201)


@router.post("/keys/{key_id}/scopes")
async def set_key_scopes(key_id: str, request: Request, ops: AdminDep, catalog: CatalogDep) -> Response:
    form = await request.form()
    text = _text(form.get("scopes")) or ""
    try:
        changed = await ops.keys.set_scopes(key_id, [part for part in text.split(",") if part.strip()])
    except ServiceError as exc:
        return await _dashboard(ops, catalog, error=exc.message, status=_status(exc))
    if changed is None:
        return await _dashboard(ops, catalog, error=f"No key {key_id!r}.", status=404)
    return RedirectResponse(BASE, status_code=303)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: str, ops: AdminDep, catalog: CatalogDep) -> Response:
    if await ops.keys.revoke(key_id) is None:
        return await _dashboard(ops, catalog, error=f"No key {key_id!r}.", status=404)
    return RedirectResponse(BASE, status_code=303)


def _number(value: object, field: str) -> float | None:
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        raise InvalidRequest(f"{field} must be a number.", param=field) from None
    if not math.isfinite(number):
        raise InvalidRequest(f"{field} must be a finite number.", param=field)
    if number < 0:
        raise InvalidRequest(f"{field} must not be negative.", param=field)
    return number


def _whole(value: object, field: str) -> int | None:
    number = _number(value, field)
    if number is None:
        return None
    if number < 1 or number != int(number):
        raise InvalidRequest(f"{field} must be a whole number of at least 1.", param=field)
    return int(number)


def _status(exc: ServiceError) -> int:
    from service.errors import status_and_type

    return status_and_type(exc)[0]
