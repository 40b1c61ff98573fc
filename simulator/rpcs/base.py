"""What every RPC handler gets and may return: the visit's context, a payload or a rejection."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.accounts import Account
from simulator.state import SimState

# google.rpc status codes used in the short rejection form (envelope [5][0]).
PERMISSION_DENIED = 7  # signed out, or the session is dead
INVALID_ARGUMENT = 3  # the payload does not have the RPC's shape
NOT_FOUND = 5  # no such chat / research / video turn for this account
UNIMPLEMENTED = 12  # an rpc id the simulator does not know
INTERNAL = 13  # c8o8Fe's documented error form (protocol.md §12 F4)


@dataclass(frozen=True)
class RpcContext:
    """What an RPC may depend on: the simulator's state and the calling account."""

    state: SimState
    account: Account


@dataclass(frozen=True)
class Rejected:
    """Answer with ``["wrb.fr", id, null, null, null, [code], identifier]``; ``reason`` goes to the log."""

    code: int
    reason: str


Handler = Callable[[RpcContext, Any], "object | Rejected"]


def at(value: Any, *path: int) -> Any:
    """``value[path...]`` or None when a list is too short or a step is not a list."""
    for index in path:
        if not isinstance(value, list) or len(value) <= index:
            return None
        value = value[index]
    return value


def timestamp(seconds: float) -> list[int]:
    """``[secs, nanos]`` as the RPC answers carry times."""
    whole = int(seconds)
    return [whole, int((seconds - whole) * 1e9)]
