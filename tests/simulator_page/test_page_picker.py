"""The mode picker of October and mid 2026 in Chromium: the OCT markup (docs/architecture/evidence.md#c1 to
C6),
labels that fill late (C13), the committed choice as `.selected` (TOK), and thinking as a level of
the chosen model (C8) in each `thinking_control`, on the wire and in the pill."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import Page

from tests.simulator_page.pagekit import (
    FLASH_HEX,
    FLASH_LITE_HEX,
    LABELS_FILLED,
    LAST_RESPONSE,
    MODE_BUTTON,
    MODE_MENU,
    PRO_HEX,
    ROW_LABELS,
    NewContext,
    SimControl,
    account,
    choose_level,
    choose_mode,
    open_page,
    open_picker,
    send,
    wait_answer,
)

pytestmark = pytest.mark.browser

TRIGGER = (
    "bard-mode-switcher > div.pill-ui-logo-container > "
    'button[data-test-id="bard-mode-menu-button"].input-area-switch[aria-haspopup="true"]'
)
POPOVER_MENU = (
    "bard-mode-switcher div.pill-ui-logo-container > div[popover=manual].cdk-overlay-popover > "
    '.cdk-overlay-pane > .container > .popover-menu[data-test-id="bard-mode-desktop-gem-menu"] > '
    'gem-menu[role=menu][data-test-id="gem-mode-menu"]'
)
# Read in the same task as the click that opens the menu: what a driver sees "as soon as the first
# item is visible".
OPEN_AND_READ = """() => {
    document.querySelector('[data-test-id="bard-mode-menu-button"]').click();
    const rows = [...document.querySelectorAll('[role=menu] gem-menu-item')];
    return rows.map(row => ({
        label: row.querySelector('.label').textContent,
        sublabel: row.querySelector('.sublabel').textContent,
        height: row.getBoundingClientRect().height,
    }));
}"""


async def rows(page: Page) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await page.locator(f"{MODE_MENU} gem-menu-item").evaluate_all(
        """rows => rows.map(row => ({
            label: row.querySelector('.label').textContent.trim(),
            sublabel: row.querySelector('.sublabel').textContent.trim(),
            hex: row.getAttribute('data-mode-id'),
            testId: row.getAttribute('data-test-id'),
            role: row.getAttribute('role'),
            popup: row.getAttribute('aria-haspopup'),
            jslog: row.getAttribute('jslog') || '',
            selected: row.classList.contains('selected'),
            contentSelected: row.querySelector('gem-menu-item-content').classList.contains('selected'),
            active: row.getAttribute('data-active'),
        }))"""
    )
    return result


async def test_october_2026_picker_markup(new_context: NewContext, oct2026_url: str) -> None:
    page = await open_page(new_context, oct2026_url, account("paid"))
    trigger = page.locator(TRIGGER)
    assert await trigger.get_attribute("aria-label") == "Open mode picker, currently Flash"
    assert await trigger.get_attribute("aria-expanded") == "false"
    pill = trigger.locator('[data-test-id="logo-pill-label-container"] .picker-primary-text')
    assert await pill.inner_text() == "Flash"
    menu_id = await trigger.get_attribute("aria-controls") or ""
    assert re.fullmatch(r"ng-menu-[0-9a-f]+", menu_id)
    await open_picker(page, "oct2026")
    menu = page.locator(POPOVER_MENU)
    assert await menu.get_attribute("id") == menu_id
    assert await trigger.get_attribute("aria-expanded") == "true"
    backdrop = ".cdk-overlay-container > .cdk-overlay-backdrop.cdk-overlay-backdrop-showing"
    assert await page.locator(backdrop).count() == 1
    found = await rows(page)
    models, levels = found[:3], found[3:]
    assert [(m["hex"], m["label"], m["sublabel"]) for m in models] == [
        (FLASH_LITE_HEX, "3.5 Flash-Lite", "Fastest answers"),
        (FLASH_HEX, "3.8 Flash", "All-around help"),
        (PRO_HEX, "3.1 Pro", "Advanced reasoning"),
    ]
    assert all(
        m["testId"] == f"bard-mode-option-{m['hex']}" and m["jslog"].startswith("242569;") for m in models
    )
    assert all(
        row["role"] == "menuitem" and row["popup"] == "false" and row["active"] is None for row in found
    )
    assert [(m["selected"], m["contentSelected"]) for m in models] == [
        (False, False),
        (True, True),
        (False, False),
    ]
    assert await menu.locator('mat-divider[role="separator"]').count() == 1
    assert [(r["label"], r["sublabel"], r["hex"], r["selected"]) for r in levels] == [
        ("Low", "Quick and efficient", None, True),
        ("Medium", "Balanced depth", None, False),
        ("High", "Extra thorough", None, False),
    ]
    assert all(r["jslog"].startswith("323336;") for r in levels)
    # Rows are re-mounted on every open.
    await menu.locator("gem-menu-item").first.evaluate("row => (row.dataset.seen = 'yes')")
    await page.keyboard.press("Escape")
    await open_picker(page, "oct2026")
    assert await page.locator(f"{MODE_MENU} gem-menu-item[data-seen]").count() == 0


@pytest.mark.parametrize("ui", ["oct2026", "mid2026"])
async def test_labels_fill_late(new_context: NewContext, ui: str, request: pytest.FixtureRequest) -> None:
    base = str(request.getfixturevalue(f"{ui}_url"))
    async with SimControl(base).configured(label_fill_delay=0.6):
        page = await open_page(new_context, base, account("paid"))
        early = await page.evaluate(OPEN_AND_READ)
        assert early and all(row["label"] == "" and row["sublabel"] == "" for row in early)
        assert all(row["height"] > 0 for row in early), "the rows themselves show at once"
        await page.wait_for_function(LABELS_FILLED)
        labels = [row["label"] for row in await rows(page)]
        assert "3.1 Pro" in labels and "" not in labels
        if ui == "mid2026":  # the submenu's rows fill late too
            await page.locator(f'{MODE_MENU} gem-menu-item[value="thinking_level"]').click()
            submenu = page.locator("gem-menu.thinking-level-menu .label")
            await submenu.first.wait_for()
            assert await submenu.all_text_contents() == ["", ""]
            await page.wait_for_function(LABELS_FILLED)
            assert [text.strip() for text in await submenu.all_text_contents()] == ["Standard", "Extended"]


@pytest.mark.parametrize(
    ("ui", "control", "choice", "code"),
    [
        ("oct2026", "auto", "Low", 1),
        ("oct2026", "auto", "Medium", 4),
        ("oct2026", "auto", "High", 2),
        ("oct2026", "submenu", "Extended", 2),
        ("oct2026", "toggle", "on", 2),
        ("mid2026", "auto", "Standard", 1),
        ("mid2026", "auto", "Extended", 2),
        ("mid2026", "toggle", "on", 2),
        ("mid2026", "levels", "Medium", 4),
    ],
)
async def test_thinking_level_on_the_wire_and_in_the_pill(
    new_context: NewContext, ui: str, control: str, choice: str, code: int, request: pytest.FixtureRequest
) -> None:
    base = str(request.getfixturevalue(f"{ui}_url"))
    sim = SimControl(base)
    psid = account("paid")
    async with sim.configured(thinking_control=control):
        page = await open_page(new_context, base, psid)
    resolved = {"auto": "levels" if ui == "oct2026" else "submenu"}.get(control, control)
    await choose_level(page, ui, resolved, choice)
    pill = "Flash Extended" if code == 2 else "Flash"
    trigger = page.locator(MODE_BUTTON)
    assert await trigger.get_attribute("aria-label") == f"Open mode picker, currently {pill}"
    assert await trigger.locator(".picker-primary-text").inner_text() == pill
    async with page.expect_request(re.compile(r"/StreamGenerate\?")) as captured:
        await send(page, "think it over")
    sent = await captured.value
    header = json.loads(sent.headers["x-goog-ext-525001261-jspb"])
    assert (header[4], header[14], header[15]) == (FLASH_HEX, 1, code)
    await wait_answer(page)
    [logged] = await sim.requests(psid)
    assert logged["thinking_level"] == code
    assert logged["served_model_label"] == ROW_LABELS[ui]["flash"] + (" Extended" if code == 2 else "")
    thoughts = page.locator(f'{LAST_RESPONSE} >> [data-test-id="thoughts-content"]')
    assert (await thoughts.count() == 1) is (code != 1)


async def test_the_level_survives_a_model_change(new_context: NewContext, oct2026_url: str) -> None:
    psid = account("paid")
    page = await open_page(new_context, oct2026_url, psid)
    await choose_level(page, "oct2026", "levels", "High")
    await choose_mode(page, "oct2026", "pro")
    assert (
        await page.locator(MODE_BUTTON).get_attribute("aria-label")
        == "Open mode picker, currently Pro Extended"
    )
    await open_picker(page, "oct2026")
    selected = [row["label"] for row in await rows(page) if row["selected"]]
    assert selected == ["3.1 Pro", "High"]
    await page.keyboard.press("Escape")
    await send(page, "hard problem")
    await wait_answer(page)
    [logged] = await SimControl(oct2026_url).requests(psid)
    assert (logged["mode_hex"], logged["mode_category"], logged["thinking_level"]) == (PRO_HEX, 3, 2)
    assert logged["served_model_label"] == "3.1 Pro Extended"


@pytest.mark.parametrize(("ui", "popup"), [("oct2026", "false"), ("mid2026", "menu")])
async def test_thinking_level_submenu_item(
    new_context: NewContext, ui: str, popup: str, request: pytest.FixtureRequest
) -> None:
    """REG: ``gem-menu-item[value="thinking_level"]`` whose sublabel reads the level; C9 is
    unverified, so both aria-haspopup forms exist. Hovering opens the second gem-menu too."""
    base = str(request.getfixturevalue(f"{ui}_url"))
    async with SimControl(base).configured(thinking_control="submenu"):
        page = await open_page(new_context, base, account("paid"))
    await open_picker(page, ui)
    item = page.locator(f'{MODE_MENU} gem-menu-item[value="thinking_level"]')
    assert await item.get_attribute("aria-haspopup") == popup
    assert re.sub(r"\s+", " ", (await item.inner_text()).strip()) == "Thinking level Standard"
    await item.hover()
    submenu = page.locator("gem-menu.thinking-level-menu[role=menu]")
    await submenu.wait_for()
    await page.wait_for_function(LABELS_FILLED)
    assert await submenu.locator("gem-menu-item.selected .label").inner_text() == "Standard"
    await submenu.locator("gem-menu-item", has_text="Extended").click()
    await open_picker(page, ui)
    assert (await item.locator(".sublabel").inner_text()).strip() == "Extended"


async def test_toggle_row_is_last_and_flips(new_context: NewContext, oct2026_url: str) -> None:
    """TOK/INT: an independent "Extended thinking" row ("Complex problem solving"); PWA clicks the
    menu's last item as the extension toggle."""
    async with SimControl(oct2026_url).configured(thinking_control="toggle"):
        page = await open_page(new_context, oct2026_url, account("paid"))
    for expected in ("Flash Extended", "Flash"):
        await open_picker(page, "oct2026")
        last = page.locator(f"{MODE_MENU} gem-menu-item").last
        assert (
            re.sub(r"\s+", " ", (await last.inner_text()).strip())
            == "Extended thinking Complex problem solving"
        )
        assert await last.get_attribute("data-mode-id") is None
        was_on = "selected" in (await last.get_attribute("class") or "")
        assert was_on is (expected == "Flash")
        await last.click()
        assert (
            await page.locator(MODE_BUTTON).get_attribute("aria-label")
            == f"Open mode picker, currently {expected}"
        )


async def test_free_picker_offers_the_free_ids_and_a_limited_pro(
    new_context: NewContext, oct2026_url: str
) -> None:
    """M5/D8: the free tier has its own ids and a Pro of its own."""
    page = await open_page(new_context, oct2026_url, account("free"))
    await open_picker(page, "oct2026")
    models = [row for row in await rows(page) if row["hex"]]
    assert [(m["hex"], m["label"]) for m in models] == [
        ("cf41b0e0dd7d53e5", "3.5 Flash-Lite"),
        ("fbb127bbb056c959", "3.8 Flash"),
        ("9d8ca3786ebdfbea", "3.1 Pro"),
    ]
