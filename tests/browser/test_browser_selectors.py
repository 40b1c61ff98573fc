"""Label matching for mode families and tools across UI generations, and the table itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from browser import _driver, _picker, _steps, _toolbox
from browser._requests import ModeFamily, Tool
from browser._selectors import DEFAULT_TABLE, family_of_label, thinks_by_label, tool_of_label
from tests.conftest import NewContext


@pytest.mark.parametrize(
    ("label", "family"),
    [
        ("Fast", ModeFamily.FLASH),
        ("2.5 Flash", ModeFamily.FLASH),
        ("3.5 Flash", ModeFamily.FLASH),
        ("3.1 Flash-Lite", None),
        ("3.5 Flash-Lite", None),
        ("3.8 Flash", ModeFamily.FLASH),
        ("Flash Extended", ModeFamily.FLASH),  # an echo with thinking extended (INT): still the Flash
        ("Pro", ModeFamily.PRO),
        ("3.1 Pro", ModeFamily.PRO),
        ("3.1 Pro Extended", ModeFamily.PRO),
        ("Thinking", ModeFamily.FLASH),  # early 2026's Thinking model: a Flash that thinks
        ("Guided learning", None),
        ("Auto", None),  # AUTO's injected mode (M7): no family
    ],
)
def test_family_of_label(label: str, family: ModeFamily | None) -> None:
    assert family_of_label(label) is family


@pytest.mark.parametrize(
    ("label", "thinks"), [("Thinking", True), ("Fast", False), ("Flash Extended", False), ("Pro", False)]
)
def test_thinking_variants_by_label(label: str, thinks: bool) -> None:
    assert thinks_by_label(label) is thinks


@pytest.mark.parametrize(
    ("label", "tool"),
    [
        ("Create image", Tool.IMAGE),
        ("Create video (Veo 3.1)", Tool.VIDEO),
        ("  Canvas ", Tool.CANVAS),
        ("Deep Research", Tool.DEEP_RESEARCH),
        ("Guided learning", None),
    ],
)
def test_tool_of_label(label: str, tool: Tool | None) -> None:
    assert tool_of_label(label) is tool


SELECTORS = list(DEFAULT_TABLE.selectors())


def test_the_table_has_names_keys_and_fallbacks() -> None:
    assert len(SELECTORS) > 20
    assert all(sel.fallbacks and all(sel.fallbacks) for sel in SELECTORS)
    names = [sel.name for sel in SELECTORS]
    assert len(names) == len(set(names))
    assert [sel.key for sel in SELECTORS] == [
        name for name in DEFAULT_TABLE.__dataclass_fields__ if name != "labels"
    ], "each entry's override key is its field's name"


@pytest.mark.parametrize("module", [_driver, _picker, _toolbox, _steps])
def test_the_driver_keeps_no_selector_of_its_own(module: object) -> None:
    """Selectors are data in ``_selectors.py``: no string literal goes to ``locator()`` in the driver."""
    tree = ast.parse(Path(module.__file__).read_text())  # type: ignore[attr-defined]
    inline = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"locator", "query_selector", "wait_for_selector"}
        and any(isinstance(arg, ast.Constant | ast.JoinedStr) for arg in node.args)
    ]
    assert inline == []


@pytest.mark.browser
async def test_every_selector_parses_in_chromium(new_context: NewContext) -> None:
    page = await (await new_context()).new_page()
    await page.set_content("<main><p>empty</p></main>")
    for sel in SELECTORS:
        # Every one is also used in page scripts (querySelectorAll): plain CSS, no Playwright extension.
        assert await page.locator(sel.css).count() == 0, sel.name
        assert await page.evaluate("css => document.querySelectorAll(css).length", sel.css) == 0, sel.name
