"""The dashboard at ``/admin/ui``: server-rendered HTML (no front-end build) behind the admin key.

A login form trades the admin key for a session cookie; the page lists every account (state,
reason, tier, counters, a screenshot of its page refreshed every few seconds) with buttons to check,
pause, resume and remove it, a box to add one by pasting cookies, and the keys with their usage.
No cookie value is ever rendered: the paste box is always sent back empty, and screenshots are
named by account id (a name or a digest of the session, never the cookie).
"""

from __future__ import annotations

import html
import math
import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from browser import CookieFormatError
from service.admin.auth import SESSION_COOKIE, SESSION_TTL, check_admin
from service.admin.cookies import spec_from_paste
from service.admin.serving import AdminDep, Operations, OpsDep
from service.admin.wire import AccountOut, KeyOut, account_out, key_out
from service.errors import AuthenticationFailed, InvalidRequest, ServiceError

__all__ = ["router"]

router = APIRouter()

BASE = "/admin/ui"
SCREENSHOT_REFRESH_MS = 5000
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "Referrer-Policy": "no-referrer",
}
_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;text-align:left}
.state-ready{color:#176a1e}.state-signed_out,.state-blocked,.state-failed{color:#a11}
img.shot{width:240px;border:1px solid #999}
.error{background:#fdd;padding:.5rem}.notice{background:#dfd;padding:.5rem}
form.inline{display:inline}
textarea{width:40rem;height:5rem}
"""
_REFRESH = f"""
setInterval(function () {{
  document.querySelectorAll("img.shot").forEach(function (img) {{
    img.src = img.dataset.src + "?t=" + Date.now();
  }});
}}, {SCREENSHOT_REFRESH_MS});
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _login(error: str | None = None, status: int = 200) -> HTMLResponse:
    message = f"<p class=error role=alert>{_e(error)}</p>" if error else ""
    return _page(
        "Gateway admin: sign in",
        f"""<h1>Gemini gateway admin</h1>{message}
<form method=post action="{BASE}/login">
<label>Admin key <input type=password name=key autocomplete=off required></label>
<button type=submit>Sign in</button></form>""",
        status,
    )


def _when(at: float | None) -> str:
    if at is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def _account_row(account: AccountOut) -> str:
    aid = _e(account.id)
    state = "paused" if account.paused else account.state
    cooling = ", ".join(f"{_e(f)} until {_when(u)}" for f, u in account.cooling_until.items()) or "—"
    buttons = "".join(
        f'<form class=inline method=post action="{BASE}/accounts/{aid}/{action}">'
        f"<button type=submit name=action value={action}>{label}</button></form>"
        for action, label in (
            ("check", "Check"),
            ("resume" if account.paused else "pause", "Resume" if account.paused else "Pause"),
            ("remove", "Remove"),
        )
    )
    shot = f"{BASE}/accounts/{aid}/screenshot.png"
    return f"""<tr data-account="{aid}">
<td><b>{_e(account.name)}</b><br><code>{aid}</code><br>{_e(account.source)}</td>
<td class="state-{_e(state)}">{_e(state)}<br><small>{_e(account.reason)}</small></td>
<td>{_e(account.tier)}<br><small>{_e(", ".join(account.models) or ", ".join(account.modes))}</small>
<br><small>tools: {_e(", ".join(account.tools) or "—")}</small></td>
<td>turns served {account.turns_served}<br>active {account.active_turns}<br>cooling {cooling}
<br>cookies saved {_when(account.cookies_saved_at)}</td>
<td>{_e(account.last_error or "—")}<br><small>proxy {_e(account.proxy or "—")}</small></td>
<td><img class=shot alt="page of {aid}" src="{shot}" data-src="{shot}"></td>
<td>{buttons}</td></tr>"""


def _key_row(key: KeyOut) -> str:
    kid = _e(key.id)
    limits = []
    if key.per_minute:
        limits.append(f"{key.per_minute}/min")
    if key.max_concurrent:
        limits.append(f"{key.max_concurrent} at once")
    revoke = (
        f'<form class=inline method=post action="{BASE}/keys/{kid}/revoke">'
        "<button type=submit>Revoke</button></form>"
        if key.state == "live"
        else ""
    )
    return f"""<tr data-key="{kid}"><td><b>{_e(key.name)}</b><br><code>{_e(key.shown)}</code></td>
<td>{_e(key.state)}</td><td>{_e(", ".join(limits) or "—")}</td>
<td>{_e(", ".join(key.accounts) if key.accounts else "all")}</td>
<td>{key.requests} requests<br>{key.active} running<br>last {_when(key.last_used_at)}</td>
<td>expires {_when(key.expires_at)}</td><td>{revoke}</td></tr>"""


def _dashboard(
    ops: Operations, *, error: str | None = None, notice: str = "", status: int = 200
) -> HTMLResponse:
    added = ops.accounts.added_ids()
    accounts = [account_out(info, added=info.id in added) for info in ops.accounts.list()]
    now = ops.now()
    keys = [key_out(r, now=now, active=ops.keys.active(r.id)) for r in ops.keys.list()]
    message = f"<p class=error role=alert>{_e(error)}</p>" if error else ""
    rows = "".join(_account_row(a) for a in accounts) or "<tr><td colspan=7>No account yet.</td></tr>"
    key_rows = "".join(_key_row(k) for k in keys) or "<tr><td colspan=7>No key created here yet.</td></tr>"
    body = f"""<h1>Gemini gateway</h1>
<form class=inline method=post action="{BASE}/logout"><button type=submit>Sign out</button></form>
{message}{notice}
<h2>Accounts</h2>
<table id=accounts><tr><th>Account</th><th>State</th><th>Tier, models</th><th>Counters</th>
<th>Last error</th><th>Page</th><th></th></tr>{rows}</table>
<h3>Add an account</h3>
<form method=post action="{BASE}/accounts" id=add-account autocomplete=off>
<p><label>Name <input name=name pattern="[A-Za-z0-9_.\\-]+" placeholder="optional"></label></p>
<p><label>Cookies<br><textarea name=cookies required spellcheck=false
placeholder="__Secure-1PSID value, a DevTools cookie string, or a JSON/Netscape export">
</textarea></label></p>
<p><label>__Secure-1PSIDTS <input name=psidts type=password placeholder="optional"></label>
<label>Proxy <input name=proxy type=password
placeholder="optional, e.g. socks5://user:pass@host:1080"></label></p>
<button type=submit>Add account</button></form>
<h2>API keys</h2>
<table id=keys><tr><th>Key</th><th>State</th><th>Limits</th><th>Accounts</th><th>Usage</th><th>Expiry</th>
<th></th></tr>{key_rows}</table>
<h3>Create a key</h3>
<form method=post action="{BASE}/keys" id=create-key>
<label>Name <input name=name required></label>
<label>Per minute <input name=per_minute type=number min=1></label>
<label>Concurrent <input name=max_concurrent type=number min=1></label>
<label>Expires in (hours) <input name=expires_hours type=number min=0 step=any></label>
<label>Accounts <input name=accounts placeholder="ids, comma-separated; empty: all"></label>
<button type=submit>Create key</button></form>
<script>{_REFRESH}</script>"""
    return _page("Gemini gateway admin", body, status)


def _signed_in(request: Request, ops: Operations) -> bool:
    try:
        check_admin(request, ops.settings.admin_keys, ops.sessions)
    except AuthenticationFailed:
        return False
    return True


@router.get("")
@router.get("/")
async def dashboard(request: Request, ops: OpsDep) -> HTMLResponse:
    if not _signed_in(request, ops):
        return _login()
    return _dashboard(ops)


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
async def add_account(request: Request, ops: AdminDep) -> Response:
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
        return _dashboard(ops, error=f"The cookies cannot be read: {exc}", status=400)
    except ServiceError as exc:
        return _dashboard(ops, error=exc.message, status=_status(exc))
    notice = f"<p class=notice role=status>Account {_e(info.id)} added: {_e(info.state.value)}.</p>"
    return _dashboard(ops, notice=notice, status=201)


@router.post("/accounts/{account_id}/{action}")
async def account_action(account_id: str, action: str, ops: AdminDep) -> Response:
    try:
        if action == "check":
            await ops.accounts.check(account_id)
        elif action == "pause":
            await ops.accounts.pause(account_id)
        elif action == "resume":
            await ops.accounts.resume(account_id)
        elif action == "remove":
            await ops.accounts.remove(account_id)
        else:
            raise InvalidRequest(f"Unknown action {action!r}.")
    except ServiceError as exc:
        return _dashboard(ops, error=exc.message, status=_status(exc))
    return RedirectResponse(BASE, status_code=303)


@router.get("/accounts/{account_id}/screenshot.png")
async def screenshot(account_id: str, ops: AdminDep) -> Response:
    png = await ops.accounts.screenshot(account_id)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/keys")
async def create_key(request: Request, ops: AdminDep) -> Response:
    form = await request.form()
    name = _text(form.get("name"))
    try:
        if name is None:
            raise InvalidRequest("A key needs a name.")
        hours = _number(form.get("expires_hours"), "expires_hours")
        accounts = _text(form.get("accounts"))
        created = ops.keys.create(
            name,
            expires_at=ops.now() + hours * 3600 if hours else None,
            max_concurrent=_whole(form.get("max_concurrent"), "max_concurrent"),
            per_minute=_whole(form.get("per_minute"), "per_minute"),
            accounts=tuple(a.strip() for a in accounts.split(",") if a.strip()) if accounts else None,
        )
    except ServiceError as exc:
        return _dashboard(ops, error=exc.message, status=_status(exc))
    notice = (
        f"<p class=notice role=status>Key {_e(created.record.name)} created. Copy it now, it is not shown "
        f"again: <code id=new-key>{_e(created.key)}</code></p>"
    )
    return _dashboard(ops, notice=notice, status=201)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: str, ops: AdminDep) -> Response:
    if ops.keys.revoke(key_id) is None:
        return _dashboard(ops, error=f"No key {key_id!r}.", status=404)
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
