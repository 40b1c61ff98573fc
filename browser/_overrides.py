"""An operator's additions to the selector and label table, read from a file and checked at start.

The page will change again (docs/architecture/evidence.md): when it does, an operator can add a selector or a
label without waiting for a release. The file (JSON or TOML) names table entries by key; its
selectors are tried before the built-in ones and its labels beside them::

    {"selectors": {"tools_opener": ["button[aria-label='Outils']"]},
     "labels": {"tools": {"image": ["créer une image"]}, "thinking_levels": {"high": ["deep"]}}}

Every key must exist and every selector must be plain CSS (checked with cssselect), so a typo stops
the gateway at start with the entry named instead of failing turns later. The doctor reports which
entry, built-in or override, matched each element.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import cssselect
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from browser._requests import ThinkingLevel, Tool
from browser._selectors import DEFAULT_TABLE, Labels, Sel, SelectorTable

if TYPE_CHECKING:
    from browser._settings import PoolSettings

__all__ = ["LabelOverrides", "PageOverrides", "apply_overrides", "load_overrides", "table_for"]

SELECTOR_KEYS = frozenset(sel.key for sel in DEFAULT_TABLE.selectors())
# Playwright's own selector extensions: the driver also runs selectors through querySelectorAll.
_NOT_CSS = (":has-text(", ":text(", ":text-is(", ":visible", ">>", "internal:")


def _labels(values: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = tuple(" ".join(value.lower().split()) for value in values)
    if any(not value for value in cleaned):
        raise ValueError("a label must not be empty")
    return cleaned


class LabelOverrides(BaseModel):
    """Extra label starts (matched lower-cased, spaces collapsed) for each label group."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tools: dict[Tool, tuple[str, ...]] = Field(
        default={},
        description="Label starts of the tools menu's rows, per tool (`image`, `video`, `canvas`, "
        '`deep_research`), e.g. `{"image": ["make an image"]}`.',
    )
    tool_icons: dict[str, Tool] = Field(
        default={},
        description="Icon names (`data-mat-icon-name`) of the tools menu's rows, each naming its tool: "
        "the language-free second way to recognise a row.",
    )
    thinking_levels: dict[ThinkingLevel, tuple[str, ...]] = Field(
        default={},
        description="Label starts of the picker's inline thinking rows (`low`, `medium`, `high`), as on "
        "the October 2026 page.",
    )
    thinking_submenu: tuple[str, ...] = Field(
        default=(),
        description="Label starts of the picker's row that opens a thinking-level submenu (mid 2026).",
    )
    standard_thinking: tuple[str, ...] = Field(
        default=(), description="Label starts of that submenu's standard level."
    )
    extended_thinking: tuple[str, ...] = Field(
        default=(), description="Label starts of that submenu's extended level."
    )
    thinking_toggle: tuple[str, ...] = Field(
        default=(), description="Label starts of a picker row that toggles extended thinking on and off."
    )
    more_tools: tuple[str, ...] = Field(
        default=(), description="Label starts of the tools menu's row that shows the tools it hides."
    )

    @field_validator("tools", "thinking_levels")
    @classmethod
    def _clean_groups(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        return {key: _labels(starts) for key, starts in value.items()}

    @field_validator(
        "thinking_submenu", "standard_thinking", "extended_thinking", "thinking_toggle", "more_tools"
    )
    @classmethod
    def _clean(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _labels(value)


class PageOverrides(BaseModel):
    """The override file's content."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    selectors: dict[str, tuple[str, ...]] = Field(
        default={},
        description="Plain CSS selectors per element of the selector table, tried before the built-in "
        "entries. The keys are the table's (`editor`, `send`, `stop`, `mode_picker`, `mode_items`, "
        "`tools_opener`, `tool_items`, `tool_chip`, `upload_opener`, `file_input`, `signed_in`, "
        "`signed_out`, ... as `doctor` prints them).",
    )
    labels: LabelOverrides = Field(
        default=LabelOverrides(),
        description="Label starts added beside the built-in ones (matched case-blind, spaces collapsed).",
    )

    @field_validator("selectors")
    @classmethod
    def _check_selectors(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for key, entries in value.items():
            if key not in SELECTOR_KEYS:
                raise ValueError(f"unknown selector {key!r}; known: {', '.join(sorted(SELECTOR_KEYS))}")
            for index, css in enumerate(entries):
                _check_css(f"selectors.{key}[{index}]", css)
        return value


def _check_css(where: str, css: str) -> None:
    if not css.strip():
        raise ValueError(f"{where} is empty")
    if any(extension in css for extension in _NOT_CSS):
        raise ValueError(f"{where} uses a Playwright selector extension; plain CSS only")
    try:
        cssselect.parse(css)
    except cssselect.SelectorError as exc:
        raise ValueError(f"{where} is not valid CSS ({exc})") from None


def load_overrides(path: Path) -> PageOverrides:
    """Read and check an override file (``.json`` or ``.toml``); ``ValueError`` names the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"the page override file {path} cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"the page override file {path} is not valid {path.suffix[1:]} ({exc})") from None
    try:
        return PageOverrides.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'the file'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise ValueError(f"the page override file {path}: {problems}") from None


def apply_overrides(table: SelectorTable, overrides: PageOverrides | None) -> SelectorTable:
    """``table`` with the overrides' selectors in front and their labels added."""
    if overrides is None:
        return table
    changes: dict[str, Sel | Labels] = {}
    for sel in table.selectors():
        extra = overrides.selectors.get(sel.key, ())
        if extra:
            changes[sel.key] = replace(sel, fallbacks=(*extra, *sel.fallbacks), added=len(extra))
    changes["labels"] = _merge_labels(table.labels, overrides.labels)
    return replace(table, **changes)  # type: ignore[arg-type]


def _merge_labels(labels: Labels, extra: LabelOverrides) -> Labels:
    tools = {tool: (*extra.tools.get(tool, ()), *starts) for tool, starts in labels.tools.items()}
    levels = {
        level: (*extra.thinking_levels.get(level, ()), *starts)
        for level, starts in labels.thinking_levels.items()
    }
    return Labels(
        tools=tools,
        tool_icons={**labels.tool_icons, **extra.tool_icons},
        thinking_levels=levels,
        thinking_submenu=(*extra.thinking_submenu, *labels.thinking_submenu),
        standard_thinking=(*extra.standard_thinking, *labels.standard_thinking),
        extended_thinking=(*extra.extended_thinking, *labels.extended_thinking),
        thinking_toggle=(*extra.thinking_toggle, *labels.thinking_toggle),
        more_tools=(*extra.more_tools, *labels.more_tools),
    )


def table_for(settings: PoolSettings) -> SelectorTable:
    return settings.selector_table
