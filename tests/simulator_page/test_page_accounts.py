"""What each kind of account sees: paid, free, signed out, captcha, consent, limited, blocked."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page

from tests.simulator_page.pagekit import (
    NewContext,
    SimControl,
    account,
    mode_button,
    open_page,
    send,
    upload_opener,
    wait_answer,
)

pytestmark = pytest.mark.browser


async def wiz(page: Page) -> dict[str, str]:
    result: dict[str, str] = await page.evaluate("window.WIZ_global_data")
    return result


async def menu_labels(page: Page, ui: str) -> list[str]:
    await page.locator(mode_button(ui)).click()
    selector = (
        ".cdk-overlay-pane .mode-title" if ui == "early2026" else ".cdk-overlay-pane gem-menu-item .label"
    )
    await page.wait_for_selector(selector)
    labels = await page.locator(selector).all_inner_texts()
    await page.keyboard.press("Escape")
    return [label.strip() for label in labels]


async def test_paid_account_has_pro_tools_and_account_marker(
    new_context: NewContext, sim_url: str, ui: str
) -> None:
    page = await open_page(new_context, sim_url, account("paid"))
    assert "SNlM0e" in await wiz(page)
    assert await page.locator('a[aria-label^="Google Account:"]').count() == 1
    assert await page.locator('a[aria-label="Sign in"]').count() == 0
    labels = await menu_labels(page, ui)
    assert ("Pro" if ui == "early2026" else "3.1 Pro") in labels
    await page.locator(
        upload_opener(ui) if ui == "mid2026" else 'toolbox-drawer button:has-text("Tools")'
    ).click()
    tools = await page.locator(
        ".cdk-overlay-pane toolbox-drawer-item button[role=menuitemcheckbox]"
    ).all_inner_texts()
    assert any("Create image" in tool for tool in tools)
    assert any("Canvas" in tool for tool in tools)


async def test_free_account_has_no_pro_and_no_tools(
    new_context: NewContext, sim_url: str, sim: SimControl, ui: str
) -> None:
    psid = account("free")
    page = await open_page(new_context, sim_url, psid)
    assert "SNlM0e" in await wiz(page)
    labels = await menu_labels(page, ui)
    assert labels and not any("Pro" in label for label in labels)
    assert await page.locator('toolbox-drawer button:has-text("Tools")').count() == 0
    await page.locator(upload_opener(ui)).click()
    await page.wait_for_selector(".cdk-overlay-pane images-files-uploader", state="attached")
    assert await page.locator(".cdk-overlay-pane toolbox-drawer-item").count() == 0
    await page.keyboard.press("Escape")
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
    sign_in = page.locator('a[aria-label="Sign in"][href^="https://accounts.google.com/ServiceLogin"]')
    assert await sign_in.count() == 1
    assert (await page.locator("sidenav-mavatar-footer").inner_text()).strip() == "Sign in"
    assert await page.locator("uploader-signed-out-tooltip").count() == 1
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


async def test_captcha_account_lands_on_sorry_page(new_context: NewContext, sim_url: str) -> None:
    page = await open_page(new_context, sim_url, account("captcha"))
    assert "/sorry/index" in page.url
    assert "unusual traffic" in (await page.content()).lower()


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
async def test_refused_accounts_show_the_error_as_a_finished_turn(
    new_context: NewContext, sim_url: str, kind: str, phrase: str
) -> None:
    page = await open_page(new_context, sim_url, account(kind))
    await send(page, "will be refused")
    text = await wait_answer(page)
    assert phrase in text


async def test_transient_error_shows_something_went_wrong(
    new_context: NewContext, sim_url: str, sim: SimControl
) -> None:
    psid = account("paid")
    await sim.behaviours(psid, {"kind": "error", "code": 1013})
    page = await open_page(new_context, sim_url, psid)
    await send(page, "glitch")
    assert "Something went wrong (1013)" in await wait_answer(page)
    await send(page, "again")
    assert "Turn 1" in await wait_answer(page, count=2)
