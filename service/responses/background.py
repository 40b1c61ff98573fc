"""Background responses (``background: true``): each runs in a task of its own, owned by the
lifespan, while the request that made it has long been answered (``queued``). A run keeps its
stream's events in memory as they come, so that any number of readers can follow it from any
sequence number (``POST`` with ``stream: true``, ``GET /responses/{id}?stream=true&starting_after=N``);
the serving code stores the response as its status changes, and its events once it ends.

Cancelling a run (``POST /responses/{id}/cancel``) cancels its task: the chat stream's ``finally``
stops the page's answer and gives the lease back, then the run stores itself as ``cancelled``. At
shutdown every run still going is cancelled the same way and stored as failed (interrupted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["BackgroundRuns", "Run"]

Event = dict[str, Any]


class Run:
    """One background response: its task, its events so far, and why it was cancelled."""

    def __init__(self, response_id: str) -> None:
        self.response_id = response_id
        self.events: list[Event] = []
        self.done = False
        self.cancelled_by_client = False  # a cancel request, not the gateway stopping
        self.discarded = False  # deleted while running: nothing is stored when it ends
        self.task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    def publish(self, event: Event) -> None:
        self.events.append(event)
        self._wake()

    def finish(self) -> None:
        self.done = True
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def follow(self, after: int | None) -> AsyncIterator[Event]:
        """The events with a sequence number above ``after`` (all without it), then each new one
        as it comes, until the run ends."""
        index = 0
        while True:
            changed = self._changed
            while index < len(self.events):
                event = self.events[index]
                index += 1
                if after is None or event["sequence_number"] > after:
                    yield event
            if self.done:
                return
            await changed.wait()


class BackgroundRuns:
    """The runs of this process, by response id; ``aclose`` cancels what still runs."""

    def __init__(self, stop_timeout: float) -> None:
        self.stop_timeout = stop_timeout
        self._runs: dict[str, Run] = {}

    def get(self, response_id: str) -> Run | None:
        return self._runs.get(response_id)

    def start(self, run: Run, work: Callable[[Run], Coroutine[Any, Any, None]]) -> None:
        self._runs[run.response_id] = run
        run.task = asyncio.get_running_loop().create_task(work(run), name=f"response-{run.response_id}")
        run.task.add_done_callback(lambda _: self._ended(run))

    def _ended(self, run: Run) -> None:
        self._runs.pop(run.response_id, None)
        run.finish()  # a task that died before finishing its run still wakes its readers

    async def cancel(self, run: Run, *, discard: bool = False) -> None:
        """Cancel the run's task at a client's request and wait (bounded) for it to store itself."""
        run.cancelled_by_client = True
        run.discarded = run.discarded or discard
        if run.task is None or run.task.done():
            return
        run.task.cancel()
        # Stopping the page's answer is bounded by stop_timeout; storing the outcome is quick.
        await asyncio.wait({run.task}, timeout=self.stop_timeout + 5)

    async def aclose(self) -> None:
        tasks = [run.task for run in self._runs.values() if run.task is not None and not run.task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=self.stop_timeout + 5)
            for task in done:
                with contextlib.suppress(asyncio.CancelledError):
                    if task.exception() is not None:
                        log.warning("a background response ended with %s", type(task.exception()).__name__)
            if pending:
                log.warning("%d background responses did not stop in time", len(pending))
