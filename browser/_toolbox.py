"""The composer's tools menu ("Upload and tools" or "Upload & tools"; early 2026 a "Tools" button):
which tools the page offers, and choosing one.

Which tools an account has is read here, from the page's own menu: the account-status answer names
none (docs/architecture/evidence.md#g6). A tool is recognised by the start of its label or, failing that,
by its icon name (D3); hidden ones are behind "More tools" (D4). Rows are ``menuitemcheckbox``
buttons with an empty aria-label (D2), so their text is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Locator

from browser import _selectors as S
from browser._playwright_errors import map_playwright_errors
from browser._requests import Tool
from browser._steps import Steps
from browser.errors import StepTimeout, ToolNotOffered

__all__ = ["ToolRow", "Toolbox"]


@dataclass(frozen=True)
class ToolRow:
    index: int
    label: str
    icon: str
    checked: bool


# Runs in the page: the visible tool rows, or null while ``filled`` is asked and a row has no text.
_READ_TOOLS = """([rows, icon, filled]) => {
    const lines = (row) => (row.innerText || "").split("\\n").map((line) => line.trim()).filter(Boolean);
    const found = [];
    [...document.querySelectorAll(rows)].forEach((row, index) => {
        if (!row.checkVisibility()) return;
        const mark = row.querySelector(icon);
        found.push({
            index,
            label: lines(row)[0] || "",
            icon: mark ? mark.getAttribute("data-mat-icon-name") || "" : "",
            checked: row.getAttribute("aria-checked") === "true",
        });
    });
    if (filled && found.some((row) => !row.label)) return null;
    return found;
}"""


class Toolbox:
    """The tools menu of one page."""

    def __init__(self, steps: Steps) -> None:
        self.steps = steps
        self.sel = steps.sel

    def tool_of(self, row: ToolRow) -> Tool | None:
        return S.tool_of_label(row.label, self.sel.labels) or self.sel.labels.tool_icons.get(row.icon)

    async def offered(self) -> frozenset[Tool]:
        """Every tool the menu lists, "More tools" included (the menu opened, read, closed)."""
        with map_playwright_errors("read the tools menu"):
            rows = await self.open_menu()
            if rows is not None:
                rows = await self.expand(rows)
            await self.steps.close_menus()
        return frozenset(tool for tool in map(self.tool_of, rows or []) if tool)

    async def choose(self, tool: Tool) -> None:
        """Select ``tool`` (looking behind "More tools"), then check its chip. ``ToolNotOffered``
        names what the menu lists when ``tool`` is not among them."""
        steps = self.steps
        with map_playwright_errors("choose tool"):
            rows = await self.open_menu()
            row = self._find(rows or [], tool)
            if row is None and rows is not None:
                rows = await self.expand(rows)
                row = self._find(rows, tool)
            if row is None:
                await steps.close_menus()
                offered = frozenset(t.value for t in map(self.tool_of, rows or []) if t)
                raise ToolNotOffered(tool.value, offered, step="choose tool")
            if not row.checked:
                await steps.page.locator(self.sel.tool_items.css).nth(row.index).click(timeout=steps.ui_ms)
            await steps.close_menus()
            await steps.wait_visible(steps.visible(self.sel.tool_chip), self.sel.tool_chip, "choose tool")

    def _find(self, rows: list[ToolRow], tool: Tool) -> ToolRow | None:
        return next((row for row in rows if self.tool_of(row) is tool), None)

    async def open_menu(self) -> list[ToolRow] | None:
        """Open the menu; its rows, or None when the page has no tools menu (signed out)."""
        steps, sel = self.steps, self.sel
        await steps.close_menus()
        opener = steps.visible(sel.tools_opener)
        if not await steps.count(steps.page.locator(sel.tools_opener.css).filter(visible=True)):
            return None
        await opener.click(timeout=steps.ui_ms)
        items = steps.page.locator(sel.tool_items.css).filter(visible=True).first
        more = self._more().filter(visible=True).first
        try:
            with map_playwright_errors("open tools menu"):
                await items.or_(more).first.wait_for(state="visible", timeout=steps.ui_ms / 2)
        except StepTimeout:
            return []  # a menu of uploads only: no tools
        return await self.read_rows()

    def _more(self) -> Locator:
        """ "More tools": by its test id, else a menu item whose text starts with its label."""
        page, sel = self.steps.page, self.sel
        starts = "|".join(re.escape(start) for start in sel.labels.more_tools)
        by_text = page.get_by_role("menuitem", name=re.compile(rf"^\s*({starts})", re.IGNORECASE))
        return page.locator(sel.more_tools.css).or_(by_text)

    async def read_rows(self) -> list[ToolRow]:
        steps, sel = self.steps, self.sel
        arg = [sel.tool_items.css, sel.tool_icon.css, True]
        try:
            with map_playwright_errors("read the tools menu"):
                handle = await steps.page.wait_for_function(
                    _READ_TOOLS, arg=arg, timeout=steps.ui_ms / 2, polling=50
                )
                raw: Any = await handle.json_value()
        except StepTimeout:
            raw = await steps.evaluate(_READ_TOOLS, [*arg[:-1], False])
        return [ToolRow(**row) for row in raw or []]

    async def expand(self, rows: list[ToolRow]) -> list[ToolRow]:
        """Click "More tools" if the menu has it; the rows afterwards (more of them)."""
        steps, sel = self.steps, self.sel
        more = self._more().filter(visible=True)
        if not await steps.count(more):
            return rows
        await more.first.click(timeout=steps.ui_ms)
        try:
            with map_playwright_errors("open more tools"):
                await steps.page.wait_for_function(
                    "([rows, before]) => document.querySelectorAll(rows).length > before",
                    arg=[sel.tool_items.css, len(rows)],
                    timeout=steps.ui_ms / 2,
                    polling=50,
                )
        except StepTimeout:
            return rows
        return await self.read_rows()
