"""A task that does one piece of work every so often until it is stopped, and its stop.

The stop sets a flag before it cancels the task, and the loop ends on the flag as well: a
cancellation that lands inside a call of redis-py's asyncio client can be swallowed there (seen
with redis-py 8.2 on Python 3.11: the call returns and the task runs on), and a loop that ran on
would keep a stopped gateway renewing and heartbeating in Redis, and its stop waiting for ever.
With the flag, such a loop ends after the call it was in (bounded by the client's socket timeout).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

__all__ = ["Periodic", "cancel_and_wait"]


class Periodic:
    """``work`` every ``interval`` seconds, first after one interval; ``work`` handles its own
    errors (an exception out of it ends the loop)."""

    def __init__(self, work: Callable[[], Awaitable[object]], interval: float, *, name: str) -> None:
        self.work, self.interval, self.name = work, interval, name
        self.stopped = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self.stopped = False
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait until it has ended, even when this caller is cancelled
        meanwhile (the loop is waited for, then the cancellation goes on)."""
        self.stopped = True
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait([task])

    async def _run(self) -> None:
        while not self.stopped:
            await asyncio.sleep(self.interval)
            if self.stopped:
                return
            await self.work()


async def cancel_and_wait(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until each has ended, even when the caller is cancelled meanwhile
    (they are waited for, then the caller's cancellation goes on): none is left running unawaited."""
    if not tasks:
        return
    for task in tasks:
        task.cancel()
    ended = asyncio.gather(*tasks, return_exceptions=True)
    try:
        await asyncio.shield(ended)
    except asyncio.CancelledError:
        await ended
        raise
