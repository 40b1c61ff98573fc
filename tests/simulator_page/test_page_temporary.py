"""The page's Temporary chat (page.md §1.13): the side nav's button turns the next chat temporary; its
requests carry inner[45] = 1, it shows the temporary card, stays out of the side nav's list and its
URL opens nothing later. Clicking the button in a begun chat starts a new chat in the other mode."""

from __future__ import annotations

import json
import re

import pytest

from tests.simulator_page.pagekit import (
    NewContext,
    SimControl,
    account,
    open_page,
    send,
    wait_answer,
    wait_rpc,
)

pytestmark = pytest.mark.browser

BUTTON = 'temp-chat-button button[data-test-id="temp-chat-button"]'
SIDE_NAV = 'button[data-test-id="side-nav-menu-button"]'
CARD = '[data-test-id="temporary-chat-card"]'


async def test_temporary_chat_through_the_side_nav(new_context: NewContext, oct2026_url: str) -> None:
    sim = SimControl(oct2026_url)
    psid = account("paid")
    page = await open_page(new_context, oct2026_url, psid)
    button = page.locator(BUTTON)
    assert not await button.is_visible()  # the side nav ships collapsed (CWC opens it first)
    await page.locator(SIDE_NAV).click()
    await button.click()
    assert await button.get_attribute("aria-pressed") == "true"
    assert "temp-chat-on" in (await button.get_attribute("class") or "")
    assert "Just passing through" in await page.locator(CARD).inner_text()

    async with page.expect_request(re.compile(r"/StreamGenerate\?")) as captured:
        await send(page, "keep this between us")
    inner = json.loads(json.loads((await captured.value).post_data_json["f.req"])[1])
    assert inner[45] == 1
    assert "Turn 1 of chat" in await wait_answer(page)
    [logged] = await sim.requests(psid)
    assert logged["temporary"] is True and logged["chat_temporary"] is True
    # The chat got an address, which opens nothing, and no row in the side nav's list.
    await wait_rpc(oct2026_url, psid, "MaZiqc", 2)  # at boot, then once the chat got its id
    assert await page.locator('[data-test-id="conversation"]').count() == 0
    address = page.url
    assert re.fullmatch(r".*/app/[0-9a-f]{16}", address), address

    # The button in a begun chat: a new, ordinary chat (the card gone, inner[45] unset).
    await button.click()
    assert await button.get_attribute("aria-pressed") == "false"
    assert await page.locator(CARD).count() == 0 and await page.locator("model-response").count() == 0
    await send(page, "this one is kept")
    await wait_answer(page)
    assert [entry["temporary"] for entry in await sim.requests(psid)] == [True, False]
    await page.wait_for_selector('[data-test-id="conversation"]', state="attached")
    assert await page.locator('[data-test-id="conversation"]').count() == 1

    await page.goto(address, wait_until="domcontentloaded")
    await page.get_by_text("This chat couldn't be loaded").wait_for()
