"""Waiting on a condition in a test: polled at a short interval (nothing is timed), bounded by
``bound`` seconds, failing with what was awaited."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def until(condition: Callable[[], object], what: str, *, bound: float, interval: float = 0.02) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(interval)


async def until_async(
    condition: Callable[[], object], what: str, *, bound: float, interval: float = 0.02
) -> None:
    """``until`` on the event loop: the loop runs meanwhile."""
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(interval)
