"""Helpers for driving the simulator's page in tests: accounts, composer actions, the control API."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.async_api import BrowserContext, Page

NewContext = Callable[..., Awaitable[BrowserContext]]

UI_GENERATIONS = ("mid2026", "early2026")
PRO_HEX = "e6fa609c3fa255c0"
THINKING_HEX = "e051ce1aa80aa576"
FLASH_HEX = "56fdd199312815e2"

EDITOR = "rich-textarea > div.ql-editor[contenteditable=true][role=textbox]"
SEND = 'button[aria-label="Send message"]'
STOP = 'button[aria-label="Stop response"]'
LAST_RESPONSE = "model-response >> nth=-1"
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
    await page.wait_for_function(
        """n => {
            const all = document.querySelectorAll('model-response');
            return all.length >= n && all[all.length - 1].querySelector('message-actions') !== null;
        }""",
        arg=count,
        timeout=ANSWER_TIMEOUT_MS,
    )
    return await page.locator(f"{LAST_RESPONSE} >> message-content .markdown").inner_text()


def mode_button(ui: str) -> str:
    return '[data-test-id="bard-mode-menu-button"]' if ui == "early2026" else "bard-mode-switcher button"


def upload_opener(ui: str) -> str:
    if ui == "early2026":
        return 'button[aria-label="Open upload file menu"]'
    return 'input-container button[aria-label="Upload & tools"]'


def upload_item(ui: str) -> str:
    if ui == "early2026":
        return '.cdk-overlay-pane [data-test-id="local-images-files-uploader-button"]'
    return (
        '.cdk-overlay-pane images-files-uploader[data-test-id="uploader-images-files-button-advanced"] '
        "button:not(.hidden-local-file-image-selector-button)"
    )


def tools_opener(ui: str) -> str:
    return 'toolbox-drawer button:has-text("Tools")' if ui == "early2026" else upload_opener(ui)


async def choose_mode(page: Page, ui: str, family: str) -> None:
    """Pick ``pro``, ``thinking`` or ``flash`` (mid-2026: ``extended`` too) through the picker."""
    await page.locator(mode_button(ui)).click()
    if ui == "early2026":
        test_id = {"flash": "fast"}.get(family, family)
        await page.locator(f'.cdk-overlay-pane [data-test-id="bard-mode-option-{test_id}"]').click()
        return
    menu = page.locator('.cdk-overlay-pane [data-test-id="gem-mode-menu"]')
    if family in ("thinking", "extended"):
        await menu.locator("gem-menu-item", has_text="Thinking").click()
        label = "Extended thinking" if family == "extended" else "Standard"
        await page.locator(".cdk-overlay-pane gem-menu-item", has_text=label).click()
        return
    label = {"pro": "3.1 Pro", "flash": "3.5 Flash"}[family]
    await menu.locator("gem-menu-item", has=page.locator(".label", has_text=label)).first.click()


async def choose_tool(page: Page, ui: str, label: str) -> None:
    await page.locator(tools_opener(ui)).click()
    items = page.locator(
        ".cdk-overlay-pane toolbox-drawer-item button[role=menuitemcheckbox]", has_text=label
    )
    if ui != "early2026" and await items.count() == 0:
        await page.locator(".cdk-overlay-pane button", has_text="More tools").click()
    await items.first.click()


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

    async def rotations(self, psid: str) -> list[dict[str, Any]]:
        log = await self._call("GET", "/_sim/rotations")
        return [entry for entry in log if entry.get("account_id") == account_id(psid)]
