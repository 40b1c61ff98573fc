"""The page driver against the simulator's page, in both UI generations."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from playwright.async_api import Page

from browser import _selectors as S
from browser._capture import BodyCapture
from browser._cookies import for_site, from_session
from browser._driver import DomAnswer, PageDriver, PageState
from browser._requests import Attachment, ModeFamily, Tool
from browser._settings import PoolSettings
from browser.errors import SelectorMissing
from browser.protocol import decode_turn
from tests.browser.conftest import Sim, cookie
from tests.conftest import NewContext

pytestmark = pytest.mark.browser


async def _page(new_context: NewContext, url: str, psid: str | None) -> Page:
    context = await new_context()
    if psid is not None:
        await context.add_cookies(for_site(from_session(psid), url))
    return await context.new_page()


def _driver(page: Page, url: str, **settings: float) -> PageDriver:
    values: dict[str, object] = {"gemini_url": url, "ui_timeout": 5, "navigation_timeout": 10, **settings}
    return PageDriver(page, PoolSettings.model_validate(values))


@pytest.mark.parametrize(
    ("kind", "state"),
    [
        ("paid", PageState.READY),
        ("nobody", PageState.SIGNED_OUT),
        ("captcha", PageState.CAPTCHA),
        ("consent", PageState.CONSENT),
    ],
)
async def test_page_states(new_context: NewContext, sim_url: str, kind: str, state: PageState) -> None:
    page = await _page(new_context, sim_url, cookie(kind))
    assert await _driver(page, sim_url).open("/app") is state
    assert "hl=en" in page.url or state is not PageState.READY


async def test_capabilities_by_tier(new_context: NewContext, sim_url: str) -> None:
    paid = _driver(await _page(new_context, sim_url, cookie("paid")), sim_url)
    caps = await paid.capabilities(await paid.open("/app"))
    assert caps.tier == "paid"
    assert caps.modes == {ModeFamily.FLASH, ModeFamily.PRO, ModeFamily.THINKING}
    assert caps.tools == set(Tool)
    free = _driver(await _page(new_context, sim_url, cookie("free")), sim_url)
    caps = await free.capabilities(await free.open("/app"))
    assert (caps.tier, caps.modes, caps.tools) == ("free", {ModeFamily.FLASH, ModeFamily.THINKING}, set())
    anon = _driver(await _page(new_context, sim_url, None), sim_url)
    assert (await anon.capabilities(await anon.open("/app"))).tier == "anon"


async def test_mode_tool_files_and_multiline_prompt_reach_the_server(
    new_context: NewContext, sim_url: str, sim: Sim
) -> None:
    psid = cookie("paid")
    page = await _page(new_context, sim_url, psid)
    driver = _driver(page, sim_url)
    assert await driver.open("/app") is PageState.READY
    for family in (ModeFamily.PRO, ModeFamily.THINKING, ModeFamily.FLASH, ModeFamily.PRO):
        await driver.choose_mode(family)
    await driver.choose_tool(Tool.DEEP_RESEARCH)  # behind "More tools" in mid-2026
    files = (
        Attachment("notes.txt", "text/plain", b"first\nsecond\n"),
        Attachment("pixel.png", "image/png", bytes(range(256)) * 8),
    )
    await driver.attach(files)
    prompt = "line one\nline two\n\nafter a blank line"
    await driver.insert_prompt(prompt)
    async with BodyCapture(page) as capture:
        await driver.send(capture.request_seen)
        body = b"".join([chunk async for chunk in capture.chunks(first_timeout=10, idle_timeout=10)])
    assert body
    logged = next(entry for entry in reversed(sim.requests()) if entry.get("prompt") == prompt)
    assert logged["mode_hex"] == "e6fa609c3fa255c0"
    assert logged["tool"] == 1
    sent = {(f["name"], f["mime"], f["sha256"], f["size"]) for f in logged["files"]}
    expected = {(f.name, f.mime, hashlib.sha256(f.data).hexdigest(), len(f.data)) for f in files}
    assert sent == expected


def _many_lines(count: int) -> str:
    """Indented lines with quotes, braces, accents, CJK and an emoji, some blank; a newline first and last."""
    lines = [f'  {i}: "quoted" {{braces}} \\ ünïcode 你好 😄' if i % 7 else "" for i in range(count)]
    return "\n" + "\n".join(lines) + "\n"


_COUNT_PASTES = "window.__pastes = 0; document.addEventListener('paste', () => window.__pastes++, true);"
# Stands for an editor that ignores pastes made by script: the event never reaches it.
_SWALLOW_PASTES = "document.addEventListener('paste', (e) => e.stopImmediatePropagation(), true);"


@pytest.mark.parametrize("editor_takes_pastes", [True, False], ids=["pasted", "typed"])
async def test_many_line_prompt_arrives_exactly_and_only_on_send(
    new_context: NewContext, sim_url: str, sim: Sim, editor_takes_pastes: bool
) -> None:
    page = await _page(new_context, sim_url, cookie("paid"))
    driver = _driver(page, sim_url)
    assert await driver.open("/app") is PageState.READY
    await page.evaluate(_COUNT_PASTES)
    if not editor_takes_pastes:
        await page.evaluate(_SWALLOW_PASTES)
    prompt = _many_lines(1500 if editor_takes_pastes else 40)
    await driver.insert_prompt(prompt)
    assert await page.evaluate("window.__pastes") == 1
    assert sim.requests() == [], "no newline may send the prompt early"
    async with BodyCapture(page) as capture:
        await driver.send(capture.request_seen)
        body = b"".join([chunk async for chunk in capture.chunks(first_timeout=10, idle_timeout=10)])
    assert decode_turn(body).completed
    logged = sim.requests()
    assert len(logged) == 1 and not logged[0]["prompt_truncated"]
    assert logged[0]["prompt"] == prompt


async def test_missing_tool_is_a_typed_error(new_context: NewContext, sim_url: str) -> None:
    driver = _driver(await _page(new_context, sim_url, cookie("free")), sim_url)
    await driver.open("/app")
    with pytest.raises(SelectorMissing):
        await driver.choose_tool(Tool.IMAGE)
    with pytest.raises(SelectorMissing):
        await driver.choose_mode(ModeFamily.PRO)


async def _read_when_done(driver: PageDriver) -> DomAnswer:
    """The DOM reader, once the page shows the last answer's action row (waited for, bounded)."""
    last = driver.page.locator(S.MODEL_RESPONSE.css).last
    await last.locator(S.MESSAGE_ACTIONS.css).first.wait_for(state="attached", timeout=10_000)
    answer = await driver.read_answer()
    assert answer.done
    return answer


async def test_dom_reader_sees_the_answer_the_network_carried(new_context: NewContext, sim_url: str) -> None:
    page = await _page(new_context, sim_url, cookie("paid"))
    driver = _driver(page, sim_url)
    assert await driver.open("/app") is PageState.READY
    assert (await driver.read_answer()).text == ""
    await driver.insert_prompt("read me back")
    async with BodyCapture(page) as capture:
        await driver.send(capture.request_seen)
        body = b"".join([chunk async for chunk in capture.chunks(first_timeout=10, idle_timeout=10)])
    final = decode_turn(body)
    answer = await _read_when_done(driver)
    assert answer.error_code is None
    # The page renders markdown; its visible lines are the network text's lines.
    assert [line for line in answer.text.splitlines() if line.strip()] == [
        line for line in final.text.splitlines() if line.strip()
    ]


async def test_dom_reader_sees_an_error_turn(new_context: NewContext, sim_url: str) -> None:
    page = await _page(new_context, sim_url, cookie("limited"))
    driver = _driver(page, sim_url)
    assert await driver.open("/app") is PageState.READY
    await driver.insert_prompt("over the limit")
    async with BodyCapture(page) as capture:
        await driver.send(capture.request_seen)
        _ = [chunk async for chunk in capture.chunks(first_timeout=10, idle_timeout=10)]
    answer = await _read_when_done(driver)
    assert (answer.error_code, answer.text) == (1037, "")


async def test_late_sign_in_links_are_not_taken_for_a_session(
    new_context: NewContext, sim_url: str, sim: Sim
) -> None:
    """The signed-out page shows its editor first and its Sign-in links later (page.md §1.14)."""
    delay = 1.5
    sim.config(signin_marker_delay=delay)
    page = await _page(new_context, sim_url, None)
    driver = _driver(page, sim_url)
    await page.goto(driver.url_for("/app"), wait_until="domcontentloaded")
    # The trap: an editor and no signed-out marker yet.
    assert await page.locator(S.EDITOR.css).count() == 1
    assert await page.locator(S.SIGNED_OUT.css).count() == 0
    assert await driver.detect() is PageState.SIGNED_OUT
    # detect() waited for the marker (not a clock): the page shows it now.
    assert await page.locator(S.SIGNED_OUT.css).count() > 0, "detect() must have waited for the marker"
    paid = _driver(await _page(new_context, sim_url, cookie("paid")), sim_url)
    assert await paid.open("/app") is PageState.READY


async def test_an_editor_without_any_sign_of_a_session_is_signed_out(
    new_context: NewContext, sim_url: str, sim: Sim
) -> None:
    sim.config(signin_marker_delay=60)
    driver = _driver(await _page(new_context, sim_url, None), sim_url, navigation_timeout=1.5)
    # Bounded: the verdict comes from the navigation timeout, not from the marker 60 s later.
    assert await asyncio.wait_for(driver.open("/app"), 10) is PageState.SIGNED_OUT
