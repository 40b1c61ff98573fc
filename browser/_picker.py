"""The mode picker: which models and thinking control it offers, and choosing a model and a level.

Since mid-2026 thinking is a level applied to the chosen model, set in the same menu
(docs/architecture/page-model.md#thinking-levels): inline Low/Medium/High rows (October 2026), a "Thinking
level" row that
opens Standard/Extended (mid-2026), or an "Extended thinking" row that toggles (mid/late 2026). Early
2026 had a "Thinking" model instead. Row labels fill in a few hundred milliseconds after the menu
opens (C13), so they are read only once filled; a model row is found by the hex the account's
status answer gave it where the page puts one on the row, which needs no label at all.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from browser import _selectors as S
from browser._capabilities import Capabilities, PageModel, ThinkingControl
from browser._playwright_errors import map_playwright_errors
from browser._requests import ModeFamily, ThinkingLevel
from browser._steps import MS, Steps
from browser.errors import SelectorMissing, StepTimeout

__all__ = ["Picker", "PickerRow", "RowKind"]

# Labels that stay empty this long are read as they are (a row may really have none).
_LABEL_WAIT_MAX = 5.0


class RowKind(enum.StrEnum):
    MODEL = "model"
    LEVEL = "level"  # October 2026: Low / Medium / High
    SUBMENU = "submenu"  # the "Thinking level" row (opens Standard / Extended)
    TOGGLE = "toggle"  # the "Extended thinking" row


@dataclass(frozen=True)
class PickerRow:
    """One visible row of an open menu; ``index`` is its place among every match of the selector."""

    index: int
    hex: str | None
    label: str
    sublabel: str
    selected: bool
    value: str


# Runs in the page: the visible rows matching ``rows`` with their label, sublabel, selected state
# and hex, or null while ``filled`` is asked and a row's label is still empty (C13).
_READ_ROWS = """([rows, labels, sublabels, selected, idAttribute, filled]) => {
    const all = [...document.querySelectorAll(rows)];
    const text = (row, selectors) => {
        for (const css of selectors) {
            const part = row.querySelector(css);
            if (part) return part.innerText.trim();
        }
        return "";
    };
    const found = [];
    all.forEach((row, index) => {
        if (!row.checkVisibility()) return;
        let label = text(row, labels);
        if (!label) label = (row.innerText || "").trim().split("\\n")[0].trim();
        found.push({
            index,
            hex: row.getAttribute(idAttribute) || null,
            label,
            sublabel: text(row, sublabels),
            selected: row.matches(selected) || row.querySelector(selected) !== null,
            value: row.getAttribute("value") || "",
        });
    });
    if (!found.length) return null;
    if (filled && found.some((row) => !row.label)) return null;
    return found;
}"""


# Runs in the page: the first visible row of ``rows`` whose label starts with one of ``wanted``
# (lower-cased, spaces collapsed), in _READ_ROWS' shape, or null while there is none.
_FIND_ROW = """([rows, labels, sublabels, selected, idAttribute, wanted]) => {
    const read = (READ_ROWS);
    const found = read([rows, labels, sublabels, selected, idAttribute, false]) || [];
    const squash = (text) => text.toLowerCase().split(/\\s+/).filter(Boolean).join(" ");
    return found.find((row) => wanted.some((start) => squash(row.label).startsWith(start))) || null;
}""".replace("READ_ROWS", _READ_ROWS)


class Picker:
    """The mode picker of one page."""

    def __init__(self, steps: Steps) -> None:
        self.steps = steps
        self.sel = steps.sel

    # -- reading --

    async def current_label(self) -> str:
        """The picker's choice as it reads now (mid-2026 on in its aria-label, earlier in its text)."""
        page, steps = self.steps.page, self.steps
        with map_playwright_errors("read mode"):
            aria = page.locator(self.sel.mode_picker_aria.css).first
            if await steps.count(aria):
                label = await aria.get_attribute("aria-label", timeout=steps.ui_ms) or ""
                if S.MODE_PICKER_CURRENT_WORD in label:
                    return label.split(S.MODE_PICKER_CURRENT_WORD, 1)[1].strip(" ,")
            text = page.locator(self.sel.mode_picker_text.css).first
            if await steps.count(text):
                return (await text.inner_text(timeout=steps.ui_ms)).strip()
            return ""

    async def offer(self) -> tuple[tuple[PageModel, ...], ThinkingControl]:
        """The models and the thinking control the picker offers (the menu opened, read, closed)."""
        with map_playwright_errors("read the mode picker"):
            await self.open_menu()
            rows = await self.read_rows(self.sel.mode_items)
            await self.steps.close_menus()
        models = self.models(rows)
        return models, self.control(rows, models)

    def models(self, rows: list[PickerRow]) -> tuple[PageModel, ...]:
        """The model rows as models: each one's family and thinking variant by its label."""
        return tuple(
            PageModel(row.hex, row.label, S.family_of_label(row.label), S.thinks_by_label(row.label))
            for row in rows
            if self.kind(row) is RowKind.MODEL
        )

    def kind(self, row: PickerRow) -> RowKind:
        labels = self.sel.labels
        if row.value == "thinking_level" or S.starts_with_any(row.label, labels.thinking_submenu):
            return RowKind.SUBMENU
        if S.starts_with_any(row.label, labels.thinking_toggle):
            return RowKind.TOGGLE
        if not row.hex and self._level_of(row.label) is not None:
            return RowKind.LEVEL
        return RowKind.MODEL

    def _level_of(self, label: str) -> ThinkingLevel | None:
        text = S.normalise(label)
        for level, starts in self.sel.labels.thinking_levels.items():
            if text in starts or any(text.startswith(f"{start} ") for start in starts):
                return level
        return None

    def control(self, rows: list[PickerRow], models: tuple[PageModel, ...]) -> ThinkingControl:
        kinds = {self.kind(row) for row in rows}
        if RowKind.LEVEL in kinds:
            return ThinkingControl.LEVELS
        if RowKind.SUBMENU in kinds:
            return ThinkingControl.SUBMENU
        if RowKind.TOGGLE in kinds:
            return ThinkingControl.TOGGLE
        if any(model.thinks for model in models):
            return ThinkingControl.MODEL
        return ThinkingControl.NONE

    async def open_menu(self) -> None:
        steps = self.steps
        await steps.close_menus()
        await steps.click(self.sel.mode_picker, "open mode picker")
        items = steps.page.locator(self.sel.mode_items.css).filter(visible=True).first
        await steps.wait_visible(items, self.sel.mode_items, "open mode picker")

    async def read_rows(self, sel: S.Sel) -> list[PickerRow]:
        """The visible rows, once their labels are filled (bounded; then as they are)."""
        steps, table = self.steps, self.sel
        arg = [
            sel.css,
            list(table.mode_item_label.fallbacks),
            list(table.mode_item_sublabel.fallbacks),
            table.selected.css,
            S.MODE_ID_ATTRIBUTE,
            True,
        ]
        wait = min(steps.settings.ui_timeout / 2, _LABEL_WAIT_MAX)
        try:
            with map_playwright_errors("read menu rows"):
                handle = await steps.page.wait_for_function(
                    _READ_ROWS, arg=arg, timeout=wait * MS, polling=50
                )
                raw: Any = await handle.json_value()
        except StepTimeout:
            raw = await steps.evaluate(_READ_ROWS, [*arg[:-1], False])
        return [PickerRow(**row) for row in raw or []]

    # -- choosing --

    async def choose(self, family: ModeFamily, level: ThinkingLevel | None, caps: Capabilities) -> None:
        """Switch to ``family`` at ``level`` (None: the level stays as it is), then verify."""
        control = caps.thinking
        want_thinks = control is ThinkingControl.MODEL and family is ModeFamily.FLASH and _thinks(level)
        current = await self.current_label()
        family_ok = S.family_of_label(current) is family
        variant_ok = control is not ThinkingControl.MODEL or level is None
        variant_ok = variant_ok or S.thinks_by_label(current) == want_thinks
        settable = level is not None and control in _LEVEL_CONTROLS
        if family_ok and variant_ok and not settable:
            return
        with map_playwright_errors("choose mode"):
            await self.open_menu()
            rows = await self.read_rows(self.sel.mode_items)
            if not (family_ok and variant_ok):
                target = self._model_row(rows, family, want_thinks, caps)
                if target is None:
                    await self.steps.close_menus()
                    raise SelectorMissing(f"mode:{family.value}", step="choose mode")
                await self.click_row(self.sel.mode_items, target)
            if settable and level is not None:
                rows = await self._reopened_rows()
                await self._set_level(rows, control, level)
            await self.steps.close_menus()
        if S.family_of_label(await self.current_label()) is not family:
            raise StepTimeout(f"the picker did not switch to {family.value}", step="choose mode")
        if settable and level is not None and not await self._level_is(control, level):
            raise StepTimeout(f"the picker did not take thinking level {level.value}", step="choose mode")

    def _model_row(
        self, rows: list[PickerRow], family: ModeFamily, thinks: bool, caps: Capabilities
    ) -> PickerRow | None:
        models = [row for row in rows if self.kind(row) is RowKind.MODEL]
        known = {m.hex: m for m in caps.models if m.hex}

        def fits(row: PickerRow) -> tuple[bool, bool]:
            model = known.get(row.hex or "")
            if model is not None:
                return model.family is family, model.thinks == thinks
            return S.family_of_label(row.label) is family, S.thinks_by_label(row.label) == thinks

        exact = [row for row in models if fits(row) == (True, True)]
        loose = [row for row in models if fits(row)[0]]
        found = exact or loose
        return found[0] if found else None

    async def _reopened_rows(self) -> list[PickerRow]:
        """The picker's rows again: a model click may have closed the menu or re-rendered it."""
        page = self.steps.page
        if not await self.steps.count(page.locator(self.sel.mode_items.css).filter(visible=True)):
            await self.open_menu()
        return await self.read_rows(self.sel.mode_items)

    async def _set_level(self, rows: list[PickerRow], control: ThinkingControl, level: ThinkingLevel) -> None:
        labels = self.sel.labels
        if control is ThinkingControl.LEVELS:
            row = next(
                (r for r in rows if self.kind(r) is RowKind.LEVEL and self._level_of(r.label) is level), None
            )
            if row is None:
                raise SelectorMissing(f"thinking level:{level.value}", step="choose mode")
            if not row.selected:
                await self.click_row(self.sel.mode_items, row)
        elif control is ThinkingControl.TOGGLE:
            row = next((r for r in rows if self.kind(r) is RowKind.TOGGLE), None)
            if row is None:
                raise SelectorMissing("thinking toggle", step="choose mode")
            if row.selected != (level is ThinkingLevel.HIGH):
                await self.click_row(self.sel.mode_items, row)
        else:
            parent = next((r for r in rows if self.kind(r) is RowKind.SUBMENU), None)
            if parent is None:
                raise SelectorMissing("thinking level menu", step="choose mode")
            wanted = labels.extended_thinking if level is ThinkingLevel.HIGH else labels.standard_thinking
            if S.starts_with_any(parent.sublabel, wanted):
                return
            await self.click_row(self.sel.mode_items, parent)
            choice = await self.find_row(wanted)
            if choice is None:
                raise SelectorMissing(f"thinking level:{wanted[0]}", step="choose mode")
            if not choice.selected:
                await self.click_row(self.sel.menu_items, choice)

    async def find_row(self, wanted: tuple[str, ...]) -> PickerRow | None:
        """The row of the second menu a "Thinking level" row opened, found by its label once the
        menu shows it (bounded by the UI timeout)."""
        steps, table = self.steps, self.sel
        arg = [
            table.menu_items.css,
            list(table.mode_item_label.fallbacks),
            list(table.mode_item_sublabel.fallbacks),
            table.selected.css,
            S.MODE_ID_ATTRIBUTE,
            list(wanted),
        ]
        try:
            with map_playwright_errors("open the thinking level menu"):
                handle = await steps.page.wait_for_function(
                    _FIND_ROW, arg=arg, timeout=steps.ui_ms, polling=50
                )
                found: Any = await handle.json_value()
        except StepTimeout:
            return None
        return PickerRow(**found)

    async def _level_is(self, control: ThinkingControl, level: ThinkingLevel) -> bool:
        with map_playwright_errors("check thinking level"):
            await self.open_menu()
            rows = await self.read_rows(self.sel.mode_items)
            await self.steps.close_menus()
        if control is ThinkingControl.LEVELS:
            return any(
                r.selected and self._level_of(r.label) is level for r in rows if self.kind(r) is RowKind.LEVEL
            )
        if control is ThinkingControl.TOGGLE:
            return any(
                r.selected == (level is ThinkingLevel.HIGH) for r in rows if self.kind(r) is RowKind.TOGGLE
            )
        labels = self.sel.labels
        wanted = labels.extended_thinking if level is ThinkingLevel.HIGH else labels.standard_thinking
        return any(S.starts_with_any(r.sublabel, wanted) for r in rows if self.kind(r) is RowKind.SUBMENU)

    async def click_row(self, sel: S.Sel, row: PickerRow) -> None:
        await self.steps.page.locator(sel.css).nth(row.index).click(timeout=self.steps.ui_ms)


_LEVEL_CONTROLS = (ThinkingControl.LEVELS, ThinkingControl.SUBMENU, ThinkingControl.TOGGLE)


def _thinks(level: ThinkingLevel | None) -> bool:
    return level in (ThinkingLevel.MEDIUM, ThinkingLevel.HIGH)
