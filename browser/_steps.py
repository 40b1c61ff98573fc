"""The small bounded steps every part of the page driver is made of: count, wait, click, close menus.

Callers map Playwright's errors (``map_playwright_errors``); every call here is bounded.
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Locator, Page

from browser._overrides import table_for
from browser._playwright_errors import map_playwright_errors
from browser._selectors import Sel
from browser._settings import PoolSettings
from browser.errors import SelectorMissing, StepTimeout

MS = 1000.0


class Steps:
    """One page, the settings' timeouts and the selector table in force."""

    def __init__(self, page: Page, settings: PoolSettings) -> None:
        self.page = page
        self.settings = settings
        self.sel = table_for(settings)

    @property
    def ui_ms(self) -> float:
        return self.settings.ui_timeout * MS

    async def count(self, locator: Locator) -> int:
        # ``count`` takes no timeout; a renderer stuck in a script must not hang the step.
        async with asyncio.timeout(self.settings.ui_timeout):
            return await locator.count()

    def visible(self, sel: Sel) -> Locator:
        """The last visible match: the page may keep a hidden copy of a control earlier in the
        document, or replace it while the user types (fidelity.md B7)."""
        return self.page.locator(sel.css).filter(visible=True).last

    async def click(self, sel: Sel, step: str) -> None:
        target = self.visible(sel)
        await self.wait_visible(target, sel, step)
        await target.click(timeout=self.ui_ms)

    async def wait_visible(self, locator: Locator, sel: Sel, step: str) -> None:
        try:
            with map_playwright_errors(step):
                await locator.wait_for(state="visible", timeout=self.ui_ms)
        except StepTimeout:
            raise SelectorMissing(sel.name, step=step) from None

    async def evaluate(self, script: str, arg: Any) -> Any:
        async with asyncio.timeout(self.settings.ui_timeout):
            return await self.page.evaluate(script, arg)

    async def close_menus(self) -> None:
        """Escape closes CDK menus; clicks elsewhere would only hit the backdrop."""
        with map_playwright_errors("close menus"):
            for _ in range(3):
                if not await self.count(self.page.locator(self.sel.open_menu.css)):
                    return
                await self.page.keyboard.press("Escape")
