"""What an account's page offers: its models, how it sets a thinking level, its tools and its tier."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from browser._requests import ModeFamily, ThinkingLevel, Tool


class ThinkingControl(enum.StrEnum):
    """How the page's picker sets a thinking level (docs/architecture/page-model.md#thinking-levels)."""

    NONE = "none"  # no control seen: the page's models think as they do
    LEVELS = "levels"  # October 2026: Low / Medium / High rows beside the models (OCT)
    SUBMENU = "submenu"  # mid-2026: a "Thinking level" row opening Standard / Extended (ZHT, REG)
    TOGGLE = "toggle"  # mid/late 2026: an "Extended thinking" row (TOK, INT)
    MODEL = "model"  # early 2026: a "Thinking" model beside Fast and Pro (APIREF)


@dataclass(frozen=True)
class PageModel:
    """One model the account's picker offers: its wire ``hex`` (None when the page did not say),
    its ``label`` as the picker shows it, the ``family`` it counts for (None for one outside every
    family, e.g. Flash-Lite) and whether it is its family's thinking variant (early 2026)."""

    hex: str | None
    label: str
    family: ModeFamily | None
    thinks: bool = False


@dataclass(frozen=True)
class Capabilities:
    """What the page offers. ``tier`` is paid | free (from the account-status flags), unknown (read
    from the page only: the page shows no reliable plan label) or anon (signed out)."""

    tier: str
    modes: frozenset[ModeFamily] = field(default_factory=frozenset)
    tools: frozenset[Tool] = field(default_factory=frozenset)
    models: tuple[PageModel, ...] = ()
    thinking: ThinkingControl = ThinkingControl.NONE

    @property
    def thinking_levels(self) -> frozenset[ThinkingLevel]:
        """The levels a request can tell apart on this page."""
        if self.thinking is ThinkingControl.NONE:
            return frozenset()
        return frozenset(ThinkingLevel)
