"""The live view against the simulator (``browser._live``): frames of the account's own tab at the
sign-in page, the operator's input reaching that tab, one view per account, the tab closed when the
view ends, and no turn ever taking the view's tab."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from playwright.async_api import Page

from browser import (
    AccountSpec,
    AccountState,
    BrowserPool,
    DriverError,
    LaunchMode,
    LiveEnd,
    LiveFrame,
    LiveView,
    LiveViewBusy,
    TurnRequest,
    UnknownAccount,
)
from tests.browser.conftest import Lender, cookie
from tests.browser.test_browser_pool import _settings
from tests.support.pacing import PACING
from tests.support.servers import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAIT = 15.0


@pytest.fixture
async def pool(sim_url: str, tmp_path: Path, lender: Lender) -> AsyncIterator[BrowserPool]:
    async with BrowserPool(_settings(sim_url, tmp_path), **await lender.to()) as running:
        yield running


def _context_pages(pool: BrowserPool, account_id: str) -> list[Page]:
    context = pool._accounts[account_id].context
    assert context is not None
    return context.pages


def _tabs(pool: BrowserPool, account_id: str) -> list[str]:
    context = pool._accounts[account_id].context
    assert context is not None
    return [page.url for page in context.pages]


async def _frame(view: LiveView) -> LiveFrame:
    frame = await asyncio.wait_for(view.next_frame(), WAIT)
    assert frame is not None, "the view ended before a frame came"
    return frame


async def _field_value(pool: BrowserPool, account_id: str) -> str:
    """What the view's tab holds in its email field (read from that tab, the one at ServiceLogin)."""
    context = pool._accounts[account_id].context
    assert context is not None
    page = next(page for page in context.pages if "/ServiceLogin" in page.url)
    return str(await page.locator("input[type=email]").input_value())


async def test_frames_show_the_sign_in_page_and_input_reaches_it(pool: BrowserPool) -> None:
    await pool.add_account(AccountSpec(name="out", psid=cookie("nobody")))
    assert pool.accounts()[0].state is AccountState.SIGNED_OUT
    async with pool.live_view("out") as view:
        frame = await _frame(view)
        assert frame.jpeg.startswith(b"\xff\xd8"), "a JPEG"
        with Image.open(io.BytesIO(frame.jpeg)) as image:
            assert image.size == (frame.width, frame.height)
        assert (frame.width, frame.height) == (1280, 720)
        assert any("/ServiceLogin" in url for url in _tabs(pool, "out"))
        # The email field has no autofocus on this page: click it, as the operator would.
        await view.click(200, 200)  # misses: nothing typed lands
        box = await _email_box(pool, "out")
        await view.click(box[0], box[1])
        for char in "op@example.com":
            await view.key(char)
        await view.key("ArrowLeft", ("Shift",))
        await view.key("Backspace")
        await view.paste("m")
        assert await _field_value(pool, "out") == "op@example.com"
        await view.key("a", ("Control",))
        await view.type_text("x@y")
        assert await _field_value(pool, "out") == "x@y"
        tab = next(page for page in _context_pages(pool, "out") if "/ServiceLogin" in page.url)
        await tab.evaluate(
            "window.seen = []; for (const kind of ['wheel', 'contextmenu', 'dblclick'])"
            " addEventListener(kind, event => seen.push(kind + ':' + (event.deltaY ?? event.button)))"
        )
        await view.wheel(box[0], box[1], 0, 300)
        await view.click(box[0], box[1], button="right")
        await view.press_button(box[0], box[1], down=True)
        await view.press_button(box[0], box[1], down=False)
        await view.press_button(box[0], box[1], down=True, clicks=2)
        await view.press_button(box[0], box[1], down=False, clicks=2)
        assert await tab.evaluate("seen") == ["wheel:300", "contextmenu:2", "dblclick:0"]
        with pytest.raises(DriverError, match="unknown key"):
            await view.key("NotAKey")
        with pytest.raises(DriverError):
            await view.click(float("nan"), 1)
        assert not view.ended
    assert view.end_reason is LiveEnd.CLOSED
    assert not any("/ServiceLogin" in url for url in _tabs(pool, "out")), "the view's tab is closed"
    assert "out" not in pool.live_views()


async def _email_box(pool: BrowserPool, account_id: str) -> tuple[float, float]:
    context = pool._accounts[account_id].context
    assert context is not None
    page = next(page for page in context.pages if "/ServiceLogin" in page.url)
    box = await page.locator("input[type=email]").bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def test_one_view_per_account_and_unknown_accounts(pool: BrowserPool) -> None:
    await pool.add_account(AccountSpec(name="out", psid=cookie("nobody")))
    with pytest.raises(UnknownAccount):
        async with pool.live_view("nobody-here"):
            pass
    async with pool.live_view("out"):
        with pytest.raises(LiveViewBusy):
            async with pool.live_view("out"):
                pass
        assert pool.live_views() == frozenset({"out"})
    async with pool.live_view("out") as again:  # free again once the first one closed
        await _frame(again)


async def test_a_turn_never_takes_the_view_tab(pool: BrowserPool) -> None:
    """A ready account shown in a view serves turns from its own tab; the view's tab keeps its page."""
    await pool.add_account(AccountSpec(name="paid", psid=cookie("paid")))
    async with pool.live_view("paid") as view:
        await _frame(view)
        for index in range(2):
            async with pool.turn(TurnRequest(prompt=f"beside the view {index}")) as turn:
                async for _ in turn:
                    pass
            assert turn.final is not None and turn.final.completed
        assert sum("/ServiceLogin" in url for url in _tabs(pool, "paid")) == 1


async def test_the_view_ends_when_its_tab_closes(pool: BrowserPool) -> None:
    await pool.add_account(AccountSpec(name="out", psid=cookie("nobody")))
    async with pool.live_view("out") as view:
        await _frame(view)
        await pool.check_account("out")  # a restart closes the context, and the view's tab with it
        assert await asyncio.wait_for(view.wait_ended(), WAIT) is LiveEnd.PAGE_CLOSED
        assert await view.next_frame() is None
        with pytest.raises(DriverError, match="ended"):
            await view.key("a")
    assert "out" not in pool.live_views()


async def test_the_view_ends_signed_in_and_the_account_then_serves(pool: BrowserPool, sim_url: str) -> None:
    """The sign-in ends as Google's does: new cookies in the browser, then the app. The view sees the
    app signed in, ends, and the account is re-checked with the context's new cookies: it serves."""
    await pool.add_account(AccountSpec(name="out", psid=cookie("nobody")))
    signed_in = cookie("paid")
    async with pool.live_view("out") as view:
        await _frame(view)
        context = pool._accounts["out"].context
        assert context is not None
        tab = next(page for page in context.pages if "/ServiceLogin" in page.url)
        # What the sign-in's last answer does (contract: the jar is set, then ``continue``).
        await context.add_cookies(
            [
                {
                    "name": "__Secure-1PSID",
                    "value": signed_in,
                    "domain": "localhost",
                    "path": "/",
                    "secure": True,
                }
            ]
        )
        await tab.goto(f"{sim_url}/app")
        assert await asyncio.wait_for(view.wait_ended(), WAIT) is LiveEnd.SIGNED_IN
        assert await view.next_frame() is None
    assert "out" not in pool.live_views()
    info = pool.accounts()[0]
    assert info.state is AccountState.READY, info
    assert pool._accounts["out"].cookies_saved_at is not None
    stored = await pool._store.load("out")
    assert stored is not None and any(c.value == signed_in for c in stored.cookies)
    async with pool.turn(TurnRequest(prompt="after the sign-in")) as turn:
        async for _ in turn:
            pass
    assert turn.account_id == "out" and turn.final is not None and turn.final.completed


@pytest.fixture(scope="module")
def fast_sim() -> Iterator[str]:
    """A simulator of its own whose day runs in four minutes (time_scale 360: the page rotates its
    cookies every 1.7 s, a bound ticket lives 20 s), so a session that stopped rotating shows soon."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    settings = SimulatorSettings.model_validate({**PACING, "ui": "oct2026", "time_scale": 360})
    with serve(create_app(settings)) as url:
        yield url


async def _focused(page: Page, name: str) -> None:
    """Wait until the page's autofocus put the caret in the field named ``name``."""
    await page.wait_for_function(
        "name => document.activeElement && document.activeElement.name === name",
        arg=name,
        timeout=WAIT * 1000,
    )


async def _session_of(sim: str, email: str) -> dict[str, Any]:
    """The simulator's view of the one session signed in as ``email`` (never a cookie value)."""
    async with httpx.AsyncClient() as client:
        sessions: list[dict[str, Any]] = (await client.get(f"{sim}/_sim/sessions", timeout=10)).json()
    [session] = [s for s in sessions if s["email"] == email]
    return session


@pytest.mark.parametrize("hosted", [False, True], ids=["shared", "profile-in-one-browser"])
async def test_a_sign_in_through_the_view_keeps_its_device_bound_session(
    fast_sim: str, tmp_path: Path, lender: Lender, hosted: bool
) -> None:
    """The simulator's sign-in flow (email, password), typed and pasted through the view; then the
    account is re-checked in the same context, so the session's device key (IndexedDB) stays and
    the page keeps rotating the session with it: a shared-mode context rebuilt from cookies would
    lose the key and the session would die within the ticket's lifetime."""
    run = uuid.uuid4().hex[:8]
    email, password = f"view-{run}@example.com", f"pw-{run}"
    async with httpx.AsyncClient() as client:
        made = await client.post(
            f"{fast_sim}/_sim/users", json={"email": email, "password": password, "kind": "paid"}, timeout=10
        )
        assert made.status_code in (200, 201), made.text
    # Hosted: the account is a profile of the one Chromium that holds every persistent account
    # (``profiles_in_one_browser``); its view's tab and its turn tabs are that profile's pages.
    settings = (
        _settings(fast_sim, tmp_path, LaunchMode.PERSISTENT, profiles_in_one_browser=True)
        if hosted
        else _settings(fast_sim, tmp_path)
    )
    async with BrowserPool(settings, **await lender.to(settings.launch_mode)) as pool:
        await pool.add_account(AccountSpec(name="fresh", psid=cookie("nobody")))
        async with pool.live_view("fresh") as view:
            await _frame(view)
            context = pool._accounts["fresh"].context
            assert context is not None
            tab = next(page for page in context.pages if "/ServiceLogin" in page.url)
            await _focused(tab, "identifier")
            await view.type_text(email)
            await view.key("Enter")
            await _focused(tab, "Passwd")
            await view.paste(password)  # a password manager's paste
            await view.key("Enter")
            assert await asyncio.wait_for(view.wait_ended(), WAIT) is LiveEnd.SIGNED_IN
        account = pool._accounts["fresh"]
        assert account.context is context, "re-checked in the same browser context"
        assert pool.accounts()[0].state is AccountState.READY
        session = await _session_of(fast_sim, email)
        assert session["bound"] and session["key_registered"]
        # The page rotates the bound session with its key (RotateBoundCookies) again and again.
        deadline = time.monotonic() + WAIT
        while (now := await _session_of(fast_sim, email))["rotations"] < session["rotations"] + 3:
            assert time.monotonic() < deadline, f"the session stopped rotating: {now}"
            await asyncio.sleep(0.2)
        async with pool.turn(TurnRequest(prompt="signed in here")) as turn:
            async for _ in turn:
                pass
        assert turn.account_id == "fresh" and turn.final is not None and turn.final.completed
