"""jSf9Qc: usage windows with their reset times (protocol.md §8):
``[2, [[used, limit, 2, [[secs, nanos]]], [used, limit, 1, [[secs, nanos]]]], exhausted]`` — the
5-hour window (kind 2, the reset the answers' quota frames carry) then the weekly one (kind 1);
``exhausted`` (our reading of the last slot) is true while a window has nothing left."""

from __future__ import annotations

import time
from typing import Any

from simulator.accounts import AccountKind
from simulator.rpcs.base import RpcContext, timestamp

VERSION = 2


def answer(ctx: RpcContext, payload: Any) -> object:
    """Nothing in the answer depends on the payload (its meaning is not recorded)."""
    limited = ctx.account.kind is AccountKind.LIMITED
    windows = ctx.state.usage.windows(ctx.account.public_id, time.time(), limited=limited)
    entries = [[w.used, w.spec.limit, w.spec.kind, [timestamp(w.reset_at)]] for w in windows]
    return [VERSION, entries, any(w.remaining == 0 for w in windows)]
