"""Helpers for driving the simulator's page in tests: accounts, composer actions, the control API."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import BrowserContext, Locator, Page

NewContext = Callable[..., Awaitable[BrowserContext]]

UI_GENERATIONS = ("oct2026", "mid2026", "early2026")
# Runs a ``sim_url`` test on the newest generation only, for a test of what every generation's page
# shares (the editor, the conversation and its turns, the side nav, the RPC calls, the captcha and
# consent walls): the generations differ in the composer's buttons, the pickers, the tool and upload
# menus and the sign-in markers (simulator/page/composer.py, modes.js, tools.js, menus.js, uploads.js,
# signin.py), and those are tested on each generation.
SHARED_PAGE_PARTS = pytest.mark.parametrize("ui", [UI_GENERATIONS[0]])
PRO_HEX = "e6fa609c3fa255c0"
THINKING_HEX = "e051ce1aa80aa576"
FLASH_HEX = "56fdd199312815e2"
FLASH_LITE_HEX = "8c46e95b1a07cecc"

EDITOR = "rich-textarea > div.ql-editor[contenteditable=true][role=textbox]"
# October 2026 keeps a hidden duplicate earlier in the DOM (B7): drivers take the visible one.
SEND_ANY = 'button[aria-label="Send message"]'
SEND = f"{SEND_ANY} >> visible=true"
STOP = 'button[aria-label="Stop response"]'
LAST_RESPONSE = "model-response >> nth=-1"
MODE_BUTTON = '[data-test-id="bard-mode-menu-button"]'
MODE_MENU = '[data-test-id="gem-mode-menu"][role=menu]'
# Picker rows fill their labels late (C13): wait for every row of the open menus to have text.
LABELS_FILLED = """() => {
    const rows = [...document.querySelectorAll('[role=menu] gem-menu-item')];
    return rows.length > 0 && rows.every(row => row.querySelector('.label').textContent.trim() !== '');
}"""
# The pill's model names (REG: short names) and each generation's row labels (OCT, REG, APIREF).
ROW_LABELS = {
    "oct2026": {"flash": "3.8 Flash", "pro": "3.1 Pro", "flash_lite": "3.5 Flash-Lite"},
    "mid2026": {"flash": "3.5 Flash", "pro": "3.1 Pro", "flash_lite": "3.1 Flash-Lite"},
    "early2026": {"flash": "Fast", "pro": "Pro", "thinking": "Thinking"},
}
UI_TIMEOUT_MS = 10_000
ANSWER_TIMEOUT_MS = 20_000


def account(kind: str) -> str:
    """A fresh ``__Secure-1PSID`` value of the given kind, so each test owns its log entries."""
    return f"{kind}-{uuid.uuid4().hex[:12]}"


def account_id(psid: str) -> str:
    """How the simulator's logs name an account: a digest of its cookie value."""
    return hashlib.sha256(psid.encode()).hexdigest()[:16]


def session_cookie(value: str) -> dict[str, Any]:
    return {
        "name": "__Secure-1PSID",
        "value": value,
        "domain": "localhost",
        "path": "/",
        "secure": True,
        "httpOnly": True,
    }


async def open_page(new_context: NewContext, base: str, psid: str | None, path: str = "/app") -> Page:
    """A fresh context (with the account's cookie when given) showing ``path``, scripts booted."""
    context: BrowserContext = await new_context()
    if psid is not None:
        await context.add_cookies([session_cookie(psid)])  # type: ignore[list-item]
    page = await context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    await page.goto(base + path, wait_until="domcontentloaded")
    if urlsplit(page.url).path.startswith(("/app", "/gem/")):
        await page.wait_for_selector("body[data-ready=true]", state="attached")
    return page


async def type_prompt(page: Page, text: str) -> None:
    await page.locator(EDITOR).click()
    await page.keyboard.insert_text(text)


async def send(page: Page, text: str) -> None:
    await type_prompt(page, text)
    await page.locator(SEND).click()


async def wait_answer(page: Page, count: int = 1) -> str:
    """Wait until ``count`` model responses exist and the newest carries its action row."""
    await wait_finished(page, count)
    return await page.locator(f"{LAST_RESPONSE} >> message-content .markdown").inner_text()


async def wait_finished(page: Page, count: int = 1) -> None:
    await page.wait_for_function(
        """n => {
            const all = document.querySelectorAll('model-response');
            return all.length >= n && all[all.length - 1].querySelector('message-actions') !== null;
        }""",
        arg=count,
        timeout=ANSWER_TIMEOUT_MS,
    )


async def wait_error(page: Page, count: int = 1) -> str:
    """The newest turn's error surface text (``response-error``, outside ``message-content``)."""
    await wait_finished(page, count)
    return await page.locator(f"{LAST_RESPONSE} >> response-error").inner_text()


def mode_button(ui: str) -> str:
    return MODE_BUTTON


def upload_opener(ui: str) -> str:
    if ui == "early2026":
        return 'button[aria-label="Open upload file menu"]'
    return 'input-container button[aria-label="Upload and tools"]'


def upload_item(ui: str) -> str:
    if ui == "early2026":
        return '.cdk-overlay-pane [data-test-id="local-images-files-uploader-button"]'
    return (
        '.cdk-overlay-pane images-files-uploader[data-test-id="uploader-images-files-button-advanced"] '
        "button:not(.hidden-local-file-image-selector-button)"
    )


def tools_opener(ui: str) -> str:
    return 'toolbox-drawer button:has-text("Tools")' if ui == "early2026" else upload_opener(ui)


async def open_picker(page: Page, ui: str) -> None:
    """Open the mode picker and wait until its rows carry their (late) labels."""
    await page.locator(MODE_BUTTON).click()
    if ui == "early2026":
        await page.locator(".cdk-overlay-pane .gds-mode-switch-menu").wait_for()
    else:
        await page.wait_for_function(LABELS_FILLED)


async def menu_labels(page: Page, ui: str) -> list[str]:
    """The model rows' labels of the picker (opened and closed again)."""
    await open_picker(page, ui)
    selector = (
        ".cdk-overlay-pane .mode-title"
        if ui == "early2026"
        else f"{MODE_MENU} gem-menu-item[data-mode-id] .label"
    )
    labels = await page.locator(selector).all_inner_texts()
    await page.keyboard.press("Escape")
    return [label.strip() for label in labels]


async def choose_mode(page: Page, ui: str, family: str) -> None:
    """Pick ``flash``, ``pro``, ``flash_lite`` (early 2026: ``thinking`` too) by its row label."""
    await open_picker(page, ui)
    label = ROW_LABELS[ui][family]
    if ui == "early2026":
        title = page.locator(".mode-title", has_text=exactly(label))
        await page.locator(".cdk-overlay-pane [role=menuitemradio]", has=title).click()
        return
    await row(page, label).click()


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def row(page: Page, label: str) -> Locator:
    """The open picker's model row whose label is exactly ``label`` ("3.8 Flash", not "3.5 Flash-Lite")."""
    return page.locator(
        f"{MODE_MENU} gem-menu-item[data-mode-id]", has=page.locator(".label", has_text=exactly(label))
    )


async def choose_level(page: Page, ui: str, control: str, level: str) -> None:
    """Pick a thinking level: ``levels`` Low/Medium/High, ``submenu`` Standard/Extended, ``toggle``
    flips "Extended thinking"."""
    await open_picker(page, ui)
    menu = page.locator(MODE_MENU)
    if control == "levels":
        await menu.locator("gem-menu-item:not([data-mode-id])", has_text=level).click()
    elif control == "toggle":
        await menu.locator("gem-menu-item", has_text="Extended thinking").click()
    else:
        await menu.locator('gem-menu-item[value="thinking_level"]').click()
        submenu = page.locator("gem-menu.thinking-level-menu[role=menu]")
        await page.wait_for_function(LABELS_FILLED)
        await submenu.locator("gem-menu-item", has=page.locator(".label", has_text=level)).click()


async def choose_tool(page: Page, ui: str, label: str) -> None:
    await page.locator(tools_opener(ui)).click()
    items = page.locator(
        ".cdk-overlay-pane toolbox-drawer-item button[role=menuitemcheckbox]", has_text=label
    )
    if ui != "early2026" and await items.count() == 0:
        await page.locator('.cdk-overlay-pane [data-test-id="more-tools-button"]').click()
    await items.first.click()


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


class SimControl:
    """The simulator's test-control endpoints (``/_sim/...``)."""

    def __init__(self, base: str) -> None:
        self.base = base

    async def _call(self, method: str, path: str, body: object | None = None) -> Any:
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as client:
            response = await client.request(method, path, json=body)
            response.raise_for_status()
            return response.json() if response.content else None

    async def requests(self, psid: str) -> list[dict[str, Any]]:
        """StreamGenerate requests of one account (logs name accounts by a digest, never the cookie)."""
        log = await self._call("GET", "/_sim/requests")
        return [entry for entry in log if entry.get("account_id") == account_id(psid)]

    async def behaviours(self, psid: str, *behaviours: dict[str, Any]) -> None:
        await self._call("POST", "/_sim/behaviours", {"account": psid, "behaviours": list(behaviours)})

    async def config(self, **settings: object) -> None:
        await self._call("POST", "/_sim/config", settings)

    async def uploads(self) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = await self._call("GET", "/_sim/uploads")
        return log

    async def rotations(self, psid: str) -> list[dict[str, Any]]:
        log = await self._call("GET", "/_sim/rotations")
        return [entry for entry in log if entry.get("account_id") == account_id(psid)]

    @contextlib.asynccontextmanager
    async def configured(self, **settings: object) -> AsyncIterator[None]:
        """Change settings for one test and put the previous values back afterwards (the page
        simulators are shared by the tests of a worker)."""
        before = await self._call("GET", "/_sim/config")
        await self.config(**settings)
        try:
            yield
        finally:
            await self.config(**{name: before[name] for name in settings})
