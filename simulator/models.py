"""Which model serves a request: the header's mode, downgraded by the account tier (contract table)."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.accounts import Account, AccountKind
from simulator.requests import ModeHeader

FLASH_HEX = "56fdd199312815e2"
THINKING_HEX = "e051ce1aa80aa576"
PRO_HEX = "e6fa609c3fa255c0"
FLASH_LITE_HEX = "8c46e95b1a07cecc"
ANON_HEX = "cf41b0e0dd7d53e5"


@dataclass(frozen=True)
class ServedModel:
    """The model that answers; ``hex``/``label`` are echoed at inner[39]/inner[42]."""

    family: str  # flash | thinking | pro | flash_lite
    hex: str
    label: str
    thinks: bool
    thinking_level: int


class UnknownModel(Exception):
    """The header names a model id this simulator does not serve (Google answers 1052)."""


_LABELS = {
    ("flash", "mid2026"): "3.5 Flash",
    ("flash", "early2026"): "Fast",
    ("pro", "mid2026"): "3.1 Pro",
    ("pro", "early2026"): "Pro",
}


def _flash(ui: str) -> ServedModel:
    return ServedModel("flash", FLASH_HEX, _LABELS[("flash", ui)], False, 1)


def served_model(account: Account, header: ModeHeader | None, ui: str) -> ServedModel:
    """Signed-out visitors (and expired sessions) always get Flash-Lite; free accounts asking for Pro
    get Flash."""
    if not account.session_valid:
        return ServedModel("flash_lite", ANON_HEX, "3.5 Flash-Lite", False, 1)
    if header is None:
        return _flash(ui)
    thinking = header.thinking or 1
    if header.hex == FLASH_HEX:
        return _flash(ui)
    if header.hex == FLASH_LITE_HEX:
        return ServedModel("flash_lite", FLASH_LITE_HEX, "3.1 Flash-Lite", False, 1)
    if header.hex == THINKING_HEX:
        return ServedModel("thinking", THINKING_HEX, "Thinking", True, thinking)
    if header.hex == PRO_HEX:
        if account.kind is AccountKind.FREE:
            return _flash(ui)
        return ServedModel("pro", PRO_HEX, _LABELS[("pro", ui)], True, thinking)
    raise UnknownModel(header.hex)
