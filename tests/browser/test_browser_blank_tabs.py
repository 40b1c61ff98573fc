"""Tabs kept on a blank new chat between turns: a new chat types at once, a follow-up still
navigates to its chat, and a blank tab is only ever claimed once."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import BrowserContext, Page

from browser import AccountSpec, ModeFamily, PoolSettings, TurnRequest
from browser._blank import BlankTabs
from browser._cookies import for_site, from_session
from tests.browser.conftest import PoolOf, Sim, cookie
from tests.conftest import NewContext

pytestmark = pytest.mark.browser


def _settings(url: str, **extra: object) -> PoolSettings:
    values: dict[str, object] = {"gemini_url": url, "ui_timeout": 5, "navigation_timeout": 15, **extra}
    return PoolSettings.model_validate(values)


class _Loads:
    """Documents the page loads from now on (its own history.replaceState is no load)."""

    def __init__(self, page: Page) -> None:
        self.paths: list[str] = []
        self.blank = asyncio.Event()
        page.on("domcontentloaded", self._seen)

    def _seen(self, page: Page) -> None:
        path = urlsplit(page.url).path
        self.paths.append(path)
        if path == "/app":
            self.blank.set()


_ENGINE_MIN_BYTES = 100_000  # Playwright's injected script is ~330 KB; the page's own are small


async def _selector_engine_built(context: BrowserContext, page: Page) -> bool:
    """Whether Playwright's selector engine (its injected script, evaluated in its utility world on
    the first locator call in a document) is in the page's current document. Chromium reports every
    script already compiled when a debugger attaches, with the execution context it runs in."""
    cdp = await context.new_cdp_session(page)
    worlds: dict[int, str] = {}
    scripts: list[tuple[int, int]] = []
    cdp.on(
        "Runtime.executionContextCreated", lambda e: worlds.update({e["context"]["id"]: e["context"]["name"]})
    )
    cdp.on("Debugger.scriptParsed", lambda e: scripts.append((e["executionContextId"], e["length"])))
    try:
        await cdp.send("Runtime.enable")
        await cdp.send("Debugger.enable")
        # Both replay what exists before answering; a round trip after them orders the events.
        await cdp.send("Runtime.evaluate", {"expression": "1"})
    finally:
        await cdp.send("Debugger.disable")
        await cdp.send("Runtime.disable")
        await cdp.detach()
    return any(
        "__playwright_utility_world" in worlds.get(context_id, "") and length > _ENGINE_MIN_BYTES
        for context_id, length in scripts
    )


async def _signed_in_tab(new_context: NewContext, url: str) -> tuple[BrowserContext, Page]:
    context = await new_context()
    await context.add_cookies(for_site(from_session(cookie("paid")), url))
    return context, await context.new_page()


async def test_a_tab_loaded_in_the_background_has_the_selector_engine_built(
    new_context: NewContext, simulators: dict[str, str]
) -> None:
    # The first locator call in a new document evaluates Playwright's engine (~50 ms): done by the
    # background load, not by the next turn's first step.
    url = simulators["oct2026"]
    context, page = await _signed_in_tab(new_context, url)
    await page.goto(f"{url}/app?hl=en", wait_until="domcontentloaded")
    assert not await _selector_engine_built(context, page), "a fresh document has no engine yet"

    tabs = BlankTabs(_settings(url), delay=0)
    async with page.expect_event("domcontentloaded", timeout=15_000):
        tabs.prepare(page)
    assert await tabs.claim(page, "/app"), "the load in flight is awaited, then the tab is blank"
    assert await _selector_engine_built(context, page), "the background load built it"
    await tabs.clear()


async def test_claims_follow_where_the_tab_stands(
    new_context: NewContext, simulators: dict[str, str]
) -> None:
    url = simulators["oct2026"]
    _, page = await _signed_in_tab(new_context, url)
    chat = "/app/c_0123456789abcdef"

    tabs = BlankTabs(_settings(url), delay=0)
    async with page.expect_event("domcontentloaded", timeout=15_000):
        tabs.prepare(page)
    assert await tabs.claim(page, "/app"), "the load in flight is awaited, then the tab is blank"
    assert urlsplit(page.url).path == "/app"
    assert not await tabs.claim(page, "/app"), "a claimed tab may have been typed into"
    tabs.prepare(page)
    assert not await tabs.claim(page, chat), "a blank tab is no chat: that turn navigates"

    await page.goto(f"{url}{chat.replace('/app/c_', '/app/')}?hl=en", wait_until="domcontentloaded")
    slow = BlankTabs(_settings(url), delay=30)
    slow.prepare(page, chat)
    assert await slow.claim(page, chat), "within the grace period the finished chat is still there"
    assert not await slow.claim(page, chat), "claimed once: only a finished turn registers it again"
    slow.prepare(page, chat)
    assert not await slow.claim(page, "/app"), "the grace period was cut short, nothing loaded"
    assert urlsplit(page.url).path != "/app"
    slow.prepare(page, "/app/c_another")
    assert not await slow.claim(page, "/app/c_another"), "the URL must show the chat"
    await tabs.clear()
    await slow.clear()


async def test_new_chats_skip_navigation_and_follow_ups_continue(
    simulators: dict[str, str], tmp_path: Path, pool_of: PoolOf
) -> None:
    url = simulators["oct2026"]
    sim = Sim(url)
    async with pool_of(_settings(url, data_dir=tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="main", psid=cookie("paid")))
        context = pool._accounts["main"].context
        assert context is not None
        page = context.pages[0]
        loads = _Loads(page)

        async with pool.turn(TurnRequest(prompt="blank tabs first", mode=ModeFamily.FLASH)) as first:
            async for _ in first:
                pass
        # The tab goes back to /app in the background.
        await asyncio.wait_for(loads.blank.wait(), 15)
        # From now on the grace period outlasts the test, so "straight after the turn" below is an
        # order of events, not a race against the 0.5 s default.
        pool._accounts["main"]._blank._delay = 600

        before = len(loads.paths)
        async with pool.turn(TurnRequest(prompt="blank tabs second", mode=ModeFamily.FLASH)) as second:
            async for _ in second:
                pass
            during = loads.paths[before:]  # read before the lease ends and the tab reloads /app
        assert during == [], "the second new chat typed into the prepared tab"
        assert second.final is not None and second.final.cid

        # Straight after the turn the tab still shows its chat: the follow-up types into it.
        follow_up = TurnRequest(
            prompt="blank tabs follow-up", mode=ModeFamily.FLASH, chat_id=second.final.cid, account_id="main"
        )
        before = len(loads.paths)
        async with pool.turn(follow_up) as third:
            async for _ in third:
                pass
            during = loads.paths[before:]
        assert third.final is not None and third.final.completed
        assert during == [], "the follow-up typed into the tab that showed its chat"

    status = {entry.get("prompt"): entry.get("chat_status") for entry in sim.requests()}
    assert status["blank tabs first"] == "new"
    assert status["blank tabs second"] == "new"
    assert status["blank tabs follow-up"] == "continued"
