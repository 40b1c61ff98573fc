"""Label matching for mode families and tools across UI generations."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from browser import _driver
from browser import _selectors as S
from browser._requests import ModeFamily, Tool
from browser._selectors import family_of_label, tool_of_label
from tests.conftest import NewContext


@pytest.mark.parametrize(
    ("label", "family"),
    [
        ("Fast", ModeFamily.FLASH),
        ("2.5 Flash", ModeFamily.FLASH),
        ("3.5 Flash", ModeFamily.FLASH),
        ("3.1 Flash-Lite", None),
        ("Pro", ModeFamily.PRO),
        ("3.1 Pro", ModeFamily.PRO),
        ("Thinking", ModeFamily.THINKING),
        ("Extended thinking", ModeFamily.THINKING),
        ("Guided learning", None),
    ],
)
def test_family_of_label(label: str, family: ModeFamily | None) -> None:
    assert family_of_label(label) is family


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


SELECTORS = [value for value in vars(S).values() if isinstance(value, S.Sel)]
# Used inside page scripts (document.querySelector*), so they must be plain CSS, not Playwright's.
IN_PAGE_SCRIPTS = (S.EDITOR, S.SEND, S.SIGNED_OUT, S.SIGNED_IN, S.UPLOAD_CHIP, S.UPLOAD_BUSY)


def test_the_table_has_names_and_fallbacks() -> None:
    assert len(SELECTORS) > 20
    assert all(sel.fallbacks and all(sel.fallbacks) for sel in SELECTORS)
    names = [sel.name for sel in SELECTORS]
    assert len(names) == len(set(names))


def test_the_driver_keeps_no_selector_of_its_own() -> None:
    """Selectors are data in ``_selectors.py``: no string literal goes to ``locator()`` in the driver."""
    tree = ast.parse(Path(_driver.__file__).read_text())
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
        assert await page.locator(sel.css).count() == 0, sel.name
    for sel in IN_PAGE_SCRIPTS:
        assert await page.evaluate("css => document.querySelectorAll(css).length", sel.css) == 0, sel.name
