"""The models each UI generation's picker offers per plan, and the thinking levels beside them.

One table serves the server (otAQ7b, the served-model echo) and the page (picker rows, request
codes), so the two cannot drift apart. Sources (docs/architecture/evidence.md): OCT 2026-10 rows and labels
(C4, C5, M1-M3), REG 2026-07 mid-2026 labels, M5 / GA the free tier's own ids, APIREF 2026-04 the
early "Fast / Thinking / Pro" picker; the thinking controls C8 (OCT levels, ZHT/REG submenu, TOK/INT
toggle).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

UiGeneration = Literal["oct2026", "mid2026", "early2026"]
UI_GENERATIONS: tuple[UiGeneration, ...] = ("oct2026", "mid2026", "early2026")

# The web app's MODE_CATEGORY enum (protocol.md §2.1): header [14], inner[79], otAQ7b entry [17].
CATEGORY_FLASH = 1
CATEGORY_THINKING = 2
CATEGORY_PRO = 3
CATEGORY_FLASH_LITE = 6

# Paid (and Plus) model ids (OCT, GA PLUS_*/ADVANCED_*); the free tier's own ids (GA BASIC_*, M5).
FLASH_HEX = "56fdd199312815e2"
PRO_HEX = "e6fa609c3fa255c0"
FLASH_LITE_HEX = "8c46e95b1a07cecc"
THINKING_HEX = "e051ce1aa80aa576"
FREE_FLASH_HEX = "fbb127bbb056c959"
FREE_PRO_HEX = "9d8ca3786ebdfbea"
FREE_FLASH_LITE_HEX = "cf41b0e0dd7d53e5"
FREE_THINKING_HEX = "5bf011840784117a"
# What serves every signed-out (or dead-session) turn, whatever was asked (ZX 2026-08).
ANON_HEX = FREE_FLASH_LITE_HEX
ANON_LABEL = "3.5 Flash-Lite"

_ICON = "https://fonts.gstatic.com/s/i/short-term/release/googlesymbols/{name}/default/24px.svg"
# Per-model capability ints of otAQ7b entry [3] (AUTO shows a list of them; which ints a given
# model carries is not recorded: these subsets of AUTO's list are our choice).
_LIGHT_CAPS = (2, 49, 52, 53, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15)
_FULL_CAPS = (*_LIGHT_CAPS, 18, 20, 22, 23, 25, 61, 87)


@dataclass(frozen=True)
class Model:
    """One picker row. ``short`` is what the pill shows (REG: "the label pill shows the SHORT name",
    OCT pill "Flash"); ``label`` the versioned row label, also otAQ7b [11] and the served echo."""

    key: str  # flash | flash_lite | pro | thinking
    short: str
    label: str
    description: str
    hex: str
    category: int
    capabilities: tuple[int, ...]
    icon: str
    test_id: str  # data-test-id of the row

    @property
    def icon_url(self) -> str:
        return _ICON.format(name=self.icon)


def _row(key: str, short: str, label: str, description: str, hex_id: str, category: int) -> Model:
    caps = _FULL_CAPS if key in ("pro", "thinking") else _LIGHT_CAPS
    icon = {"flash": "bolt", "flash_lite": "speed", "pro": "diamond", "thinking": "lightbulb"}[key]
    return Model(key, short, label, description, hex_id, category, caps, icon, f"bard-mode-option-{hex_id}")


def _early(key: str, label: str, description: str, hex_id: str, category: int) -> Model:
    # Early-2026 rows carry readable test ids (page.md, 2026-02 captures) and name the model plainly.
    test_id = "bard-mode-option-" + {"flash": "fast"}.get(key, key)
    caps = _FULL_CAPS if key in ("pro", "thinking") else _LIGHT_CAPS
    icon = {"flash": "bolt", "pro": "diamond", "thinking": "lightbulb"}[key]
    return Model(key, label, label, description, hex_id, category, caps, icon, test_id)


_OCT = {
    "paid": (
        _row(
            "flash_lite",
            "Flash-Lite",
            "3.5 Flash-Lite",
            "Fastest answers",
            FLASH_LITE_HEX,
            CATEGORY_FLASH_LITE,
        ),
        _row("flash", "Flash", "3.8 Flash", "All-around help", FLASH_HEX, CATEGORY_FLASH),
        _row("pro", "Pro", "3.1 Pro", "Advanced reasoning", PRO_HEX, CATEGORY_PRO),
    ),
    "free": (
        _row(
            "flash_lite",
            "Flash-Lite",
            "3.5 Flash-Lite",
            "Fastest answers",
            FREE_FLASH_LITE_HEX,
            CATEGORY_FLASH_LITE,
        ),
        _row("flash", "Flash", "3.8 Flash", "All-around help", FREE_FLASH_HEX, CATEGORY_FLASH),
        _row("pro", "Pro", "3.1 Pro", "Advanced reasoning", FREE_PRO_HEX, CATEGORY_PRO),
    ),
}
# REG 2026-07-04 lists the mid-2026 labels; the descriptions are OCT's (none recorded for mid-2026).
_MID = {
    "paid": (
        _row(
            "flash_lite",
            "Flash-Lite",
            "3.1 Flash-Lite",
            "Fastest answers",
            FLASH_LITE_HEX,
            CATEGORY_FLASH_LITE,
        ),
        _row("flash", "Flash", "3.5 Flash", "All-around help", FLASH_HEX, CATEGORY_FLASH),
        _row("pro", "Pro", "3.1 Pro", "Advanced math and code", PRO_HEX, CATEGORY_PRO),
    ),
    "free": (
        _row(
            "flash_lite",
            "Flash-Lite",
            "3.1 Flash-Lite",
            "Fastest answers",
            FREE_FLASH_LITE_HEX,
            CATEGORY_FLASH_LITE,
        ),
        _row("flash", "Flash", "3.5 Flash", "All-around help", FREE_FLASH_HEX, CATEGORY_FLASH),
        _row("pro", "Pro", "3.1 Pro", "Advanced math and code", FREE_PRO_HEX, CATEGORY_PRO),
    ),
}
# APIREF 2026-04: a Thinking *model* existed then, with its own id per tier (GA BASIC_THINKING).
_EARLY = {
    "paid": (
        _early("flash", "Fast", "Answers quickly", FLASH_HEX, CATEGORY_FLASH),
        _early("thinking", "Thinking", "Solves complex problems", THINKING_HEX, CATEGORY_THINKING),
        _early("pro", "Pro", "Thinks longer for advanced math & code", PRO_HEX, CATEGORY_PRO),
    ),
    "free": (
        _early("flash", "Fast", "Answers quickly", FREE_FLASH_HEX, CATEGORY_FLASH),
        _early("thinking", "Thinking", "Solves complex problems", FREE_THINKING_HEX, CATEGORY_THINKING),
        _early("pro", "Pro", "Thinks longer for advanced math & code", FREE_PRO_HEX, CATEGORY_PRO),
    ),
}
_LINEUPS = {"oct2026": _OCT, "mid2026": _MID, "early2026": _EARLY}


def lineup_plan(plan: str) -> str:
    """Plus accounts see the paid lineup; signed-out visitors the free one (cut to its default)."""
    return "free" if plan in ("free", "anon") else "paid"


def lineup(ui: str, plan: str) -> tuple[Model, ...]:
    """The picker's model rows in order. A guest may use only the default model (GAF, G9): the
    signed-out picker shows the light model alone (ADM: anonymous visitors get Flash-Lite)."""
    rows = _LINEUPS[ui][lineup_plan(plan)]
    if plan == "anon":
        light = "flash" if ui == "early2026" else "flash_lite"
        return tuple(row for row in rows if row.key == light)
    return rows


def default_model(ui: str, plan: str) -> Model:
    """The committed choice of a fresh page: Flash (OCT: pill "Flash"), else the only row."""
    rows = lineup(ui, plan)
    return next((row for row in rows if row.key == "flash"), rows[0])


def known_hexes() -> set[str]:
    """Every id any picker offers; anything else answers 1052."""
    return {row.hex for ui in _LINEUPS.values() for rows in ui.values() for row in rows} | {ANON_HEX}


# --- thinking ------------------------------------------------------------------------------------

ThinkingControl = Literal["levels", "submenu", "toggle", "none"]
EXTENDED = 2  # the level code that means extended thinking (protocol.md §2.1: 1 normal, 2 extended)


@dataclass(frozen=True)
class Level:
    """A thinking level choice and the code it puts in header [15] and inner[80]."""

    key: str
    label: str
    sublabel: str
    code: int


# OCT: three inline rows, codes from their jslog payloads (Low 1, Medium 4, High 2).
LEVEL_ROWS = (
    Level("low", "Low", "Quick and efficient", 1),
    Level("medium", "Medium", "Balanced depth", 4),
    Level("high", "High", "Extra thorough", 2),
)
# ZHT 2026-05-28 / REG 2026-07-04: "Thinking level" opens Standard / Extended (sublabels our choice).
SUBMENU_LEVELS = (
    Level("standard", "Standard", "Thinks before answering", 1),
    Level("extended", "Extended", "Thinks longer for harder problems", EXTENDED),
)
SUBMENU_ITEM_LABEL = "Thinking level"
# TOK 2026-07-17, INT late 2026: one independent row, on = extended.
TOGGLE_ROW = Level("extended", "Extended thinking", "Complex problem solving", EXTENDED)


def thinking_control(ui: str, setting: str) -> ThinkingControl:
    """``auto``: October 2026 shows inline levels, mid 2026 the submenu; early 2026 has none (its
    Thinking was a model)."""
    if ui == "early2026":
        return "none"
    if setting == "auto":
        return "levels" if ui == "oct2026" else "submenu"
    return "toggle" if setting == "toggle" else "submenu" if setting == "submenu" else "levels"
