"""otAQ7b: account status, the models of this account's picker, tier and capability flags.

The layout is the real one (docs/architecture/evidence.md#g4 to G6, G10): a dense list of 18 with the shape of
AUTO's mock (``[1,[false,null,false],false,null,null,null,true,…,false,false,<status>,[models]]``),
``[16]`` tier flags and ``[17]`` account capability flags as GA/GAF read them (8 and 19: a paid
plan, the ZX test body ``…,[8],[19]]``; 115: Plus). Each model entry follows AUTO's item, GAF's
reader and RSDK's writer: short name ``[1]``/``[10]``, description ``[2]``/``[12]``, capability ints
``[3]``, versioned label ``[11]``, mode category ``[17]``, icon ``[18]``. Nothing here names tools
(G6): the page's tools come from the configuration the server rendered into it.
"""

from __future__ import annotations

from typing import Any

from simulator.accounts import Account, AccountKind
from simulator.lineup import Model, lineup
from simulator.rpcs.base import RpcContext

AVAILABLE = 1000
UNAUTHENTICATED = 1016
TERMS_PENDING = 1040
LOCATION_UNSUPPORTED = 1060

PAYLOAD_SLOTS = 18
ENTRY_KIND = 2  # entry [4]: 2 in AUTO's item (meaning not recorded)

# [16] tier flags and [17] capability flags per plan (GA/GAF; free accounts carry none).
_FLAGS: dict[str, tuple[list[int], list[int]]] = {
    "paid": ([8], [19]),
    "plus": ([8], [115]),
    "free": ([], []),
}

_STATUS = {
    AccountKind.EXPIRED: UNAUTHENTICATED,
    AccountKind.TERMS: TERMS_PENDING,
    AccountKind.REGION: LOCATION_UNSUPPORTED,
}


def account_status(account: Account) -> int:
    return _STATUS.get(account.kind, AVAILABLE)


def model_entry(model: Model) -> list[object]:
    """``[hex, short, description, [caps…], 2, null×5, short, label, description, null×4,
    category, [icon url, true]]`` (19 slots, AUTO's item)."""
    entry: list[object] = [model.hex, model.short, model.description, list(model.capabilities), ENTRY_KIND]
    entry += [None] * 5
    entry += [model.short, model.label, model.description]
    entry += [None] * 4
    entry += [model.category, [model.icon_url, True]]
    return entry


def answer(ctx: RpcContext, payload: Any) -> object:
    """The page sends ``[]``; nothing in the answer depends on the payload."""
    account = ctx.account
    settings = ctx.state.settings
    body: list[object] = [None] * PAYLOAD_SLOTS
    body[0] = 1
    body[1] = [False, None, False]
    body[2] = False
    body[6] = True
    body[12] = False
    body[13] = False
    status = account_status(account)
    body[14] = None if status == AVAILABLE and settings.status_code_null else status
    if not account.session_valid:
        # A dead session lists no models and no flags (GA maps 1016 to "cookies expired").
        body[15], body[16], body[17] = [], [], []
        return body
    tiers, capabilities = _FLAGS[account.plan]
    body[15] = [model_entry(model) for model in lineup(settings.ui, account.plan)]
    body[16], body[17] = list(tiers), list(capabilities)
    return body
