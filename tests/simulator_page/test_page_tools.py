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
    send,
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
    await wait_answer(page, count=2)
    logged = await sim.requests(psid)
    assert [entry["prompt"] for entry in logged] == ["history of the bicycle", "Start research"]
    assert logged[1]["tool"] == 1


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


async def test_create_video_shows_the_video(new_context: NewContext, sim_url: str, ui: str) -> None:
    page = await open_page(new_context, sim_url, account("paid"))
    await choose_tool(page, ui, "Create video")
    assert await page.locator(EDITOR).get_attribute("data-placeholder") == "Describe your video"
    await send(page, "a cat surfing")
    await wait_answer(page)
    video = page.locator(f"{LAST_RESPONSE} >> video")
    assert "/download?" in (await video.get_attribute("src") or "")


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
