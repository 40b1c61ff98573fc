"""ESY5D: account settings by name. The answer layout is our choice (protocol.md §8 records only
the request): ``[[[name, value], ...]]`` in the order asked, unknown names ``false``."""

from __future__ import annotations

from typing import Any

from simulator.rpcs.base import INVALID_ARGUMENT, Rejected, RpcContext, at

_SETTINGS: dict[str, object] = {"bard_activity_enabled": True}


def answer(ctx: RpcContext, payload: Any) -> object:
    asked = at(payload, 0)
    if not isinstance(asked, list) or not asked:
        return Rejected(INVALID_ARGUMENT, "ESY5D payload is not [[[name], ...]]")
    values: list[object] = []
    for entry in asked:
        name = at(entry, 0)
        if not isinstance(name, str):
            return Rejected(INVALID_ARGUMENT, "ESY5D setting name is not a string")
        values.append([name, _SETTINGS.get(name, False)])
    return [values]
