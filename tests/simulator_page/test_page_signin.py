"""Google's sign-in flow and device-bound sessions in real Chromium (docs/simulator-contract.md,
"Sign-in and device-bound sessions").

A browser launched without the automation switch (``--disable-blink-features=AutomationControlled``:
``navigator.webdriver`` false) signs in through every step and keeps its session alive with its
device key; Playwright's plain launch (``navigator.webdriver`` true) is refused; a copy of a bound jar
without the key dies after ``bound_ticket_lifetime``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, Playwright

from tests.conftest import CHROMIUM_ARGS, CHROMIUM_PATH, NewContext
from tests.simulator_page.pagekit import UI_TIMEOUT_MS, account_id, wait_rpc
from tests.support.pacing import PACING
from tests.support.servers import serve

USER = {
    "email": "grace@example.com",
    "password": "hopper-1906",
    "kind": "paid",
    "otp": "314159",
    "verify": True,
}
UNAUTOMATED = [*CHROMIUM_ARGS, "--disable-blink-features=AutomationControlled"]
SIGNIN_TIMEOUT_MS = 30_000
DAY_S = 86_400
ROTATION_S = 600.0
WAIT_S = 120.0
# The device key as the page keeps it: a CryptoKeyPair in the origin's IndexedDB.
KEY_IN_STORE = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open("sim-dbsc");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
        const get = open.result.transaction("keys").objectStore("keys").get("device");
        get.onsuccess = () => resolve({
            extractable: get.result.privateKey.extractable,
            curve: get.result.privateKey.algorithm.namedCurve,
        });
    };
})"""  # bound on every poll of the control API (a simulated day is 24 s at 3600)


@pytest.fixture(scope="module")
def signin_url() -> Iterator[str]:
    """A simulator of our own: these tests change the clock's scale."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    with serve(create_app(SimulatorSettings.model_validate(PACING))) as url:
        yield url


@pytest.fixture
def base(signin_url: str) -> str:
    httpx.post(f"{signin_url}/_sim/reset", timeout=10).raise_for_status()
    return signin_url


@pytest.fixture(scope="module")
async def unautomated(playwright: Playwright) -> AsyncIterator[Browser]:
    browser = await playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=UNAUTOMATED)
    try:
        yield browser
    finally:
        await browser.close()


@pytest.fixture
async def person(unautomated: Browser) -> AsyncIterator[BrowserContext]:
    """A context in the browser a person would use (nothing tells the page it is automated)."""
    context = await unautomated.new_context()
    try:
        yield context
    finally:
        await context.close()


async def _control(base: str, method: str, path: str, **kwargs: Any) -> Any:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.request(method, f"{base}/_sim/{path}", **kwargs)
    response.raise_for_status()
    return response.json()


async def _session(base: str, public_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as client:
        sessions = (await client.get(f"{base}/_sim/sessions")).json()
    [found] = [s for s in sessions if s["public_id"] == public_id]
    return dict(found)


async def _wait_session(base: str, public_id: str, key: str, check: Any) -> dict[str, Any]:
    async with asyncio.timeout(WAIT_S):
        while not check((view := await _session(base, public_id))[key]):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    return view


async def _psid(context: BrowserContext) -> str:
    [value] = [c["value"] for c in await context.cookies() if c["name"] == "__Secure-1PSID"]
    return value


async def _sign_in(page: Page, base: str, user: dict[str, Any]) -> None:
    """Every step as a person does it: type, click (or Enter) and wait for the next page."""
    page.set_default_timeout(SIGNIN_TIMEOUT_MS)
    await page.goto(f"{base}/ServiceLogin?continue=%2Fapp", wait_until="domcontentloaded")
    await page.locator("#identifierId").fill(user["email"])
    await page.locator("#identifierNext").click()
    await page.wait_for_url("**/v3/signin/challenge/pwd?**")
    await page.locator("input[name=Passwd]").fill(user["password"])
    await page.locator("#passwordNext").click()
    if user.get("otp"):
        await page.wait_for_url("**/v3/signin/challenge/totp?**")
        await page.locator("#totpPin").fill(user["otp"])
        await page.locator("#totpNext").click()
    if user.get("verify"):
        await page.wait_for_url("**/v3/signin/challenge/verify?**")
        assert await page.locator("h1").inner_text() == "Verify it's you"
        await page.locator("input[name=Passwd]").fill(user["password"])
        await page.locator("#verifyNext").click()
    await page.wait_for_url(f"{base}/app")
    await page.wait_for_selector("body[data-ready=true]", state="attached")


async def test_a_person_signs_in_through_every_step_and_the_key_is_registered(
    person: BrowserContext, base: str
) -> None:
    await _control(base, "POST", "users", json=USER)
    page = await person.new_page()
    assert await page.evaluate("navigator.webdriver") is False
    await _sign_in(page, base, USER)
    assert await page.locator('a[aria-label^="Google Account:"]').count() == 1
    psid = await _psid(person)
    session = await _session(base, account_id(psid))
    assert (
        session["bound"]
        and session["key_registered"]
        and session["alive"]
        and session["email"] == USER["email"]
    )
    names = {c["name"] for c in await person.cookies()}
    assert {"__Secure-1PSID", "__Secure-1PSIDTS", "SAPISID", "SIDCC"} <= names
    [attempt] = await _control(base, "GET", "signins")
    assert attempt["outcome"] == "signed_in" and attempt["webdriver"] is False
    assert await page.evaluate(KEY_IN_STORE) == {"extractable": False, "curve": "P-256"}
    [status] = await wait_rpc(base, psid, "otAQ7b")
    assert status["account"] == "paid" and status["outcome"] == "ok"
    # The page rotated once through the device key before its first RPC.
    assert (await _session(base, account_id(psid)))["rotations"] >= 1


async def test_playwrights_own_launch_is_refused_and_logged(new_context: NewContext, base: str) -> None:
    await _control(base, "POST", "users", json=USER)
    context = await new_context()
    page = await context.new_page()
    page.set_default_timeout(SIGNIN_TIMEOUT_MS)
    assert await page.evaluate("navigator.webdriver") is True
    await page.goto(f"{base}/v3/signin/identifier?continue=%2Fapp", wait_until="domcontentloaded")
    await page.locator("#identifierId").fill(USER["email"])
    await page.locator("#identifierId").press("Enter")
    await page.wait_for_url("**/v3/signin/rejected")
    assert "This browser or app may not be secure" in await page.locator("body").inner_text()
    [attempt] = await _control(base, "GET", "signins")
    assert attempt["outcome"] == "rejected" and attempt["webdriver"] is True
    assert "Chrome" in attempt["user_agent"]
    assert not [c for c in await context.cookies() if c["name"] == "__Secure-1PSID"]


async def test_a_forced_challenge_walls_the_app_until_the_password_and_expire_kills(
    person: BrowserContext, base: str
) -> None:
    user = {**USER, "otp": None, "verify": False}
    await _control(base, "POST", "users", json=user)
    page = await person.new_page()
    await _sign_in(page, base, user)
    public_id = account_id(await _psid(person))
    await _control(base, "POST", f"sessions/{public_id}/challenge")
    await page.goto(f"{base}/app", wait_until="domcontentloaded")
    await page.wait_for_url("**/v3/signin/challenge/verify?continue=%2Fapp")
    await page.locator("input[name=Passwd]").fill("not it")
    await page.locator("#verifyNext").click()
    await page.locator("text=Wrong password").wait_for()
    await page.locator("input[name=Passwd]").fill(user["password"])
    await page.locator("#verifyNext").click()
    await page.wait_for_url(f"{base}/app")
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    psid = await _psid(person)
    await _control(base, "POST", f"sessions/{public_id}/expire")
    await page.reload(wait_until="domcontentloaded")
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    statuses = await wait_rpc(base, psid, "otAQ7b", count=3)
    assert [s["account"] for s in statuses] == ["paid", "paid", "expired"]
    session = await _session(base, public_id)
    assert session["revoked"] and not session["alive"]


def _playwright_jar(exported: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An export's jar as the gateway imports it for the simulator's host."""
    return [
        {
            "name": c["name"],
            "value": c["value"],
            "domain": "localhost",
            "path": "/",
            "secure": True,
            "httpOnly": c["httpOnly"],
        }
        for c in exported
    ]


async def _imported(new_context: NewContext, base: str, bound: bool) -> tuple[str, Page]:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(f"{base}/_sim/sessions", json={"kind": "paid", "bound": bound})
    response.raise_for_status()
    context = await new_context()
    await context.add_cookies(_playwright_jar(response.json()))  # type: ignore[arg-type]
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    return response.headers["x-sim-public-id"], page


async def _reload_status(page: Page, base: str, psid: str, count: int) -> str:
    await page.goto(f"{base}/app", wait_until="domcontentloaded")
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    return str((await wait_rpc(base, psid, "otAQ7b", count=count))[-1]["account"])


async def test_a_signed_in_browser_lives_through_a_day_while_a_copied_bound_jar_dies(
    person: BrowserContext, new_context: NewContext, base: str
) -> None:
    user = {**USER, "otp": None, "verify": False}
    await _control(base, "POST", "users", json=user)
    # A simulated day in 8 s of real time (the page rotates as fast as its round trips allow).
    await _control(base, "POST", "config", json={"time_scale": 10800, "rotation_interval": ROTATION_S})
    page = await person.new_page()
    await _sign_in(page, base, user)
    own = account_id(await _psid(person))
    # Imported copies, their pages open and rotating (RotateCookies: they hold no device key).
    bound_id, copy = await _imported(new_context, base, bound=True)
    unbound_id, unbound = await _imported(new_context, base, bound=False)
    for imported in (copy, unbound):
        await imported.goto(f"{base}/app", wait_until="domcontentloaded")
        await imported.wait_for_selector("body[data-ready=true]", state="attached")
    # A simulated day of the page's own rotations (every 600 simulated seconds).
    await _wait_session(base, own, "rotations", lambda n: n >= DAY_S / ROTATION_S)
    assert (await _session(base, own))["alive"]
    # The bound copy died after the lifetime (0.7 s of real time here) although its page kept rotating;
    # the unbound one lives on its RotateCookies tickets.
    assert not (await _session(base, bound_id))["alive"]
    assert await _reload_status(copy, base, await _psid(copy.context), 2) == "expired"
    unbound_view = await _session(base, unbound_id)
    assert unbound_view["alive"] and unbound_view["rotations"] > 0
    assert await _reload_status(unbound, base, await _psid(unbound.context), 2) == "paid"
    assert await _reload_status(page, base, await _psid(person), 2) == "paid"


async def test_the_signing_browser_revives_its_stale_session_after_a_restart(
    playwright: Playwright, base: str, tmp_path: Path
) -> None:
    user = {**USER, "otp": None, "verify": False}
    await _control(base, "POST", "users", json=user)
    profile = tmp_path / "profile"
    options: dict[str, Any] = {"executable_path": CHROMIUM_PATH, "args": UNAUTOMATED}
    browser = await playwright.chromium.launch_persistent_context(profile, **options)
    try:
        page = await browser.new_page()
        await _sign_in(page, base, user)
        psid = await _psid(browser)
    finally:
        await browser.close()
    # While the browser is closed, the ticket it holds grows older than the lifetime.
    await _control(base, "POST", "config", json={"time_scale": 1e6})
    await _wait_session(base, account_id(psid), "alive", lambda alive: alive is False)
    await _control(base, "POST", "config", json={"time_scale": 1.0})
    rotations = (await _session(base, account_id(psid)))["rotations"]
    browser = await playwright.chromium.launch_persistent_context(profile, **options)
    try:
        page = await browser.new_page()
        page.set_default_timeout(UI_TIMEOUT_MS)
        assert await _reload_status(page, base, psid, 2) == "paid", (
            "the device key refreshed it before otAQ7b"
        )
        view = await _session(base, account_id(psid))
        assert view["alive"] and view["rotations"] == rotations + 1
    finally:
        await browser.close()
