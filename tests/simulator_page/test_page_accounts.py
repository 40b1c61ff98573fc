"""What each kind of account sees: paid, plus, free, signed out, captcha, consent, limited, blocked."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from tests.simulator_page.pagekit import (
    SHARED_PAGE_PARTS,
    NewContext,
    SimControl,
    account,
    menu_labels,
    open_page,
    send,
    tools_opener,
    upload_opener,
    wait_answer,
    wait_error,
)

pytestmark = pytest.mark.browser

TOOL_ROWS = ".cdk-overlay-pane toolbox-drawer-item button[role=menuitemcheckbox]"


async def wiz(page: Page) -> dict[str, str]:
    result: dict[str, str] = await page.evaluate("window.WIZ_global_data")
    return result


async def tool_labels(page: Page, ui: str) -> list[str]:
    """Every tool row of the menu, "More tools" opened (D4)."""
    await page.locator(tools_opener(ui)).click()
    await page.locator(TOOL_ROWS).first.wait_for()
    more = page.locator('.cdk-overlay-pane [data-test-id="more-tools-button"]')
    if await more.count():
        await more.click()
    labels = [label.strip() for label in await page.locator(TOOL_ROWS).all_inner_texts()]
    await page.keyboard.press("Escape")
    return labels


async def test_paid_account_has_pro_tools_and_account_marker(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    page = await open_page(new_context, sim_url, account("paid"))
    assert "SNlM0e" in await wiz(page)
    assert await page.locator('a[aria-label^="Google Account:"]').count() == 1
    assert await page.locator('a[aria-label="Sign in"], [data-identifier="sign-in"]').count() == 0
    sparkle = await page.locator('[data-test-id="side-nav-sparkle-button"]').count()
    assert sparkle == (1 if ui == "oct2026" else 0)  # A9: October 2026's signed-in side nav (VID)
    labels = await menu_labels(page, ui)
    assert ("Pro" if ui == "early2026" else "3.1 Pro") in labels
    tools = await tool_labels(page, ui)
    assert {"Create image", "Canvas", "Deep Research"} <= set(tools)
    assert any(tool.startswith("Create video") for tool in tools)
    assert ("Create music" in tools) is (ui != "early2026")  # behind More tools (ZHT)


async def test_free_account_has_the_limited_pro_and_tools_but_no_video(
    new_context: NewContext, sim_url: str, sim: SimControl, ui: str
) -> None:
    """D8 (FREE, GA BASIC_PRO): image generation, Canvas, Deep Research and a limited Pro."""
    psid = account("free")
    page = await open_page(new_context, sim_url, psid)
    assert "SNlM0e" in await wiz(page)
    labels = await menu_labels(page, ui)
    assert ("Pro" if ui == "early2026" else "3.1 Pro") in labels
    tools = await tool_labels(page, ui)
    assert {"Create image", "Canvas", "Deep Research"} <= set(tools)
    assert not any(tool.startswith("Create video") for tool in tools)
    await send(page, "free question")
    assert "Turn 1" in await wait_answer(page)
    [logged] = await sim.requests(psid)
    assert logged["prompt"] == "free question"


async def test_signed_out_page_shows_sign_in_and_still_answers(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    page = await open_page(new_context, sim_url, None)
    data = await wiz(page)
    assert "SNlM0e" not in data
    assert data.get("simTier") == "anon"
    old_hooks = (
        'a[aria-label="Sign in"][href^="https://accounts.google.com/ServiceLogin"]',
        "uploader-signed-out-tooltip",
    )
    new_hooks = ('[data-test-id="conversations-list-signed-out"]', '[data-identifier="sign-in"]')
    if ui == "oct2026":  # A10: PWA's and INT's hooks, not the older ones
        assert [await page.locator(hook).count() for hook in new_hooks] == [1, 2]
        assert [await page.locator(hook).count() for hook in old_hooks] == [0, 0]
    else:
        assert [await page.locator(hook).count() for hook in old_hooks] == [1, 1]
        assert [await page.locator(hook).count() for hook in new_hooks] == [0, 0]
    assert (await page.locator("sidenav-mavatar-footer").inner_text()).strip() == "Sign in"
    assert await page.locator('a[aria-label^="Google Account:"]').count() == 0
    labels = await menu_labels(page, ui)
    assert not any("Pro" in label for label in labels)
    request_bodies: list[str] = []
    page.on(
        "request", lambda r: request_bodies.append(r.post_data or "") if "StreamGenerate" in r.url else None
    )
    await send(page, "anonymous question")
    assert "Turn 1" in await wait_answer(page)
    assert request_bodies and "at=" not in request_bodies[0]


async def test_signed_out_markers_come_late_with_signin_marker_delay(
    new_context: NewContext, oct2026_url: str
) -> None:
    async with SimControl(oct2026_url).configured(signin_marker_delay=1.5):
        page = await open_page(new_context, oct2026_url, None)
    hooks = '[data-test-id="conversations-list-signed-out"], [data-identifier="sign-in"]'
    assert await page.locator(hooks).count() == 0, "held back after boot"
    await page.locator('[data-test-id="conversations-list-signed-out"]').wait_for(state="attached")
    assert await page.locator('[data-identifier="sign-in"]').count() == 2


async def test_plus_account_renders_like_paid_with_its_own_capacity(
    new_context: NewContext, oct2026_url: str
) -> None:
    page = await open_page(new_context, oct2026_url, account("plus"))
    assert (await wiz(page))["simTier"] == "plus"
    assert "3.1 Pro" in await menu_labels(page, "oct2026")
    assert any(tool.startswith("Create video") for tool in await tool_labels(page, "oct2026"))


@SHARED_PAGE_PARTS
async def test_captcha_account_lands_on_sorry_page(new_context: NewContext, sim_url: str) -> None:
    page = await open_page(new_context, sim_url, account("captcha"))
    assert "/sorry/index" in page.url
    assert "unusual traffic" in (await page.content()).lower()


@SHARED_PAGE_PARTS
async def test_consent_wall_accepts_into_the_app(new_context: NewContext, sim_url: str) -> None:
    page = await open_page(new_context, sim_url, account("consent"))
    assert "/consent" in page.url
    await page.get_by_role("button", name="Accept all").click()
    await page.wait_for_url(lambda url: urlsplit(url).path.startswith("/app"))
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    assert await page.locator('a[aria-label^="Google Account:"]').count() == 1


@pytest.mark.parametrize(
    ("kind", "phrase"),
    [("limited", "reached your limit"), ("blocked", "unusual traffic")],
)
@SHARED_PAGE_PARTS
async def test_refused_accounts_show_the_error_as_a_finished_turn(
    new_context: NewContext, sim_url: str, kind: str, phrase: str
) -> None:
    page = await open_page(new_context, sim_url, account(kind))
    await send(page, "will be refused")
    assert phrase in await wait_error(page)


@SHARED_PAGE_PARTS
async def test_a_failed_turn_shows_response_error_with_retry_buttons(
    new_context: NewContext, sim_url: str, sim: SimControl
) -> None:
    """B14 (INT, late 2026): ``response-error`` outside ``message-content``, with "Try again" and
    "Retry response"; no ``p.error-message``."""
    psid = account("paid")
    await sim.behaviours(psid, {"kind": "error", "code": 1013})
    page = await open_page(new_context, sim_url, psid)
    await send(page, "glitch")
    assert "Something went wrong (1013)" in await wait_error(page)
    response = page.locator("model-response").last
    assert await response.locator("message-content response-error").count() == 0
    assert await response.locator('response-error[data-error-code="1013"]').count() == 1
    assert await page.locator("p.error-message").count() == 0
    assert await response.get_by_role("button", name="Retry response").count() == 1
    await response.get_by_role("button", name="Try again").click()
    assert "Turn 1" in await wait_answer(page, count=2)
    assert [entry["prompt"] for entry in await sim.requests(psid)] == ["glitch", "glitch"]


@pytest.mark.parametrize("ui", ["oct2026", "mid2026"])  # early 2026: an upload button and a Tools drawer
async def test_the_tools_opener_label_follows_the_setting(
    new_context: NewContext, ui: str, request: pytest.FixtureRequest
) -> None:
    """D1: "Upload and tools" (UAT, REG, TOK) or "Upload & tools" (ADM, CNV)."""
    sim_url = str(request.getfixturevalue(f"{ui}_url"))
    async with SimControl(sim_url).configured(tools_label="Upload & tools"):
        page = await open_page(new_context, sim_url, account("paid"))
    assert await page.locator(upload_opener(ui)).count() == 0
    opener = page.locator('input-container button[aria-label="Upload & tools"]')
    assert await opener.count() == 1
    has_class = await opener.evaluate("b => b.classList.contains('upload-card-button')")
    assert has_class is (ui == "mid2026")  # October 2026 dropped the class (D1)
    if ui == "oct2026":
        assert (await opener.get_attribute("jslog") or "").startswith("300142;")
        assert (
            await page.locator("div.has-model-picker button").first.get_attribute("aria-label")
            == "Upload & tools"
        )
