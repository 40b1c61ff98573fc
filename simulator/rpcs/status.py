"""otAQ7b: account status, the models this account may use, tier and tool flags (interface I3)."""

from __future__ import annotations

from typing import Any

from simulator.accounts import Account, AccountKind
from simulator.page.catalog import Mode, modes_for, tools_for
from simulator.rpcs.base import RpcContext

AVAILABLE = 1000
UNAUTHENTICATED = 1016
TERMS_PENDING = 1040
LOCATION_UNSUPPORTED = 1060

TIER_FREE = 1
TIER_PAID = 2

PAYLOAD_SLOTS = 18

_STATUS = {
    AccountKind.EXPIRED: UNAUTHENTICATED,
    AccountKind.TERMS: TERMS_PENDING,
    AccountKind.REGION: LOCATION_UNSUPPORTED,
}


def account_status(account: Account) -> int:
    return _STATUS.get(account.kind, AVAILABLE)


def model_entry(mode: Mode) -> list[object]:
    """``[hex, label, description, mode_category, thinking_level]``; mid-2026's standard thinking
    item is labelled by its sub-menu ("Thinking"), the way the picker's trigger names it."""
    label = mode.parent if mode.parent and mode.thinking == 1 else mode.label
    return [mode.hex, label, mode.sublabel, mode.category, mode.thinking]


def answer(ctx: RpcContext, payload: Any) -> object:
    """The page sends ``[]``; nothing in the answer depends on the payload."""
    account = ctx.account
    ui = ctx.state.settings.ui
    body: list[object] = [None] * PAYLOAD_SLOTS
    body[14] = account_status(account)
    if not account.session_valid:
        body[15], body[16], body[17] = [], [TIER_FREE], []
        return body
    tier = account.tier
    body[15] = [model_entry(mode) for mode in modes_for(ui, tier)]
    body[16] = [TIER_PAID if tier == "paid" else TIER_FREE]
    body[17] = sorted(tool.code for tool in tools_for(ui, tier) if tool.code is not None)
    return body
