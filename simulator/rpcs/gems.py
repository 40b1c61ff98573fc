"""CNgdBe: the gem list (protocol.md §8). ``[3, [lang], 0]`` premade gems (4 = hidden ones too),
``[2, [lang], 0]`` the account's own → ``[null, null, [[id, [name, desc], [prompt]], ...]]``."""

from __future__ import annotations

from typing import Any

from simulator.gems import SYSTEM_GEMS, Gem
from simulator.rpcs.base import INVALID_ARGUMENT, Rejected, RpcContext, at

SYSTEM = 3
SYSTEM_WITH_HIDDEN = 4
CUSTOM = 2


def answer(ctx: RpcContext, payload: Any) -> object:
    kind = at(payload, 0)
    if kind not in (SYSTEM, SYSTEM_WITH_HIDDEN, CUSTOM):
        return Rejected(INVALID_ARGUMENT, "CNgdBe kind is not 2, 3 or 4")
    if kind == CUSTOM:
        return [None, None, _rows(ctx.state.gems.custom_for(ctx.account))]
    return [None, None, _rows([gem for gem in SYSTEM_GEMS if kind == SYSTEM_WITH_HIDDEN or not gem.hidden])]


def _rows(gems: list[Gem]) -> list[object]:
    return [[gem.id, [gem.name, gem.description], [gem.prompt]] for gem in gems]
