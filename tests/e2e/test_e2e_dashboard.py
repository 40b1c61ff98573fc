"""The operator's dashboard in real Chromium on the real stack (simulator + BrowserPool): after some
traffic, its charts show the requests, errors and times to first token; the last errors list the
request ids the clients got back (``X-Request-Id``, theirs or made here); the live panel refreshes in
place; the light and dark themes follow the system and the toggle (kept across reloads); at a phone's
width nothing scrolls sideways. Screenshots are taken every run; with ``UPDATE_SCREENSHOTS=1`` they
replace the ones under ``docs/images/`` shown by docs/operations/dashboard.md (otherwise a run leaves
the checkout clean)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect
from pydantic import SecretStr

from service.admin.ui import PANELS_REFRESH_MS
from tests.conftest import NewContext
from tests.e2e.conftest import KEY_A, WAIT, Stack, running_stack
from tests.support.paths import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_KEY = "adm-dash-e2e-key-0123456789"
RUN = uuid.uuid4().hex[:8]
IMAGES = ROOT / "docs" / "images"
UPDATE = os.environ.get("UPDATE_SCREENSHOTS") == "1"
LIGHT_BG, DARK_BG = "rgb(246, 247, 249)", "rgb(18, 22, 28)"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return IMAGES if UPDATE else tmp_path_factory.mktemp("dash-shots")


@pytest.fixture(scope="module")
def dash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("e2e-dash"), ("paid", "free"), admin_keys=(SecretStr(ADMIN_KEY),)
    ) as running:
        yield running


def chat(
    stack: Stack, model: str, text: str, request_id: str | None = None, key: str = KEY_A
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    if request_id is not None:
        headers["X-Request-Id"] = request_id
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return httpx.post(stack.url + "/v1/chat/completions", json=body, headers=headers, timeout=90)


@pytest.fixture(scope="module")
def traffic(dash_stack: Stack) -> dict[str, str]:
    """Answers on both accounts, and errors whose ids the dashboard must show."""
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    created = httpx.post(
        dash_stack.url + "/admin/keys", json={"name": "free-only", "accounts": ["e2e-free"]}, headers=admin
    )
    free_only = created.json()["key"]  # so that the free account surely serves a turn
    created = httpx.post(
        dash_stack.url + "/admin/keys", json={"name": "paid-only", "accounts": ["e2e-paid"]}, headers=admin
    )
    paid_only = created.json()["key"]  # and the paid one too: free pages offer a limited Pro (D8)
    for model, text, key in (
        ("gemini-2.5-pro", "hello", paid_only),
        ("gemini-2.5-flash-free", "hi", free_only),
        ("gemini-2.5-pro", "again", KEY_A),
    ):
        answered = chat(dash_stack, model, f"{text} {RUN}", key=key)
        assert answered.status_code == 200, answered.text
        assert answered.headers["x-request-id"].startswith("req_")  # made here
    ours = f"client-{RUN}-404"
    unknown = chat(dash_stack, "gemini-0-nope", "x", request_id=ours)
    assert unknown.status_code == 404 and unknown.headers["x-request-id"] == ours  # the client's, kept
    hostile = chat(dash_stack, "gemini-0-nope", "x", request_id="<script>alert(1)</script>")
    made = hostile.headers["x-request-id"]
    assert made.startswith("req_")  # an unsafe id is replaced, never echoed
    return {"given": ours, "made": made}


async def signed_in(
    new_context: NewContext, stack: Stack, *, fake_clock: bool = False, **options: object
) -> Page:
    """A page of a new context (``options``) on the dashboard, signed in; with ``fake_clock`` the
    page's timers run only when the test advances its clock (``page.clock``)."""
    page = await (await new_context(**options)).new_page()
    if fake_clock:
        now = time.time()
        await page.clock.install(time=now)
        await page.clock.pause_at(now + 1)  # installed, it would run on by itself
    await page.goto(stack.url + "/admin/ui")
    await page.fill("input[name=key]", ADMIN_KEY)
    await page.click("button[type=submit]")
    await expect(page.locator("#accounts")).to_contain_text("e2e-paid")
    return page


async def background(page: Page) -> str:
    return str(await page.evaluate("getComputedStyle(document.body).backgroundColor"))


async def save_screenshot(page: Page, shots: Path, name: str) -> None:
    """Once the accounts' page screenshots have loaded, as a small JPEG."""
    for shot in await page.locator("img.shot").all():
        await expect(shot).to_have_js_property("complete", True, timeout=WAIT * 1000)
    await page.screenshot(path=str(shots / name), type="jpeg", quality=70)


async def test_charts_errors_and_live_refresh(
    dash_stack: Stack, traffic: dict[str, str], new_context: NewContext, shots: Path
) -> None:
    page = await signed_in(
        new_context,
        dash_stack,
        fake_clock=True,
        viewport={"width": 1280, "height": 1000},
        color_scheme="light",
    )

    assert int(await page.locator("#tile-requests").inner_text()) >= 5
    assert int(await page.locator("#tile-errors").inner_text()) >= 2
    requests = page.locator("#chart-requests")
    assert await requests.get_attribute("data-empty") == "no"
    assert await requests.locator("rect.ok").count() >= 1 and await requests.locator("rect.err").count() >= 1
    assert await page.locator("#chart-first-token circle.p50").count() >= 1
    for account in ("e2e-paid", "e2e-free"):
        row = page.locator(f"tr[data-activity={account}]")
        assert await row.locator("rect.ok").count() >= 1, account
        await expect(row).not_to_contain_text("— / —")  # it has first-token and answer times
    errors = page.locator("#last-errors")
    for request_id in traffic.values():
        await expect(errors.locator(f'tr[data-request-id="{request_id}"]')).to_contain_text("404")
    assert "<script>" not in await errors.inner_text()

    # The live panel refreshes in place, without a reload: a new error appears by itself.
    later = f"client-{RUN}-later"
    await page.evaluate("window.stayed = true")  # a reload would forget it
    assert chat(dash_stack, "gemini-0-later", "x", request_id=later).status_code == 404
    await expect(errors.locator(f'tr[data-request-id="{later}"]')).to_have_count(0)  # not before a refresh
    await page.clock.run_for(PANELS_REFRESH_MS)  # the page's next refresh, not up to 10 s of waiting
    await expect(errors.locator(f'tr[data-request-id="{later}"]')).to_have_count(1, timeout=WAIT * 1000)
    assert await page.evaluate("window.stayed === true")

    await save_screenshot(page, shots, "dashboard-light.jpg")


async def test_light_and_dark_themes(
    dash_stack: Stack, traffic: dict[str, str], new_context: NewContext, shots: Path
) -> None:
    page = await signed_in(
        new_context, dash_stack, viewport={"width": 1280, "height": 1000}, color_scheme="dark"
    )
    assert await background(page) == DARK_BG  # the system's choice by default
    await page.click("#theme-toggle")
    assert await background(page) == LIGHT_BG
    await page.reload()
    assert await background(page) == LIGHT_BG  # the toggle's choice is kept
    await page.click("#theme-toggle")
    assert await background(page) == DARK_BG
    fill = await page.locator("#chart-requests rect.ok").first.evaluate("r => getComputedStyle(r).fill")
    assert fill == "rgb(91, 147, 245)"  # the charts follow the theme too
    await save_screenshot(page, shots, "dashboard-dark.jpg")


async def test_usable_at_a_phones_width(
    dash_stack: Stack, traffic: dict[str, str], new_context: NewContext, shots: Path
) -> None:
    page = await signed_in(
        new_context, dash_stack, viewport={"width": 390, "height": 844}, is_mobile=True, color_scheme="light"
    )
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width  # nothing scrolls sideways
    row = page.locator("tr[data-account=e2e-paid]")
    assert await row.evaluate("r => getComputedStyle(r).display") == "block"  # a card, not a table row
    pause = row.get_by_role("button", name="Pause")
    await expect(pause).to_be_visible()
    box = await pause.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    chart = await page.locator("#chart-requests svg").bounding_box()
    assert chart is not None and chart["width"] <= 390
    await save_screenshot(page, shots, "dashboard-phone.jpg")


def test_screenshots_are_small(shots: Path) -> None:
    """The committed screenshots the docs show, and this run's (when the tests above ran first)."""
    for name in ("dashboard-light.jpg", "dashboard-dark.jpg", "dashboard-phone.jpg"):
        for path in (IMAGES / name, shots / name):
            assert path.is_file() or path.parent == shots, path
            assert not path.is_file() or path.stat().st_size < 250_000, path
