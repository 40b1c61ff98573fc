"""Label matching for mode families and tools across UI generations."""

from __future__ import annotations

import pytest

from browser._requests import ModeFamily, Tool
from browser._selectors import family_of_label, tool_of_label


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
