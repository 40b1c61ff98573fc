"""Session health a person can act on (issue 19 item 3), read by the real pool on real Chromium from
the simulator: how an account was signed in, its session's age, its last cookie rotation, and why
it needs a person; all kept across restarts. The reasons come from the evidence: otAQ7b's status
codes (1016 expired, 1040/1042 terms, 1060 region; protocol.md §2.2), the walls and the sign-in
pages by URL (fidelity.md A4: ``/v3/signin/challenge`` is "Verify it's you")."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from browser import AccountInfo, AccountSpec, AccountState, BrowserPool, LaunchMode, NeedsPerson, SigninMethod
from browser._driver import PageDriver, PageState
from browser._health import Rotation, rotation_outcome, session_key
from browser._store import CookieStore
from tests.browser.conftest import PoolOf, Sim, cookie
from tests.browser.test_browser_pool import _settings
from tests.conftest import NewContext
from tests.support.servers import serve

pytestmark = [pytest.mark.browser]

WAIT = 30.0


async def _until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _info(pool: BrowserPool, account_id: str) -> AccountInfo:
    return next(info for info in pool.accounts() if info.id == account_id)


@pytest.mark.parametrize(
    ("kind", "needs", "state"),
    [
        ("expired", NeedsPerson.EXPIRED, AccountState.SIGNED_OUT),  # otAQ7b 1016
        ("terms", NeedsPerson.TERMS, AccountState.BLOCKED),  # otAQ7b 1040
        ("region", NeedsPerson.REGION, AccountState.BLOCKED),  # otAQ7b 1060
        ("consent", NeedsPerson.CONSENT, AccountState.BLOCKED),  # the consent wall
        ("captcha", NeedsPerson.CAPTCHA, AccountState.BLOCKED),  # google.com/sorry
        ("anon", NeedsPerson.SIGNED_OUT, AccountState.SIGNED_OUT),  # a cookie of no session
    ],
)
async def test_each_reason_a_person_is_needed_is_named(
    sim: Sim, tmp_path: Path, pool_of: PoolOf, kind: str, needs: NeedsPerson, state: AccountState
) -> None:
    async with pool_of(_settings(sim.base_url, tmp_path)) as pool:
        before = time.time()
        info = await pool.add_account(AccountSpec(name="acct", psid=cookie(kind)))
        assert (info.state, info.needs_person) == (state, needs.value)
        assert info.needs_person_since is not None and info.needs_person_since >= before
        assert info.session_started_at is None  # never seen working: no age to show
        assert info.signin_method == SigninMethod.COOKIE_IMPORT.value


async def test_session_health_survives_a_restart_and_a_new_session_starts_over(
    sim: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    sim.config(rotation_interval=0.3)  # the page rotates __Secure-1PSIDTS every 0.3 s
    spec = AccountSpec(name="kept", psid=cookie("paid"))
    settings = _settings(sim.base_url, tmp_path)
    async with pool_of(settings) as pool:
        info = await pool.add_account(spec)
        assert (info.state, info.needs_person, info.needs_person_since) == (AccountState.READY, None, None)
        assert info.signin_method == "cookie_import"
        started = info.session_started_at
        assert started is not None
        await _until(lambda: _info(pool, "kept").last_rotation_at is not None, "a rotation noted")
        rotated = _info(pool, "kept").last_rotation_at
        assert rotated is not None
    record = CookieStore(tmp_path).load_session_sync("kept")
    assert record is not None
    assert record.session == session_key(spec.psid) and record.started_at == started
    assert record.last_rotation_at is not None and record.last_rotation_at >= rotated
    # Never the cookie itself: the record names the session by a digest.
    assert spec.psid not in str(record)

    sim.config(rotation_interval=3600)
    async with pool_of(settings) as pool:
        again = await pool.add_account(spec)
        assert again.session_started_at == started  # the same session: its age goes on
        assert again.last_rotation_at == record.last_rotation_at
        assert again.signin_method == "cookie_import"
        # Other cookies under the same name: another session, whose age starts now.
        other = await pool.add_account(AccountSpec(name="kept", psid=cookie("paid")))
        assert other.session_started_at not in (None, started)
        assert other.last_rotation_at is None
        assert other.signin_method == "cookie_import"


async def test_the_reason_and_its_time_are_kept_across_a_restart(
    sim: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    spec = AccountSpec(name="gone", psid=cookie("expired"))
    settings = _settings(sim.base_url, tmp_path)
    store = CookieStore(tmp_path)

    def stored() -> tuple[str | None, float | None]:
        record = store.load_session_sync("gone")
        return (record.needs_person, record.needs_since) if record else (None, None)

    async with pool_of(settings) as pool:
        since = (await pool.add_account(spec)).needs_person_since
        # Stored as it happens, not only at close (a gateway killed now keeps it).
        await _until(lambda: stored() == ("expired", since), "the reason in the store")
    async with pool_of(settings) as pool:
        again = await pool.add_account(spec)
    # Still expired: the same reason since the same time (an alert already sent is not news).
    assert (again.needs_person, again.needs_person_since) == ("expired", since)


async def test_verify_its_you_is_told_apart_from_the_sign_in_page(
    new_context: NewContext, tmp_path: Path
) -> None:
    """fidelity.md A4: a URL under /v3/signin/challenge asks a person to confirm the session; the
    sign-in page (ServiceLogin, /v3/signin/identifier) asks for a new sign-in. A stand-in site
    redirects its app there (the simulator's own pages would send a visitor without a sign-in in
    progress on to the identifier page): the URL decides."""
    sent_to = {"path": ""}

    async def app(request: Request) -> Response:
        return RedirectResponse(sent_to["path"], status_code=302)

    async def elsewhere(request: Request) -> Response:
        return HTMLResponse("<!doctype html><h1>Google</h1>")

    site = Starlette(routes=[Route("/app", app), Route("/{rest:path}", elsewhere)])
    context = await new_context()
    page = await context.new_page()
    with serve(site) as url:
        driver = PageDriver(page, _settings(url, tmp_path))
        for target, expected in [
            ("/v3/signin/challenge/verify?continue=/app", PageState.VERIFY),
            ("/v3/signin/challenge/pwd", PageState.VERIFY),
            ("/v3/signin/identifier?continue=/app", PageState.SIGNED_OUT),
            ("/ServiceLogin?continue=/app", PageState.SIGNED_OUT),
        ]:
            sent_to["path"] = target
            assert await driver.open("/app") is expected, target


async def test_a_session_signed_in_inside_notes_its_device_bound_rotations(
    sim: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    """Signed in in the account's own page (persistent profile: the device key stays in its
    IndexedDB), the page refreshes its ticket through RotateBoundCookies (a 401 challenge, then the
    key-signed retry: protocol.md §1.4); each fresh ticket is the account's last rotation."""
    user = {"email": "health@example.com", "password": "pw-health-1", "kind": "paid"}
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=10) as control:
        (await control.post("/_sim/users", json=user)).raise_for_status()
    sim.config(time_scale=600)  # the page rotates every 600 s / 600 = 1 s
    settings = _settings(sim.base_url, tmp_path, LaunchMode.PERSISTENT)
    async with pool_of(settings) as pool:
        # A new profile account: no cookies, its profile starts signed out.
        spec = AccountSpec(name="inside", signin_method=SigninMethod.SIGNED_IN_INSIDE)
        info = await pool.add_account(spec)
        assert info.needs_person == NeedsPerson.SIGNED_OUT.value
        context = pool._accounts["inside"].context
        assert context is not None
        page = await context.new_page()
        await page.goto(f"{sim.base_url}/ServiceLogin?continue=%2Fapp")
        await page.locator("#identifierId").fill(user["email"])
        await page.locator("#identifierNext").click()
        await page.locator("input[name=Passwd]").fill(user["password"])
        await page.locator("#passwordNext").click()
        await page.wait_for_url(f"{sim.base_url}/app", timeout=WAIT * 1000)
        await page.close()
        info = await pool.check_account("inside")
        assert (info.state, info.needs_person, info.signin_method) == (
            AccountState.READY,
            None,
            "signed_in_inside",
        )
        assert info.session_started_at is not None
        await _until(lambda: _info(pool, "inside").last_rotation_at is not None, "a bound rotation noted")
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=10) as control:
        (session,) = (await control.get("/_sim/sessions")).json()
    assert session["bound"] and session["key_registered"] and session["rotations"] >= 1


async def test_an_idle_account_whose_imported_bound_session_ends_says_why_without_a_turn(
    sim: Sim, tmp_path: Path, pool_of: PoolOf
) -> None:
    """An export of a session bound to another browser's device key cannot be refreshed here
    (protocol.md §1.4, peers-late-2026.md §4.1); the periodic session check reads the idle page again
    and finds it expired (otAQ7b 1016) although no turn was asked."""
    sim.config(time_scale=60, bound_ticket_lifetime=600)  # a ticket lives 10 s here
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=10) as control:
        made = await control.post("/_sim/sessions", json={"kind": "paid", "bound": True})
        made.raise_for_status()
    settings = _settings(sim.base_url, tmp_path, session_check_interval=1.0, health_interval=0.2)
    async with pool_of(settings) as pool:
        info = await pool.add_account(AccountSpec(name="copy", cookies=made.json()))
        assert (info.state, info.needs_person) == (AccountState.READY, None)
        await _until(lambda: _info(pool, "copy").needs_person == "expired", "needs_person=expired")
        info = _info(pool, "copy")
        assert info.status_code == 1016 and info.last_rotation_at is None
    assert not sim.requests(), "no turn was asked"


def test_rotation_answers_are_read_as_the_page_gets_them() -> None:
    """protocol.md §1.4: RotateCookies answers a fresh __Secure-1PSIDTS, 401 when the session is
    dead; RotateBoundCookies answers 401 *with* a challenge as the first step of every refresh."""
    fresh = [("Set-Cookie", "SIDCC=x; path=/\n__Secure-1PSIDTS=sidts-new; path=/; secure")]
    assert rotation_outcome("https://g/RotateCookies", 200, fresh) is Rotation.FRESH
    assert rotation_outcome("https://g/RotateCookies", 200, [("set-cookie", "SIDCC=x")]) is Rotation.OTHER
    assert rotation_outcome("https://g/RotateCookies", 401, []) is Rotation.DEAD
    challenge = [("Sec-Session-Google-Challenge", 'session_id=sidts_session; challenge="n"')]
    assert rotation_outcome("https://g/RotateBoundCookies", 401, challenge) is Rotation.OTHER
    assert rotation_outcome("https://g/RotateBoundCookies", 401, []) is Rotation.DEAD
    assert rotation_outcome("https://g/RotateBoundCookies", 200, fresh) is Rotation.FRESH
    assert rotation_outcome("https://g/app", 401, []) is None
