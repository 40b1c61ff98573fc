"""The dashboard's live-view sign-in on the real stack (simulator + BrowserPool + uvicorn): the
WebSocket's admission (admin key or the dashboard's session from its own origin; nothing else),
one live view per account, the view's tab released when the operator leaves; and the operator's
whole path in real Chromium: the dashboard's "Sign in" button, the live-view page, typing into it
through its own listeners (email, Enter, password, Enter) until the account is ready and answers a
chat. The typed password never reaches the gateway's log records."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from browser import BrowserPool
from service.pool_adapter import BrowserBackend
from tests.conftest import NewContext
from tests.e2e.conftest import KEY_A, WAIT, Stack, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_KEY = "adm-live-e2e-key-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A gateway without configured accounts: each test adds the ones it signs in."""
    with running_stack(
        tmp_path_factory.mktemp("e2e-live"), (), admin_keys=(SecretStr(ADMIN_KEY),)
    ) as running:
        yield running


def add_signed_out(stack: Stack, name: str) -> None:
    """An account whose cookie the simulator knows as signed out (a session that ended)."""
    added = httpx.post(
        stack.url + "/admin/accounts",
        json={"name": name, "psid": f"nobody-{uuid.uuid4().hex[:12]}"},
        headers=ADMIN,
        timeout=60,
    )
    assert added.status_code == 201, added.text
    assert added.json()["state"] == "signed_out"


def account(stack: Stack, name: str) -> dict[str, Any]:
    got = httpx.get(f"{stack.url}/admin/accounts/{name}", headers=ADMIN, timeout=10)
    assert got.status_code == 200, got.text
    result: dict[str, Any] = got.json()
    return result


def ws_url(stack: Stack, name: str, prefix: str = "/admin") -> str:
    return stack.url.replace("http://", "ws://") + f"{prefix}/accounts/{name}/live"


@pytest.fixture
def remove_after(live_stack: Stack) -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        httpx.delete(f"{live_stack.url}/admin/accounts/{name}", headers=ADMIN, timeout=60)


async def next_text(socket: ClientConnection, *, sizes: bool = False) -> dict[str, Any]:
    """The next JSON message (frames skipped, and size messages unless ``sizes``)."""
    while True:
        message = await asyncio.wait_for(socket.recv(), WAIT)
        if isinstance(message, str):
            result: dict[str, Any] = json.loads(message)
            if sizes or result["type"] != "size":
                return result


async def first_frame(socket: ClientConnection) -> bytes:
    while True:
        message = await asyncio.wait_for(socket.recv(), WAIT)
        if isinstance(message, bytes):
            return message


async def closed_with(socket: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(socket.recv(), WAIT)
    received = closed.value.rcvd
    assert received is not None
    return received.code, received.reason


async def test_the_socket_wants_the_admin_key(live_stack: Stack, remove_after: list[str]) -> None:
    add_signed_out(live_stack, "gate")
    remove_after.append("gate")
    for headers in ({}, {"Authorization": f"Bearer {KEY_A}"}, {"Authorization": "Bearer wrong"}):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(ws_url(live_stack, "gate"), additional_headers=headers):
                pass
        assert refused.value.response.status_code == 403, headers

    # The dashboard's session counts from the dashboard's own origin only.
    async with httpx.AsyncClient() as client:
        signed = await client.post(f"{live_stack.url}/admin/ui/login", data={"key": ADMIN_KEY}, timeout=10)
    assert signed.status_code == 303
    cookie = {"Cookie": f"gateway_admin={signed.cookies['gateway_admin']}"}
    with pytest.raises(InvalidStatus) as refused:
        # Another port of the same host: same site (SameSite=Strict lets the cookie go), not ours.
        async with connect(
            ws_url(live_stack, "gate"), additional_headers=cookie, origin=Origin("http://localhost:1")
        ):
            pass
    assert refused.value.response.status_code == 403
    own = Origin(live_stack.url)
    async with connect(ws_url(live_stack, "gate"), additional_headers=cookie, origin=own) as socket:
        assert await next_text(socket) == {"type": "status", "state": "open"}
        frame = await first_frame(socket)
        assert frame.startswith(b"\xff\xd8")
    # The server sees the socket close, then closes the view's tab: one view at a time meanwhile.
    await _wait(lambda: "gate" not in _pool(live_stack).live_views(), "the view to close")
    # The admin key itself, under the other prefix too.
    async with connect(
        ws_url(live_stack, "gate", "/gemini_official/admin"), additional_headers=ADMIN
    ) as socket:
        assert await next_text(socket) == {"type": "status", "state": "open"}


async def test_one_view_per_account_and_unknown_accounts(live_stack: Stack, remove_after: list[str]) -> None:
    add_signed_out(live_stack, "busy")
    remove_after.append("busy")
    async with connect(ws_url(live_stack, "nobody-here"), additional_headers=ADMIN) as socket:
        assert await closed_with(socket) == (4404, "No account 'nobody-here'.")
    async with connect(ws_url(live_stack, "busy"), additional_headers=ADMIN) as first:
        assert (await next_text(first))["state"] == "open"
        size = await next_text(first, sizes=True)
        assert size["type"] == "size" and size["width"] > 0 and size["height"] > 0
        async with connect(ws_url(live_stack, "busy"), additional_headers=ADMIN) as second:
            assert await closed_with(second) == (4409, "A live view of 'busy' is open already.")
        # A message the protocol does not know is answered, never quoted; the view stays open.
        await first.send(json.dumps({"type": "shout", "text": "hunter2-secret"}))
        refused = await next_text(first)
        assert refused == {"type": "error", "message": "unknown input message type"}
        await first.send("not json hunter2-secret")
        assert "hunter2" not in (await next_text(first))["message"]
    # The operator left: the view's tab is closed and the account free for another view.
    await _wait(lambda: "busy" not in _pool(live_stack).live_views(), "the view to close")
    assert not any("/ServiceLogin" in url for url in _tabs(live_stack, "busy"))
    async with connect(ws_url(live_stack, "busy"), additional_headers=ADMIN) as again:
        assert (await next_text(again))["state"] == "open"


def _pool(stack: Stack) -> BrowserPool:
    backend = stack.backends[0]
    assert isinstance(backend, BrowserBackend)
    return backend.pool


def _tabs(stack: Stack, name: str) -> list[str]:
    context = _pool(stack)._accounts[name].context
    assert context is not None
    return [page.url for page in context.pages]


def _sign_in_tab(stack: Stack, name: str) -> Page:
    context = _pool(stack)._accounts[name].context
    assert context is not None
    return next(page for page in context.pages if "/ServiceLogin" in page.url or "/signin" in page.url)


async def _open_live_page(stack: Stack, new_context: NewContext, name: str, *, new: bool = False) -> Page:
    """The operator: the dashboard with the admin key, then the account's "Sign in" button; or,
    ``new``, the form "Sign in inside the gateway" that creates the account and opens its view."""
    page = await (await new_context(viewport={"width": 1400, "height": 1000})).new_page()
    await page.goto(stack.url + "/admin/ui")
    await page.fill("input[name=key]", ADMIN_KEY)
    await page.click("button[type=submit]")
    if new:
        form = page.locator("#add-sign-in-inside")
        await form.locator("input[name=name]").fill(name)
        await form.locator("button[type=submit]").click()
    else:
        row = page.locator(f'tr[data-account="{name}"]')
        await expect(row).to_contain_text("signed_out")
        await row.locator("a.sign-in").click()
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "open", timeout=WAIT * 1000)
    screen = page.locator("#live-screen")
    await expect(screen).not_to_have_attribute("data-frames", "0", timeout=WAIT * 1000)
    return page


async def _in_gateway(tab: Page, work: Any) -> Any:
    """Run ``work`` (a coroutine on a page of the gateway's pool) on the gateway's own loop."""
    loop: asyncio.AbstractEventLoop = tab._impl_obj._loop  # the loop uvicorn serves the gateway on
    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))


async def _click_on_view(page: Page, stack: Stack, name: str, selector: str) -> None:
    """Click in the live view where the account's page shows ``selector``, as the operator sees it."""
    tab = _sign_in_tab(stack, name)
    box = await _in_gateway(tab, tab.locator(selector).bounding_box())
    viewport = tab.viewport_size
    assert box is not None and viewport is not None
    screen = page.locator("#live-screen")
    shown = await screen.bounding_box()
    assert shown is not None
    x = (box["x"] + box["width"] / 2) * shown["width"] / viewport["width"]
    y = (box["y"] + box["height"] / 2) * shown["height"] / viewport["height"]
    await screen.click(position={"x": x, "y": y})


async def _value(stack: Stack, name: str, selector: str) -> str:
    tab = _sign_in_tab(stack, name)
    return str(await _in_gateway(tab, tab.locator(selector).input_value()))


async def _until_value(stack: Stack, name: str, selector: str, expected: str) -> None:
    await _until(lambda: _value(stack, name, selector), expected, f"the field to hold {expected!r}")


async def _until(read: Callable[[], Awaitable[Any]], expected: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while (value := await read()) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}: {value!r}")
        await asyncio.sleep(0.05)


async def test_the_live_page_forwards_the_operators_input(
    live_stack: Stack, new_context: NewContext, remove_after: list[str]
) -> None:
    """Clicks, typing, named keys and paste through the page's own listeners reach the account's tab."""
    add_signed_out(live_stack, "typing")
    remove_after.append("typing")
    page = await _open_live_page(live_stack, new_context, "typing")
    await _click_on_view(page, live_stack, "typing", "input[type=email]")
    await page.keyboard.type("op@example.co")
    await page.keyboard.press("Shift+ArrowLeft")
    await page.keyboard.press("Backspace")
    await _until_value(live_stack, "typing", "input[type=email]", "op@example.c")
    # A paste: the clipboard's text, inserted at the caret.
    await page.evaluate(
        """() => {
            const data = new DataTransfer();
            data.setData("text/plain", "om");
            document.getElementById("live-screen").dispatchEvent(
                new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
        }"""
    )
    await _until_value(live_stack, "typing", "input[type=email]", "op@example.com")
    await page.keyboard.press("Control+a")
    await page.keyboard.type("x")
    await _until_value(live_stack, "typing", "input[type=email]", "x")
    tab = _sign_in_tab(live_stack, "typing")
    await _in_gateway(
        tab, tab.evaluate("window.wheels = []; addEventListener('wheel', e => wheels.push(e.deltaY))")
    )
    await page.mouse.wheel(0, 200)
    await _until(lambda: _in_gateway(tab, tab.evaluate("wheels")), [200], "the wheel to reach the page")
    # A reload: the new page's view opens once the old one has closed (the page waits for it).
    await page.reload()
    await expect(page.locator("#live-status")).to_have_attribute("data-state", "open", timeout=WAIT * 1000)
    # Leaving the page closes the socket, and with it the account's view tab.
    await page.close()
    await _wait(lambda: "typing" not in _pool(live_stack).live_views(), "the view to close")


async def _wait(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith("simulator"):  # Google's side, not the gateway's
            self.lines.append(self.format(record))


@pytest.fixture
def gateway_log() -> Iterator[_Records]:
    """Every record the gateway writes (DEBUG and up), formatted with exceptions, while the test runs."""
    records = _Records()
    records.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root, server = logging.getLogger(), logging.getLogger("uvicorn.error")
    levels = root.level, server.level
    root.addHandler(records)
    uvicorn = logging.getLogger("uvicorn")  # uvicorn's own config keeps its lines from the root
    uvicorn.addHandler(records)
    # uvicorn at DEBUG, as ``log_level: DEBUG`` sets it: the websockets library then logs the wire.
    root.setLevel(logging.DEBUG)
    server.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(records)
        uvicorn.removeHandler(records)
        root.setLevel(levels[0])
        server.setLevel(levels[1])


async def test_the_socket_ends_when_the_page_is_signed_in(live_stack: Stack, remove_after: list[str]) -> None:
    """The page lands on the app signed in (here: the jar set and the app opened, as the sign-in's
    last answer does): the socket says so, the account is re-checked with its new session, the
    socket closes with 1000 and the account serves."""
    add_signed_out(live_stack, "landed")
    remove_after.append("landed")
    async with connect(ws_url(live_stack, "landed"), additional_headers=ADMIN) as socket:
        assert (await next_text(socket))["state"] == "open"
        tab = _sign_in_tab(live_stack, "landed")
        jar = [{"name": "__Secure-1PSID", "value": f"paid-{uuid.uuid4().hex[:12]}", "domain": "localhost"}]
        await _in_gateway(tab, tab.context.add_cookies([{**c, "path": "/", "secure": True} for c in jar]))
        await _in_gateway(tab, tab.goto(f"{live_stack.sim_url}/app"))
        assert await next_text(socket) == {"type": "status", "state": "signed_in"}
        ended = await next_text(socket)
        assert ended == {"type": "ended", "reason": "signed_in", "account_state": "ready"}
        assert await closed_with(socket) == (1000, "signed in")
    assert account(live_stack, "landed")["state"] == "ready"
    assert "landed" not in _pool(live_stack).live_views()


async def test_the_operator_signs_an_account_in_from_the_dashboard(
    live_stack: Stack, new_context: NewContext, remove_after: list[str], gateway_log: _Records
) -> None:
    """Issue 19 item 6: the operator in real Chromium, through the live-view page's own listeners,
    against the simulator's sign-in flow (email, password); the account becomes ready and a chat is
    answered by it; the password is in no log record of the gateway."""
    run = uuid.uuid4().hex[:10]
    # The page sends a keystroke a message: a log of messages would hold the password a character at
    # a time, so the password carries a character no log line of the gateway has otherwise.
    email, password = f"operator-{run}@example.com", f"Pw^{run}^not-logged"
    async with httpx.AsyncClient() as client:
        made = await client.post(
            f"{live_stack.sim_url}/_sim/users",
            json={"email": email, "password": password, "kind": "paid", "otp": None, "verify": False},
            timeout=10,
        )
        assert made.status_code in (200, 201), made.text
    # A new account, made by the dashboard's "Sign in inside the gateway": a profile account whose
    # empty profile starts signed out; the session signed in below lives in that profile.
    remove_after.append("operator")
    page = await _open_live_page(live_stack, new_context, "operator", new=True)
    assert account(live_stack, "operator")["signin_method"] == "signed_in_inside"

    await _click_on_view(page, live_stack, "operator", "#identifierId")
    await page.keyboard.type(email)
    await page.keyboard.press("Enter")
    await _wait(lambda: "/challenge/pwd" in " ".join(_tabs(live_stack, "operator")), "the password page")
    await _click_on_view(page, live_stack, "operator", "input[name=Passwd]")
    await page.keyboard.type(password)
    await page.keyboard.press("Enter")

    status = page.locator("#live-status")
    await expect(status).to_have_attribute("data-state", "signed_in", timeout=WAIT * 3000)
    await expect(status).to_contain_text("the account is ready")
    assert account(live_stack, "operator")["state"] == "ready"
    # The session lives in the account's own Chromium profile (its cookie database is there).
    assert list((live_stack.settings.data_dir / "profiles" / "operator").glob("**/Cookies"))
    async with httpx.AsyncClient() as client:
        signins = (await client.get(f"{live_stack.sim_url}/_sim/signins", timeout=10)).json()
        assert [s["outcome"] for s in signins if s["email"] == email] == ["signed_in"]
        answered = await client.post(
            f"{live_stack.url}/v1/chat/completions",
            json={"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": f"after {run}"}]},
            headers={"Authorization": f"Bearer {KEY_A}"},
            timeout=90,
        )
    assert answered.status_code == 200, answered.text
    served = [entry for entry in live_stack.sim_requests() if run in json.dumps(entry)]
    assert served and served[-1]["account"] == "paid", "answered by the account signed in"
    assert account(live_stack, "operator")["turns_served"] >= 1
    assert gateway_log.lines, "the gateway logged nothing: the check below would prove nothing"
    assert not [line for line in gateway_log.lines if password in line or "^" in line]
    # Nor the dashboard session that opened the socket (its handshake's Cookie header).
    [session] = [c["value"] for c in await page.context.cookies() if c["name"] == "gateway_admin"]
    assert not [line for line in gateway_log.lines if session in line]
