"""The simulator's page calls its side RPCs (batchexecute) the way the real page does, in Chromium:
otAQ7b alone on load (and builds its picker from the answer), MaZiqc for the side nav, ESY5D before
a generate, c8o8Fe on a full-size download, kwDCne around a research."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import Page, Request, Route

from simulator.encoder import GUARD, frame, rpc_envelope
from tests.simulator_page.pagekit import (
    LAST_RESPONSE,
    PRO_HEX,
    UI_TIMEOUT_MS,
    NewContext,
    account,
    account_id,
    choose_tool,
    mode_button,
    open_page,
    send,
    session_cookie,
    wait_answer,
)

pytestmark = pytest.mark.browser

BATCH = "/_/BardChatUi/data/batchexecute"
LOG_TIMEOUT_S = 10.0


async def rpc_log(base: str, psid: str | None) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        log: list[dict[str, Any]] = (await client.get("/_sim/rpcs")).json()
    wanted = account_id(psid) if psid else ""
    return [entry for entry in log if entry["account_id"] == wanted]


async def wait_rpc(base: str, psid: str | None, rpc_id: str, count: int = 1) -> list[dict[str, Any]]:
    """The account's logged calls of ``rpc_id`` once there are ``count`` of them (bounded)."""
    async with asyncio.timeout(LOG_TIMEOUT_S):
        while True:
            entries = [e for e in await rpc_log(base, psid) if e["rpcid"] == rpc_id]
            if len(entries) >= count:
                return entries
            await asyncio.sleep(0.05)


async def picker_labels(page: Page, ui: str) -> list[str]:
    await page.locator(mode_button(ui)).click()
    selector = (
        ".cdk-overlay-pane .mode-title" if ui == "early2026" else ".cdk-overlay-pane gem-menu-item .label"
    )
    await page.wait_for_selector(selector)
    labels = [label.strip() for label in await page.locator(selector).all_inner_texts()]
    await page.keyboard.press("Escape")
    return labels


async def test_load_calls_otaq7b_alone_then_maziqc(new_context: NewContext, sim_url: str, ui: str) -> None:
    psid = account("paid")
    context = await new_context()
    await context.add_cookies([session_cookie(psid)])  # type: ignore[list-item]
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request) if BATCH in request.url else None)
    async with page.expect_request(lambda r: BATCH in r.url and "rpcids=MaZiqc" in r.url):
        await page.goto(sim_url + "/app", wait_until="domcontentloaded")
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    first = seen[0]
    query = parse_qs(urlsplit(first.url).query)
    wiz = await page.evaluate("window.WIZ_global_data")
    assert query["rpcids"] == ["otAQ7b"] and query["rt"] == ["c"] and query["source-path"] == ["/app"]
    assert query["bl"] == [wiz["cfb2h"]] and query["f.sid"] == [wiz["FdrFJe"]]
    form = parse_qs(first.post_data or "")
    assert form["at"] == [wiz["SNlM0e"]]
    assert json.loads(form["f.req"][0]) == [[["otAQ7b", "[]", None, "generic"]]]
    headers = await first.all_headers()
    assert headers["x-same-domain"] == "1" and headers["x-goog-ext-73010989-jspb"] == "[0]"
    logged = await wait_rpc(sim_url, psid, "MaZiqc")
    status = [e for e in await rpc_log(sim_url, psid) if e["rpcid"] == "otAQ7b"]
    assert len(status) == 1 and status[0]["call"] < logged[0]["call"]
    assert status[0]["outcome"] == "ok" and logged[0]["payload"] == [13, None, [0, None, 1]]


async def test_the_side_nav_lists_the_accounts_chats(new_context: NewContext, sim_url: str) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await send(page, "bicycles of the world and their history")
    await wait_answer(page)
    await wait_rpc(sim_url, psid, "MaZiqc", count=2)  # refreshed once the new chat got its id
    cid = urlsplit(page.url).path.removeprefix("/app/")
    await page.goto(sim_url + "/app", wait_until="domcontentloaded")
    row = page.locator(
        'conversations-list[data-test-id="all-conversations"] gem-nav-list-item[data-test-id="conversation"]'
    )
    await row.first.wait_for(state="attached")
    assert await row.count() == 1
    assert await row.locator("a").get_attribute("href") == f"/app/{cid}"
    assert (await row.locator(".title-text").text_content() or "") == "bicycles of the world and their"
    await page.goto(sim_url + f"/app/{cid}", wait_until="domcontentloaded")
    current = page.locator('conversations-list a[aria-current="page"] .title-text')
    await current.wait_for(state="attached")
    assert (await current.text_content() or "").startswith("bicycles")


async def test_settings_rpc_goes_before_every_generate(new_context: NewContext, sim_url: str) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    for n in (1, 2):
        await send(page, f"question {n}")
        await wait_answer(page, count=n)
    settings = await wait_rpc(sim_url, psid, "ESY5D", count=2)
    async with httpx.AsyncClient(base_url=sim_url, timeout=10) as client:
        generates = [
            e for e in (await client.get("/_sim/requests")).json() if e["account_id"] == account_id(psid)
        ]
    assert [e["payload"] for e in settings] == [[[["bard_activity_enabled"]]]] * 2
    assert settings[0]["call"] < generates[0]["id"] < settings[1]["call"] < generates[1]["id"]


async def test_full_size_download_calls_c8o8fe_and_saves_the_original(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await choose_tool(page, ui, "Create image")
    await send(page, "a red bicycle")
    await wait_answer(page)
    image = page.locator(f"{LAST_RESPONSE} >> single-image img").first
    button = page.locator(f'{LAST_RESPONSE} >> button[data-test-id="download-generated-image-button"]').first
    await image.hover()
    async with page.expect_download() as download_info:
        await button.click()
    download = await download_info.value
    path = await download.path()
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert download.suggested_filename.startswith("Gemini_Generated_Image_")
    [call] = await wait_rpc(sim_url, psid, "c8o8Fe")
    assert call["outcome"] == "ok"
    assert call["payload"][0][1][0] == "http://googleusercontent.com/image_generation_content/0"
    rid, rcid, cid = call["payload"][1][:3]
    assert (
        cid == "c_" + urlsplit(page.url).path.removeprefix("/app/")
        and rid.startswith("r_")
        and rcid.startswith("rc_")
    )
    src = await image.get_attribute("src") or ""
    async with httpx.AsyncClient(timeout=10, cookies={"__Secure-1PSID": psid}) as client:
        original = (await client.get(src.rpartition("=")[0] + "=s0")).content
    assert data == original


async def test_free_picker_lacks_pro_because_the_answer_says_so(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    psid = account("free")
    page = await open_page(new_context, sim_url, psid)
    config = json.loads(await page.locator("#sim-page-config").text_content() or "{}")
    assert PRO_HEX in [mode["hex"] for mode in config["catalogue"]["modes"]], "the catalogue still has Pro"
    labels = await picker_labels(page, ui)
    assert labels and not any(label in ("Pro", "3.1 Pro") for label in labels)
    [status] = await wait_rpc(sim_url, psid, "otAQ7b")
    assert status["outcome"] == "ok"


async def test_a_paid_picker_follows_an_answer_without_pro(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    """The answer decides: a paid account whose otAQ7b answer drops Pro gets no Pro in its picker."""
    psid = account("paid")
    context = await new_context()
    await context.add_cookies([session_cookie(psid)])  # type: ignore[list-item]

    async def without_pro(route: Route) -> None:
        response = await route.fetch()
        text = await response.text()
        line = text.split("\n")[3]
        item = json.loads(line)[0]
        body = json.loads(item[2])
        body[15] = [entry for entry in body[15] if entry[0] != PRO_HEX]
        replaced = GUARD + frame([rpc_envelope("otAQ7b", body, "generic")])
        await route.fulfill(response=response, body=replaced)

    await context.route(lambda url: BATCH in url and "rpcids=otAQ7b" in url, without_pro)
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    await page.goto(sim_url + "/app", wait_until="domcontentloaded")
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    labels = await picker_labels(page, ui)
    assert labels and not any(label in ("Pro", "3.1 Pro") for label in labels)
    assert any("Flash" in label or label == "Fast" for label in labels)


async def test_signed_out_and_expired_pages_fall_back_to_what_was_rendered(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    # Every signed-out visitor shares one log identity: count the calls made before this page.
    before = len([e for e in await rpc_log(sim_url, None) if e["rpcid"] == "otAQ7b"])
    anon = await open_page(new_context, sim_url, None)
    rejected = (await wait_rpc(sim_url, None, "otAQ7b", count=before + 1))[-1]
    assert rejected["error_code"] == 7
    assert await picker_labels(anon, ui) == (["Fast"] if ui == "early2026" else ["3.1 Flash-Lite"])
    psid = account("expired")
    page = await open_page(new_context, sim_url, psid)
    assert await page.locator('a[aria-label^="Google Account:"]').count() == 1
    [status] = await wait_rpc(sim_url, psid, "otAQ7b")
    assert status["outcome"] == "ok"
    assert "Pro" in " ".join(await picker_labels(page, ui)), "the DOM does not reveal the dead session"


async def test_research_status_is_asked_for_the_plan_and_the_report(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    psid = account("paid")
    page = await open_page(new_context, sim_url, psid)
    await choose_tool(page, ui, "Deep Research")
    await send(page, "history of the bicycle")
    await wait_answer(page)
    [awaiting] = await wait_rpc(sim_url, psid, "kwDCne")
    await page.locator(f'{LAST_RESPONSE} >> [data-test-id="confirm-button"]').click()
    await wait_answer(page, count=2)
    calls = await wait_rpc(sim_url, psid, "kwDCne", count=2)
    assert calls[0]["payload"] == calls[1]["payload"] == awaiting["payload"]
    assert all(call["outcome"] == "ok" for call in calls)


async def test_the_page_is_ready_only_once_the_status_answer_built_the_picker(
    new_context: NewContext, sim_url: str
) -> None:
    psid = account("paid")
    context = await new_context()
    await context.add_cookies([session_cookie(psid)])  # type: ignore[list-item]
    held: asyncio.Queue[Route] = asyncio.Queue()
    await context.route(lambda url: BATCH in url and "rpcids=otAQ7b" in url, held.put_nowait)
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    await page.goto(sim_url + "/app", wait_until="domcontentloaded")
    async with asyncio.timeout(LOG_TIMEOUT_S):
        route = await held.get()
    await page.wait_for_selector("bard-mode-switcher button", state="attached")
    assert await page.evaluate("document.body.dataset.ready") is None
    # A driver that sends as soon as the editor shows does not lose its prompt.
    await send(page, "early bird")
    await route.continue_()
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    assert "Echo: early bird" in await wait_answer(page)


async def test_a_picker_click_before_the_status_answer_opens_the_picker_after_it(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    context = await new_context()
    await context.add_cookies([session_cookie(account("paid"))])  # type: ignore[list-item]
    held: asyncio.Queue[Route] = asyncio.Queue()
    await context.route(lambda url: BATCH in url and "rpcids=otAQ7b" in url, held.put_nowait)
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    await page.goto(sim_url + "/app", wait_until="domcontentloaded")
    async with asyncio.timeout(LOG_TIMEOUT_S):
        route = await held.get()
    await page.locator(mode_button(ui)).click()
    assert await page.locator(".cdk-overlay-pane [role=menu]").count() == 0
    await route.continue_()
    await page.locator(".cdk-overlay-pane [role=menu]").wait_for(state="visible")
