"""The part of the page configuration the picker, the tools menu and the request builder read.

The page's JavaScript reads this (embedded as JSON) instead of holding its own copy, so the picker,
the request codes and the server's expectations come from one place (simulator/lineup.py,
simulator/toolbox.py). The picker itself is built from the otAQ7b answer; ``models`` is what the
page falls back to when that answer is missing or lists none (signed out, expired, failed).
"""

from __future__ import annotations

from dataclasses import asdict

from simulator.lineup import (
    FLASH_HEX,
    LEVEL_ROWS,
    SUBMENU_ITEM_LABEL,
    SUBMENU_LEVELS,
    TOGGLE_ROW,
    UI_GENERATIONS,
    Level,
    Model,
    default_model,
    lineup,
    thinking_control,
)
from simulator.toolbox import Tool, tools_for

__all__ = ["FLASH_HEX", "UI_GENERATIONS", "models_for", "page_catalog", "tools_for"]


def models_for(ui: str, plan: str) -> tuple[Model, ...]:
    """The picker's model rows for a plan (``paid``, ``plus``, ``free``, ``anon``)."""
    return lineup(ui, plan)


def _model_json(model: Model) -> dict[str, object]:
    return {**asdict(model), "capabilities": list(model.capabilities)}


def _levels(control: str) -> list[Level]:
    if control == "levels":
        return list(LEVEL_ROWS)
    if control == "submenu":
        return list(SUBMENU_LEVELS)
    if control == "toggle":
        return [TOGGLE_ROW]
    return []


def _tool_json(tool: Tool) -> dict[str, object]:
    return {key: value for key, value in asdict(tool).items() if key != "plans"}


def page_catalog(ui: str, plan: str, thinking_setting: str) -> dict[str, object]:
    """``models`` (the plan's rows, the fallback), ``catalogue`` (every row of the UI generation, by
    which the page names rows the otAQ7b answer lists), ``defaultModel``, ``thinking`` (the control
    and its levels), ``tools`` (this plan's menu) and the header ``capacity``."""
    control = thinking_control(ui, thinking_setting) if plan != "anon" else "none"
    catalogue = {row.hex: row for key in ("paid", "free") for row in lineup(ui, key)}
    return {
        "models": [_model_json(model) for model in lineup(ui, plan)],
        "catalogue": [_model_json(model) for model in catalogue.values()],
        "defaultModel": default_model(ui, plan).key,
        "thinking": {
            "control": control,
            "levels": [asdict(level) for level in _levels(control)],
            "submenuLabel": SUBMENU_ITEM_LABEL,
        },
        "tools": [_tool_json(tool) for tool in tools_for(ui, plan)],
    }
