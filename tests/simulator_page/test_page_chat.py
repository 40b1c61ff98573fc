"""Sending, streaming, modes, exact prompts, stopping and continuing a chat, in both UI generations."""

from __future__ import annotations

import json
import re

import pytest

from tests.simulator_page.pagekit import (
    EDITOR,
    LAST_RESPONSE,
    PRO_HEX,
    SEND,
    SEND_ANY,
    SHARED_PAGE_PARTS,
    STOP,
    THINKING_HEX,
    UI_GENERATIONS,
    NewContext,
    SimControl,
    account,
    choose_mode,
    mode_button,
    open_page,
    send,
    type_prompt,
    wait_answer,
)

pytestmark = pytest.mark.browser


async def test_send_carries_prompt_and_chosen_pro_mode(
    new_context: NewContext, sim_url: str, sim: SimControl, ui: str
) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await choose_mode(page, ui, "pro")
    async with page.expect_request(re.compile(r"/StreamGenerate\?")) as captured:
        await send(page, "What is 2+2?")
    request = await captured.value
    header = json.loads(request.headers["x-goog-ext-525001261-jspb"])
    assert header[4] == PRO_HEX and header[14] == 3 and len(header) == 17
    assert request.headers["x-same-domain"] == "1"
    assert "rt=c" in request.url and "_reqid=" in request.url and "bl=" in request.url

    text = await wait_answer(page)
    assert "Turn 1 of chat" in text
    [logged] = await sim.requests(psid)
    assert logged["prompt"] == "What is 2+2?"
    assert logged["mode_hex"] == PRO_HEX
    assert re.fullmatch(r".*/app/[0-9a-f]+", page.url), page.url
    assert await page.locator(EDITOR).inner_text() in ("", "\n")


async def test_early_2026_thinking_model_streams_thoughts(
    new_context: NewContext, early2026_url: str
) -> None:
    """Early 2026 still had a Thinking *model* (APIREF 2026-04), with its own id."""
    psid = account("paid")
    page = await open_page(new_context, early2026_url, psid)
    await choose_mode(page, "early2026", "thinking")
    assert await page.locator('[data-test-id="logo-pill-label-container"]').inner_text() == "Thinking"
    await send(page, "Think about it")
    await wait_answer(page)
    thoughts = page.locator(f'{LAST_RESPONSE} >> [data-test-id="thoughts-content"]')
    assert (await thoughts.inner_text()).strip()
    await page.locator(f'{LAST_RESPONSE} >> [data-test-id="thoughts-header-button"]').click()
    [logged] = await SimControl(early2026_url).requests(psid)
    assert (logged["mode_hex"], logged["mode_category"], logged["served_model_label"]) == (
        THINKING_HEX,
        2,
        "Thinking",
    )


async def test_mode_menu_lives_in_the_overlay_and_closes(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    page = await open_page(new_context, sim_url, account("paid"))
    pane = ".cdk-overlay-pane " + (
        ".gds-mode-switch-menu[role=menu]"
        if ui == "early2026"
        else '[data-test-id="gem-mode-menu"][role=menu]'
    )
    # October 2026 mounts the menu as a popover next to its trigger (C6, OCT), the others in the
    # CDK overlay container, away from the trigger.
    menu = (
        "bard-mode-switcher > div.pill-ui-logo-container > div[popover=manual].cdk-overlay-popover > " + pane
        if ui == "oct2026"
        else ".cdk-overlay-container > .cdk-overlay-connected-position-bounding-box > " + pane
    )
    backdrop = ".cdk-overlay-container > .cdk-overlay-backdrop.cdk-overlay-backdrop-showing"
    await page.locator(mode_button(ui)).click()
    await page.wait_for_selector(menu)
    assert await page.locator(backdrop).count() == 1
    if ui != "oct2026":
        assert await page.locator(f"bard-mode-switcher {pane}").count() == 0
    await page.keyboard.press("Escape")
    await page.wait_for_selector(menu, state="detached")
    assert await page.locator(backdrop).count() == 0
    await page.locator(mode_button(ui)).click()
    await page.wait_for_selector(menu)
    await page.mouse.click(5, 5)  # lands on the transparent backdrop
    await page.wait_for_selector(menu, state="detached")
    assert await page.locator(mode_button(ui)).get_attribute("aria-expanded") in (None, "false")


@pytest.mark.parametrize("ui", UI_GENERATIONS)
async def test_text_streams_before_the_action_row(
    new_context: NewContext, slow_urls: dict[str, str], ui: str
) -> None:
    page = await open_page(new_context, slow_urls[ui], account("paid"))
    await send(page, "Stream please")
    markdown = page.locator(f"{LAST_RESPONSE} >> message-content .markdown")
    await page.wait_for_function(
        """() => {
            const r = [...document.querySelectorAll('model-response')].pop();
            if (!r || r.querySelector('message-actions')) return false;
            return r.querySelector('.markdown').innerText.trim().length > 0;
        }"""
    )
    partial = await markdown.inner_text()
    assert await page.locator(STOP).count() == 1
    final = await wait_answer(page)
    assert len(final) > len(partial)
    assert await page.locator(STOP).count() == 0


@SHARED_PAGE_PARTS
async def test_newlines_and_unicode_arrive_exactly(
    new_context: NewContext, sim_url: str, sim: SimControl
) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await type_prompt(page, "line one\n\n  indented  twice 😄 你好\u00a0end")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("typed ü")
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.press("Enter")
    await wait_answer(page)
    [logged] = await sim.requests(psid)
    assert logged["prompt"] == "line one\n\n  indented  twice 😄 你好 end\ntyped ü\n"
    query = await page.locator("user-query .query-text").last.inner_text()
    assert "😄 你好" in query


@SHARED_PAGE_PARTS
async def test_a_hundred_thousand_characters_arrive_exactly(
    new_context: NewContext, sim_url: str, sim: SimControl
) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    # Accents, CJK and an astral emoji (two UTF-16 units) on every line; 125 002 UTF-8 bytes, so under
    # the simulator's 130 000-byte request wall and nothing is truncated.
    prompt = "".join(f"{i:05d} línea ü 😄 你好 of a long prompt\n" for i in range(4000))[:100_000]
    assert len(prompt.encode("utf-8")) < 130_000
    await send(page, prompt)
    text = await wait_answer(page)
    assert "I received 100000 characters" in text
    [logged] = await sim.requests(psid)
    assert logged["prompt"] == prompt


async def test_send_button_exists_only_with_text(new_context: NewContext, sim_url: str, ui: str) -> None:
    page = await open_page(new_context, sim_url, account("paid"))
    editor = page.locator(EDITOR)
    assert await page.locator(SEND).count() == 0
    assert "ql-blank" in (await editor.get_attribute("class") or "")
    await type_prompt(page, "x")
    button = page.locator(SEND)
    await button.wait_for()
    if ui == "early2026":
        assert await button.locator('mat-icon[data-mat-icon-name="send"]').count() == 1
        assert await button.evaluate("b => b.classList.contains('send-button')")
    else:
        # B6/B10 (PWA): the classes sit on the gem-icon-button wrapper only.
        structure = (
            '[data-test-id="send-button-container"] > gem-icon-button.send-button.submit > ' + SEND_ANY
        )
        assert await page.locator(structure).count() == 1
        assert not await button.evaluate("b => b.classList.contains('send-button')")
        names = await button.locator("[data-mat-icon-name]").evaluate_all(
            "icons => icons.map(i => i.dataset.matIconName)"
        )
        assert names == ([] if ui == "oct2026" else ["arrow_upward"])
    await page.keyboard.press("Backspace")
    await page.wait_for_selector(SEND, state="detached")
    assert "ql-blank" in (await editor.get_attribute("class") or "")


async def test_october_2026_has_a_hidden_send_button_earlier_in_the_dom(
    new_context: NewContext, oct2026_url: str
) -> None:
    """INT: "Gemini may replace it during input" (B7): the first match is hidden, the visible one
    is later; a driver that takes ``.first`` waits forever."""
    page = await open_page(new_context, oct2026_url, account("paid"))
    await type_prompt(page, "x")
    await page.locator(SEND).wait_for()
    matches = page.locator(f"input-area-v2 {SEND_ANY}")
    assert await matches.count() == 2
    assert not await matches.first.is_visible() and await matches.last.is_visible()
    await page.locator(SEND).click()
    await wait_answer(page)


@pytest.mark.parametrize("ui", UI_GENERATIONS)
async def test_stop_aborts_and_keeps_the_partial_answer(
    new_context: NewContext, slow_urls: dict[str, str], ui: str
) -> None:
    page = await open_page(new_context, slow_urls[ui], account("paid"))
    aborted: list[str] = []
    page.on("requestfailed", lambda request: aborted.append(request.url))
    await send(page, "Long answer please")
    await page.wait_for_function(
        """() => {
            const r = [...document.querySelectorAll('model-response')].pop();
            return (r?.querySelector('.markdown').innerText || '').length > 0;
        }"""
    )
    stop = page.locator(STOP)
    assert await stop.locator('mat-icon[fonticon="stop"]').count() == 1
    if ui != "early2026":  # PWA: stop = gem-icon-button.send-button.stop > button
        wrapper = '[data-test-id="send-button-container"] > gem-icon-button.send-button.stop > ' + STOP
        assert await page.locator(wrapper).count() == 1
    await stop.click()
    await page.wait_for_selector(STOP, state="detached")
    partial = await page.locator(f"{LAST_RESPONSE} >> message-content .markdown").inner_text()
    assert partial.strip()
    await page.wait_for_timeout(600)
    assert await page.locator(f"{LAST_RESPONSE} >> message-content .markdown").inner_text() == partial
    assert any("StreamGenerate" in url for url in aborted)


@SHARED_PAGE_PARTS
async def test_app_cid_renders_earlier_turns_and_continues(
    new_context: NewContext, sim_url: str, sim: SimControl
) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await send(page, "first question")
    await wait_answer(page)
    match = re.search(r"/app/([0-9a-f]+)$", page.url)
    assert match, page.url
    chat_id = match.group(1)

    again = await open_page(new_context, sim_url, psid, f"/app/{chat_id}")
    await again.wait_for_selector("model-response message-actions")
    assert "first question" in await again.locator("user-query .query-text").first.inner_text()
    await send(again, "second question")
    text = await wait_answer(again, count=2)
    assert f"Turn 2 of chat c_{chat_id}" in text
    logged = await sim.requests(psid)
    assert [entry["prompt"] for entry in logged] == ["first question", "second question"]
    first, second = logged
    assert second["sent_cid"] == first["cid"] == f"c_{chat_id}"
    # The page sent back the ids and context token of the turn it rendered from the chat page, so
    # the simulator continued the chat rather than treating the ids as stale.
    assert (second["sent_rid"], second["sent_rcid"]) == (first["rid"], first["rcid"])
    assert second["sent_context_token"] == first["context_token"] and first["context_token"]
    assert second["chat_status"] == "continued" and second["turn_index"] == 1


@SHARED_PAGE_PARTS
async def test_unknown_chat_cannot_be_loaded(new_context: NewContext, sim_url: str) -> None:
    page = await open_page(new_context, sim_url, account("paid"), "/app/00000000deadbeef")
    assert await page.get_by_text("This chat couldn't be loaded").count() == 1
    assert await page.locator("model-response").count() == 0


@SHARED_PAGE_PARTS
async def test_a_c_prefixed_chat_url_is_not_a_chat(new_context: NewContext, sim_url: str) -> None:
    """A3: real chat URLs are /app/<16 hex>; /app/c_<hex> is unknown even when the chat exists."""
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await send(page, "a chat that exists")
    await wait_answer(page)
    chat_id = page.url.rsplit("/", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{16}", chat_id), page.url
    again = await open_page(new_context, sim_url, psid, f"/app/c_{chat_id}")
    assert await again.get_by_text("This chat couldn't be loaded").count() == 1
    assert await again.locator("model-response").count() == 0


@SHARED_PAGE_PARTS
async def test_structure_of_a_finished_turn(new_context: NewContext, sim_url: str) -> None:
    page = await open_page(new_context, sim_url, account("paid"))
    await send(page, "Structure")
    await wait_answer(page)
    path = (
        "chat-window infinite-scroller#chat-history[data-test-id=chat-history-container] "
        "> .conversation-container "
        "> model-response > response-container > .response-container > "
        "structured-content-container.model-response-text > message-content[data-test-id=message-content] "
        "> div.markdown.markdown-main-panel"
    )
    assert await page.locator(path).count() == 1
    hidden = await page.locator(".conversation-container .cdk-visually-hidden").all_inner_texts()
    assert [text.strip() for text in hidden] == ["You said", "Gemini said"]
    actions = page.locator(f"{LAST_RESPONSE} >> message-actions")
    assert await actions.locator('button[aria-label="Good response"]').count() == 1
    assert await actions.locator('button[aria-label="Bad response"]').count() == 1
    assert await actions.locator('[data-test-id="copy-button"]').count() == 1
