"""Tools (chips, placeholders, persistence, rich results), the Storybook gem and cookie rotation."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.simulator_page.pagekit import (
    EDITOR,
    LAST_RESPONSE,
    NewContext,
    SimControl,
    account,
    choose_tool,
    open_page,
    rpc_log,
    send,
    tools_opener,
    wait_answer,
)

pytestmark = pytest.mark.browser


async def test_create_image_renders_generated_images_and_persists(
    new_context: NewContext, sim_url: str, sim: SimControl, ui: str
) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await choose_tool(page, ui, "Create image")
    assert await page.locator('button[aria-label="Deselect Image"]').count() == 1
    # D6: the newest chip hook (PWA, ZHT, REG); early 2026 keeps its class.
    chip = (
        "button.toolbox-drawer-item-deselect-button"
        if ui == "early2026"
        else 'gem-button[data-test-id="deselect-drawer-item-gem-button"] > button'
    )
    assert await page.locator(f'{chip}[aria-label="Deselect Image"]').count() == 1
    assert await page.locator(f'{chip} mat-icon[data-mat-icon-name="image_create"]').count() == 1
    assert await page.locator(EDITOR).get_attribute("data-placeholder") == "Describe your image"
    await send(page, "a red bicycle")
    await wait_answer(page)
    image = page.locator(
        f"{LAST_RESPONSE} >> div.attachment-container.generated-images > generated-image > "
        "single-image.generated-image.large > .image-container > img"
    )
    assert await image.count() >= 1
    src = await image.first.get_attribute("src") or ""
    assert "/gg-dl/" in src and src.endswith("=s1024-rj")
    assert (await image.first.get_attribute("alt") or "").endswith(", AI generated")
    assert (
        await page.locator(
            f'{LAST_RESPONSE} >> button[data-test-id="download-generated-image-button"]'
        ).count()
        >= 1
    )
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=await image.first.element_handle()
    )
    assert await page.locator('button[aria-label="Deselect Image"]').count() == 1, (
        "tool persists across turns"
    )
    [logged] = await sim.requests(psid)
    assert logged["tool"] == 14

    await page.locator('button[aria-label="Deselect Image"]').click()
    assert await page.locator(EDITOR).get_attribute("data-placeholder") == "Ask Gemini"


async def test_deep_research_plan_starts_research(
    new_context: NewContext, sim_url: str, sim: SimControl, ui: str
) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await choose_tool(page, ui, "Deep Research")
    assert await page.locator(EDITOR).get_attribute("data-placeholder") == "What do you want to research?"
    await send(page, "history of the bicycle")
    await wait_answer(page)
    widget = page.locator(f"{LAST_RESPONSE} >> deep-research-confirmation-widget")
    assert (await widget.locator('[data-test-id="title"]').inner_text()).strip()
    assert await widget.locator(".research-step").count() >= 1
    await widget.locator('[data-test-id="confirm-button"]').click()
    await page.wait_for_function("() => document.querySelectorAll('model-response').length === 2")
    report = await wait_answer(page, count=2)
    # research_report "text" (K5): the report is the turn's own text, not an immersive document.
    assert report.startswith("Research report: history of the bicycle")
    assert await page.locator("immersive-panel").count() == 0
    logged = await sim.requests(psid)
    assert [entry["prompt"] for entry in logged] == ["history of the bicycle", "Start research"]
    assert logged[1]["tool"] == 1


async def test_immersive_research_report_opens_the_panel(new_context: NewContext, mid2026_url: str) -> None:
    async with SimControl(mid2026_url).configured(research_report="immersive"):
        page = await open_page(new_context, mid2026_url, account("paid"))
        await choose_tool(page, "mid2026", "Deep Research")
        await send(page, "history of tea")
        await wait_answer(page)
        await page.locator(f'{LAST_RESPONSE} >> [data-test-id="confirm-button"]').click()
        await wait_answer(page, count=2)
    panel = page.locator("immersive-panel deep-research-immersive-panel #extended-response-markdown-content")
    assert "Research report: history of tea" in await panel.inner_text()


async def test_canvas_document_opens_in_the_immersive_panel(
    new_context: NewContext, sim_url: str, sim: SimControl, ui: str
) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await choose_tool(page, ui, "Canvas")
    await send(page, "write a poem about tea")
    await wait_answer(page)
    code = page.locator('immersive-panel code-immersive-panel xap-code-editor[data-test-id="code-editor"]')
    assert "<!DOCTYPE html>" in await code.inner_text()
    assert await page.locator(f"{LAST_RESPONSE} >> immersive-entry-chip").count() == 1
    [logged] = await sim.requests(psid)
    assert logged["tool"] == 2


async def test_create_video_polls_the_job_then_shows_the_video(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    """video_flow "poll" (J1): the answer shows the job chip; the page polls kwDCne, then reads the
    video from hNvQHb and shows it."""
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await choose_tool(page, ui, "Create video")
    assert await page.locator(EDITOR).get_attribute("data-placeholder") == "Describe your video"
    await send(page, "a cat surfing")
    await wait_answer(page)
    video = page.locator(f"{LAST_RESPONSE} >> video")
    await video.wait_for(state="attached", timeout=20_000)
    assert "/download?" in (await video.get_attribute("src") or "")
    [logged] = await SimControl(sim_url).requests(psid)
    assert logged["tool"] == 11 and logged["video_job"]
    calls = [entry["rpcid"] for entry in await rpc_log(sim_url, psid)]
    assert "kwDCne" in calls and "hNvQHb" in calls
    assert calls.index("hNvQHb", calls.index("kwDCne")) > calls.index("kwDCne")


async def test_streamed_video_shows_at_once(new_context: NewContext, oct2026_url: str) -> None:
    async with SimControl(oct2026_url).configured(video_flow="stream"):
        psid = account("paid")
        page = await open_page(new_context, oct2026_url, psid)
        await choose_tool(page, "oct2026", "Create video")
        await send(page, "a dog surfing")
        await wait_answer(page)
    assert "/download?" in (await page.locator(f"{LAST_RESPONSE} >> video").get_attribute("src") or "")
    assert "hNvQHb" not in [entry["rpcid"] for entry in await rpc_log(oct2026_url, psid)]


@pytest.mark.parametrize("ui", ["oct2026", "mid2026"])  # early 2026's flat drawer has no More tools
async def test_tool_rows_and_more_tools(
    new_context: NewContext, ui: str, request: pytest.FixtureRequest
) -> None:
    """D2/D3: menuitemcheckbox rows with an empty aria-label, an icon name and the label text."""
    page = await open_page(new_context, str(request.getfixturevalue(f"{ui}_url")), account("paid"))
    await page.locator(tools_opener(ui)).click()
    rows = page.locator(
        ".cdk-overlay-pane toolbox-drawer-item > "
        'button.toolbox-drawer-item-list-button[role=menuitemcheckbox][aria-label=""][aria-checked="false"]'
    )
    icons = "buttons => buttons.map(b => b.querySelector('mat-icon').dataset.matIconName)"
    assert await rows.evaluate_all(icons) == ["image_create", "movie", "canvas", "deep_research"]
    await page.locator('.cdk-overlay-pane [data-test-id="more-tools-button"]').click()
    assert await rows.evaluate_all(icons) == [
        "image_create",
        "movie",
        "canvas",
        "deep_research",
        "school",
        "music",
    ]
    assert [text.strip() for text in await rows.all_inner_texts()][-1] == "Create music"


async def test_tools_exclusive_hides_the_other_tools(new_context: NewContext, oct2026_url: str) -> None:
    """ZHT (D7, unverified, a setting): with a tool on, the menu lists no other tool."""
    async with SimControl(oct2026_url).configured(tools_exclusive=True):
        page = await open_page(new_context, oct2026_url, account("paid"))
    await choose_tool(page, "oct2026", "Canvas")
    await page.locator(tools_opener("oct2026")).click()
    rows = page.locator(".cdk-overlay-pane toolbox-drawer-item button[role=menuitemcheckbox]")
    await rows.first.wait_for()
    assert [text.strip() for text in await rows.all_inner_texts()] == ["Canvas"]
    assert await rows.first.get_attribute("aria-checked") == "true"
    assert await page.locator('.cdk-overlay-pane [data-test-id="more-tools-button"]').count() == 0
    await rows.first.click()  # deselects
    await page.locator(tools_opener("oct2026")).click()
    await rows.nth(1).wait_for()
    assert await rows.count() == 4


async def test_web_images_render_without_their_placeholders(
    new_context: NewContext, oct2026_url: str
) -> None:
    page = await open_page(new_context, oct2026_url, account("paid"))
    await send(page, "show me web images of lighthouses")
    text = await wait_answer(page)
    assert "googleusercontent.com" not in text
    images = page.locator(f"{LAST_RESPONSE} >> .web-images web-image img")
    assert await images.count() == 2
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=await images.first.element_handle()
    )


async def test_storybook_gem_sends_the_gem_id(new_context: NewContext, sim_url: str, sim: SimControl) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid, "/gem/storybook")
    assert "Storybook" in await page.locator("bot-info-card").inner_text()
    assert await page.locator('gem-nav-list-item[data-test-id="new-chat-button"] a[href="/app"]').count() == 1
    await send(page, "a story about a brave snail")
    await wait_answer(page)
    [logged] = await sim.requests(psid)
    assert logged["gem"] == "storybook"


async def test_signed_in_page_rotates_cookies(new_context: NewContext, mid2026_url: str) -> None:
    control = SimControl(mid2026_url)
    await control.config(rotation_interval=0.5)
    try:
        psid = account("paid")
        page = await open_page(new_context, mid2026_url, psid)
        assert (await page.evaluate("window.WIZ_global_data.simRotationInterval")) in ("0.5", 0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if await control.rotations(psid):
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail("the page never called /RotateCookies")
        cookies = {cookie["name"] for cookie in await page.context.cookies()}
        assert "__Secure-1PSIDTS" in cookies
    finally:
        await control.config(rotation_interval=600)
