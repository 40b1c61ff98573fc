"""The page driver against the simulator's page, in every UI generation."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from playwright.async_api import Page

from browser._capabilities import ThinkingControl
from browser._capture import BodyCapture
from browser._cookies import for_site, from_session
from browser._driver import DomAnswer, PageDriver, PageState
from browser._requests import Attachment, ModeFamily, ThinkingLevel, Tool
from browser._selectors import DEFAULT_TABLE as T
from browser._settings import PoolSettings
from browser.errors import SelectorMissing, ToolNotOffered
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
async def test_page_states(new_context: NewContext, ui_url: str, kind: str, state: PageState) -> None:
    page = await _page(new_context, ui_url, cookie(kind))
    assert await _driver(page, ui_url).open("/app") is state
    assert "hl=en" in page.url or state is not PageState.READY


# What each generation's picker offers (docs/architecture/page-model.md#thinking-levels): no Thinking model
# since mid-2026.
CONTROLS = {
    "oct2026": ThinkingControl.LEVELS,
    "mid2026": ThinkingControl.SUBMENU,
    "early2026": ThinkingControl.MODEL,
}


def _generation(url: str, simulators: dict[str, str]) -> str:
    return next(ui for ui, served in simulators.items() if served == url)


async def test_capabilities_come_from_the_menus(
    new_context: NewContext, ui_url: str, simulators: dict[str, str]
) -> None:
    """Read from the page alone (no account-status answer): free accounts have tools and a Pro too
    (D8), and the page shows no plan, so the tier is unknown."""
    ui = _generation(ui_url, simulators)
    music = set() if ui == "early2026" else {Tool.MUSIC}  # behind More tools since mid 2026 (ZHT)
    paid = _driver(await _page(new_context, ui_url, cookie("paid")), ui_url)
    caps = await paid.capabilities(await paid.open("/app"))
    assert caps.tier == "unknown"
    assert caps.modes == {ModeFamily.FLASH, ModeFamily.PRO}
    assert caps.tools == set(Tool) - {Tool.MUSIC} | music
    assert caps.thinking is CONTROLS[ui]
    assert [model.thinks for model in caps.models if model.family is ModeFamily.FLASH] == (
        [False, True] if ui == "early2026" else [False]
    )
    free = _driver(await _page(new_context, ui_url, cookie("free")), ui_url)
    caps = await free.capabilities(await free.open("/app"))
    assert caps.modes == {ModeFamily.FLASH, ModeFamily.PRO}
    assert caps.tools == {Tool.IMAGE, Tool.CANVAS, Tool.DEEP_RESEARCH, *music}, "video only on paid plans"
    anon = _driver(await _page(new_context, ui_url, None), ui_url)
    assert (await anon.capabilities(await anon.open("/app"))).tier == "anon"


async def _sent(page: Page, driver: PageDriver, prompt: str) -> None:
    await driver.insert_prompt(prompt)
    async with BodyCapture(page) as capture:
        await driver.send(capture.request_seen)
        assert decode_turn(b"".join([c async for c in capture.chunks(first_timeout=10, idle_timeout=10)]))


# The wire's thinking level code (header [15], inner[80]) each page control sends for each level:
# OCT's jslog codes (Low 1, Medium 4, High 2); Standard 1 / Extended 2 (protocol.md §2.1).
WIRE_LEVELS = {
    ThinkingControl.LEVELS: {ThinkingLevel.LOW: 1, ThinkingLevel.MEDIUM: 4, ThinkingLevel.HIGH: 2},
    ThinkingControl.SUBMENU: {ThinkingLevel.LOW: 1, ThinkingLevel.MEDIUM: 1, ThinkingLevel.HIGH: 2},
    ThinkingControl.TOGGLE: {ThinkingLevel.LOW: 1, ThinkingLevel.MEDIUM: 1, ThinkingLevel.HIGH: 2},
}


@pytest.mark.parametrize("control", ["auto", "toggle"])
async def test_a_thinking_level_is_set_on_the_chosen_model(
    new_context: NewContext, ui_url: str, ui_sim: Sim, simulators: dict[str, str], control: str
) -> None:
    """Thinking is a level applied to the chosen model, whichever way the page offers it (C8)."""
    ui = _generation(ui_url, simulators)
    if control == "toggle" and ui == "early2026":
        pytest.skip("early 2026 had a Thinking model, no level control")
    ui_sim.config(thinking_control=control)
    page = await _page(new_context, ui_url, cookie("paid"))
    driver = _driver(page, ui_url)
    caps = await driver.capabilities(await driver.open("/app"))
    assert caps.thinking is (ThinkingControl.TOGGLE if control == "toggle" else CONTROLS[ui])
    order = [
        (ModeFamily.PRO, ThinkingLevel.HIGH),
        (ModeFamily.FLASH, ThinkingLevel.MEDIUM),
        (ModeFamily.FLASH, ThinkingLevel.LOW),
        (ModeFamily.FLASH, ThinkingLevel.HIGH),
        (ModeFamily.FLASH, None),  # leaves the level as it is
    ]
    for family, level in order:
        await driver.choose_mode(family, level, caps)
        await _sent(page, driver, f"{family.value} at {level}")
    logged = [(entry["mode_hex"], entry["thinking_level"]) for entry in ui_sim.requests()]
    flash = next(m.hex for m in caps.models if m.family is ModeFamily.FLASH and not m.thinks)
    pro = next(m.hex for m in caps.models if m.family is ModeFamily.PRO)
    if caps.thinking is ThinkingControl.MODEL:
        thinking = next(m.hex for m in caps.models if m.thinks)
        # A Flash asked to think is the Thinking model; Pro has no control (its level stays).
        assert [hex_id for hex_id, _ in logged] == [pro, thinking, flash, thinking, thinking]
        return
    wire = WIRE_LEVELS[caps.thinking]
    high = wire[ThinkingLevel.HIGH]
    expected = [
        (pro, high),
        (flash, wire[ThinkingLevel.MEDIUM]),
        (flash, wire[ThinkingLevel.LOW]),
        (flash, high),
        (flash, high),
    ]
    assert logged == expected
    served = [entry["served_model_label"] for entry in ui_sim.requests()]
    assert served[0].endswith("Extended") and "Pro" in served[0], "an extended echo is the Pro asked for"


async def test_mode_tool_files_and_multiline_prompt_reach_the_server(
    new_context: NewContext, ui_url: str, ui_sim: Sim
) -> None:
    psid = cookie("paid")
    page = await _page(new_context, ui_url, psid)
    driver = _driver(page, ui_url)
    assert await driver.open("/app") is PageState.READY
    for family in (ModeFamily.PRO, ModeFamily.FLASH, ModeFamily.PRO):
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
    logged = next(entry for entry in reversed(ui_sim.requests()) if entry.get("prompt") == prompt)
    assert logged["mode_hex"] == "e6fa609c3fa255c0"
    assert logged["tool"] == 1
    sent = {(f["name"], f["mime"], f["sha256"], f["size"]) for f in logged["files"]}
    expected = {(f.name, f.mime, hashlib.sha256(f.data).hexdigest(), len(f.data)) for f in files}
    assert sent == expected


@pytest.mark.parametrize("label", ["Upload and tools", "Upload & tools"])
async def test_both_opener_labels_open_tools_and_uploads(
    new_context: NewContext, simulators: dict[str, str], label: str
) -> None:
    """Most 2026 observations say "Upload and tools", some "Upload & tools" (D1, E1)."""
    url = simulators["oct2026"]
    Sim(url).config(tools_label=label)
    try:
        page = await _page(new_context, url, cookie("paid"))
        driver = _driver(page, url)
        assert await driver.open("/app") is PageState.READY
        assert await page.locator(f'button[aria-label="{label}"]').count() == 1
        await driver.choose_tool(Tool.IMAGE)
        await driver.attach((Attachment("a.png", "image/png", bytes(range(256))),))
        await _sent(page, driver, "a cat")
        logged = Sim(url).requests()[-1]
        assert (logged["tool"], len(logged["files"])) == (14, 1)
    finally:
        Sim(url).reset()


async def test_picker_labels_are_read_once_filled(new_context: NewContext, ui_url: str, ui_sim: Sim) -> None:
    """Rows show at once with empty labels for a while (C13, MSW 2026-06-28): read too early, no
    model would have a family."""
    ui_sim.config(label_fill_delay=0.4)
    page = await _page(new_context, ui_url, cookie("paid"))
    driver = _driver(page, ui_url)
    assert await driver.open("/app") is PageState.READY
    caps = await driver.capabilities(PageState.READY)
    assert all(model.label for model in caps.models)
    assert caps.modes == {ModeFamily.FLASH, ModeFamily.PRO}
    await driver.choose_mode(ModeFamily.PRO, ThinkingLevel.HIGH, caps)


async def test_the_visible_send_button_is_clicked(
    new_context: NewContext, simulators: dict[str, str]
) -> None:
    """The October page keeps a hidden send button earlier in the document (B7, INT)."""
    url = simulators["oct2026"]
    page = await _page(new_context, url, cookie("paid"))
    driver = _driver(page, url)
    assert await driver.open("/app") is PageState.READY
    await driver.insert_prompt("which button")
    buttons = page.locator('button[aria-label="Send message"]')
    assert await buttons.count() == 2 and not await buttons.first.is_visible()
    async with BodyCapture(page) as capture:
        await driver.send(capture.request_seen)
        assert decode_turn(b"".join([c async for c in capture.chunks(first_timeout=10, idle_timeout=10)]))


def _many_lines(count: int) -> str:
    """Indented lines with quotes, braces, accents, CJK and an emoji, some blank; a newline first and last."""
    lines = [f'  {i}: "quoted" {{braces}} \\ ünïcode 你好 😄' if i % 7 else "" for i in range(count)]
    return "\n" + "\n".join(lines) + "\n"


_COUNT_PASTES = "window.__pastes = 0; document.addEventListener('paste', () => window.__pastes++, true);"
# Stands for an editor that ignores pastes made by script: the event never reaches it.
_SWALLOW_PASTES = "document.addEventListener('paste', (e) => e.stopImmediatePropagation(), true);"


@pytest.mark.parametrize("editor_takes_pastes", [True, False], ids=["pasted", "typed"])
async def test_many_line_prompt_arrives_exactly_and_only_on_send(
    new_context: NewContext, ui_url: str, ui_sim: Sim, editor_takes_pastes: bool
) -> None:
    sim = ui_sim
    page = await _page(new_context, ui_url, cookie("paid"))
    driver = _driver(page, ui_url)
    assert await driver.open("/app") is PageState.READY
    await page.evaluate(_COUNT_PASTES)
    if not editor_takes_pastes:
        await page.evaluate(_SWALLOW_PASTES)
    prompt = _many_lines(1500 if editor_takes_pastes else 15)
    # An editor that swallows the paste is only known when the paste's check gives up (ui_timeout):
    # 2 s rather than 5 here (the editor is already up: its other waits on that bound are short).
    typer = driver if editor_takes_pastes else _driver(page, ui_url, ui_timeout=2)
    await typer.insert_prompt(prompt)
    assert await page.evaluate("window.__pastes") == 1
    assert sim.requests() == [], "no newline may send the prompt early"
    async with BodyCapture(page) as capture:
        await driver.send(capture.request_seen)
        body = b"".join([chunk async for chunk in capture.chunks(first_timeout=10, idle_timeout=10)])
    assert decode_turn(body).completed
    logged = sim.requests()
    assert len(logged) == 1 and not logged[0]["prompt_truncated"]
    assert logged[0]["prompt"] == prompt


async def test_a_missing_tool_names_what_the_menu_lists(
    new_context: NewContext, ui_url: str, simulators: dict[str, str]
) -> None:
    music = set() if _generation(ui_url, simulators) == "early2026" else {"music"}  # behind More tools
    driver = _driver(await _page(new_context, ui_url, cookie("free")), ui_url)
    await driver.open("/app")
    with pytest.raises(ToolNotOffered) as missing:
        await driver.choose_tool(Tool.VIDEO)
    assert missing.value.offered == {"image", "canvas", "deep_research", *music}
    anon = _driver(await _page(new_context, ui_url, None), ui_url)
    await anon.open("/app")
    with pytest.raises(SelectorMissing):
        await anon.choose_mode(ModeFamily.PRO)


async def _read_when_done(driver: PageDriver) -> DomAnswer:
    """The DOM reader, once the page shows the last answer's action row (waited for, bounded)."""
    last = driver.page.locator(T.model_response.css).last
    await last.locator(T.message_actions.css).first.wait_for(state="attached", timeout=10_000)
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


async def test_dom_reader_sees_an_error_turn(new_context: NewContext, ui_url: str) -> None:
    """A failed turn shows a response-error (B14, INT)."""
    page = await _page(new_context, ui_url, cookie("limited"))
    driver = _driver(page, ui_url)
    assert await driver.open("/app") is PageState.READY
    await driver.insert_prompt("over the limit")
    async with BodyCapture(page) as capture:
        await driver.send(capture.request_seen)
        _ = [chunk async for chunk in capture.chunks(first_timeout=10, idle_timeout=10)]
    answer = await _read_when_done(driver)
    assert (answer.error_code, answer.text) == (1037, "")


async def test_late_sign_in_links_are_not_taken_for_a_session(
    new_context: NewContext, ui_url: str, ui_sim: Sim
) -> None:
    """The signed-out page shows its editor first and its Sign-in links later (page.md §1.14)."""
    delay = 1.5
    ui_sim.config(signin_marker_delay=delay)
    page = await _page(new_context, ui_url, None)
    driver = _driver(page, ui_url)
    await page.goto(driver.url_for("/app"), wait_until="domcontentloaded")
    # The trap: an editor and no signed-out marker yet.
    assert await page.locator(T.editor.css).count() == 1
    assert await page.locator(T.signed_out.css).count() == 0
    assert await driver.detect() is PageState.SIGNED_OUT
    # detect() waited for the marker (not a clock): the page shows it now.
    assert await page.locator(T.signed_out.css).count() > 0, "detect() must have waited for the marker"
    paid = _driver(await _page(new_context, ui_url, cookie("paid")), ui_url)
    assert await paid.open("/app") is PageState.READY


async def test_an_editor_without_any_sign_of_a_session_is_signed_out(
    new_context: NewContext, sim_url: str, sim: Sim
) -> None:
    sim.config(signin_marker_delay=60)
    driver = _driver(await _page(new_context, sim_url, None), sim_url, navigation_timeout=1.5)
    # Bounded: the verdict comes from the navigation timeout, not from the marker 60 s later.
    assert await asyncio.wait_for(driver.open("/app"), 10) is PageState.SIGNED_OUT
