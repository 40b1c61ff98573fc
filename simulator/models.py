"""Which model serves a request, at which thinking level, and what the answer echoes about it.

The header's id picks the model among the rows the account's picker offers (simulator/lineup.py);
a known id the picker does not offer is served by the account's default Flash, an unknown one is
refused with 1052, and signed-out visitors (or dead sessions) always get Flash-Lite (ZX). Thinking
is a level code on the chosen model (C8, M6), never a model of its own after early 2026.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.accounts import Account
from simulator.lineup import (
    ANON_HEX,
    ANON_LABEL,
    CATEGORY_FLASH_LITE,
    EXTENDED,
    default_model,
    known_hexes,
    lineup,
)
from simulator.requests import ModeHeader

NORMAL = 1


@dataclass(frozen=True)
class ServedModel:
    """The model that answers. ``hex``/``label`` are echoed at inner[39]/inner[42]; ``level`` is the
    thinking level code the request carried (header [15], else inner[80])."""

    family: str  # flash | flash_lite | pro | thinking
    hex: str
    label: str
    category: int
    level: int

    @property
    def thinks(self) -> bool:
        """Thoughts stream first for Pro, the early Thinking model and any level other than normal."""
        return self.family in ("pro", "thinking") or self.level != NORMAL


class UnknownModel(Exception):
    """The header names a model id no picker offers (Google answers 1052)."""


def anonymous_model() -> ServedModel:
    return ServedModel("flash_lite", ANON_HEX, ANON_LABEL, CATEGORY_FLASH_LITE, NORMAL)


def served_model(
    account: Account, header: ModeHeader | None, inner_level: int | None, ui: str
) -> ServedModel:
    """The echo is the row's versioned label, plus " Extended" at level code 2 (protocol.md §6.1
    "… Extended"; INT pill "Flash Extended")."""
    if not account.session_valid:
        return anonymous_model()  # ZX: thinking levels are honoured for signed-in sessions only
    offered = {row.hex: row for row in lineup(ui, account.plan)}
    row = default_model(ui, account.plan)
    if header is not None:
        if header.hex in offered:
            row = offered[header.hex]
        elif header.hex not in known_hexes():
            raise UnknownModel(header.hex)
    level = (header.thinking if header is not None else None) or inner_level or NORMAL
    label = row.label + (" Extended" if level == EXTENDED else "")
    return ServedModel(row.key, row.hex, label, row.category, level)
