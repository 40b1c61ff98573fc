"""The simulator's page calls its side RPCs (batchexecute) the way the real page does, in Chromium:
otAQ7b alone on load (and builds its picker from the answer), MaZiqc for the side nav, ESY5D before
a generate, c8o8Fe on a full-size download, kwDCne around a research."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.async_api import BrowserContext, Request, Route

from simulator.encoder import GUARD, frame, rpc_envelope
from tests.simulator_page.pagekit import (
    LAST_RESPONSE,
    LOG_TIMEOUT_S,
    PRO_HEX,
    SHARED_PAGE_PARTS,
    UI_TIMEOUT_MS,
    NewContext,
    account,
    account_id,
    choose_tool,
    menu_labels,
    mode_button,
    open_page,
    rpc_log,
    send,
    session_cookie,
    wait_answer,
    wait_rpc,
)

pytestmark = pytest.mark.browser

BATCH = "/_/BardChatUi/data/batchexecute"


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


@SHARED_PAGE_PARTS
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


@SHARED_PAGE_PARTS
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


# AUTO's real-shaped entry (file 68807630420), which an extension injects into otAQ7b [15].
AUTO_ENTRY = [
    "a74ec8485b3b5ce4",
    "Auto",
    "Adapts to your needs",
    [2, 49, 52, 53],
    2,
    *[None] * 5,
    "Auto",
    "Auto",
    "Adapts to your needs",
    *[None] * 4,
    4,
    ["https://fonts.gstatic.com/s/i/short-term/release/googlesymbols/hdr_auto/default/24px.svg", True],
]


async def _with_status_rewritten(context: BrowserContext, rewrite: Callable[[list[Any]], None]) -> None:
    async def handler(route: Route) -> None:
        response = await route.fetch()
        body = json.loads(json.loads((await response.text()).split("\n")[3])[0][2])
        rewrite(body)
        await route.fulfill(response=response, body=GUARD + frame([rpc_envelope("otAQ7b", body, "generic")]))

    await context.route(lambda url: BATCH in url and "rpcids=otAQ7b" in url, handler)


async def test_the_picker_is_built_from_the_status_answer(new_context: NewContext, oct2026_url: str) -> None:
    """Rows come from otAQ7b [15] in its order, labelled by [11] and described by [12] (G4): a row
    the page has never heard of (AUTO's injected "Auto") shows and can be sent."""
    psid = account("paid")
    context = await new_context()
    await context.add_cookies([session_cookie(psid)])  # type: ignore[list-item]
    await _with_status_rewritten(context, lambda body: body[15].insert(0, AUTO_ENTRY))
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    await page.goto(oct2026_url + "/app", wait_until="domcontentloaded")
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    assert await menu_labels(page, "oct2026") == ["Auto", "3.5 Flash-Lite", "3.8 Flash", "3.1 Pro"]
    await page.locator(mode_button("oct2026")).click()
    auto = page.locator('gem-menu-item[data-mode-id="a74ec8485b3b5ce4"]')
    assert await auto.get_attribute("data-test-id") == "bard-mode-option-a74ec8485b3b5ce4"
    await auto.click()
    assert await page.locator(mode_button("oct2026")).get_attribute("aria-label") == (
        "Open mode picker, currently Auto"
    )
    async with page.expect_request(lambda r: "StreamGenerate" in r.url) as captured:
        await send(page, "auto?")
    header = json.loads((await captured.value).headers["x-goog-ext-525001261-jspb"])
    assert (header[4], header[14]) == ("a74ec8485b3b5ce4", 4)


async def test_a_paid_picker_follows_an_answer_without_pro(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    """The answer decides: a paid account whose otAQ7b answer drops Pro gets no Pro in its picker."""
    psid = account("paid")
    context = await new_context()
    await context.add_cookies([session_cookie(psid)])  # type: ignore[list-item]

    def without_pro(body: list[Any]) -> None:
        body[15] = [entry for entry in body[15] if entry[0] != PRO_HEX]

    await _with_status_rewritten(context, without_pro)
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    await page.goto(sim_url + "/app", wait_until="domcontentloaded")
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    labels = await menu_labels(page, ui)
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
    light = {"oct2026": "3.5 Flash-Lite", "mid2026": "3.1 Flash-Lite", "early2026": "Fast"}[ui]
    assert await menu_labels(anon, ui) == [light]
    psid = account("expired")
    page = await open_page(new_context, sim_url, psid)
    assert await page.locator('a[aria-label^="Google Account:"]').count() == 1
    [status] = await wait_rpc(sim_url, psid, "otAQ7b")
    assert status["outcome"] == "ok"
    assert "Pro" in " ".join(await menu_labels(page, ui)), "the DOM does not reveal the dead session"


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
