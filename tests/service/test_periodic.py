"""``service.periodic.Periodic``: its loop ends on its stop even when the work swallowed the
cancellation (as a call of redis-py's asyncio client does at times), so a stopped gateway's
renewals and heartbeats end and its stop returns."""

from __future__ import annotations

import asyncio
import contextlib

from service.periodic import Periodic

WAIT = 10.0  # bound of every wait


async def test_a_loop_whose_work_swallowed_its_cancellation_ends_on_stop() -> None:
    inside = asyncio.Event()
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1
        inside.set()
        with contextlib.suppress(asyncio.CancelledError):  # swallowed: the call returns, the task runs on
            await asyncio.Event().wait()

    periodic = Periodic(work, 0.001, name="swallowing")
    periodic.start()
    await asyncio.wait_for(inside.wait(), WAIT)
    await asyncio.wait_for(periodic.stop(), WAIT)
    assert calls == 1  # no round after the stop
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "swallowing" and not task.done()]


async def test_a_stop_cancelled_meanwhile_still_waits_for_the_loop_to_end() -> None:
    inside, release = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        inside.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await release.wait()  # a slow way out of the call it was in

    periodic = Periodic(work, 0.001, name="slow-out")
    periodic.start()
    await asyncio.wait_for(inside.wait(), WAIT)
    stopping = asyncio.create_task(periodic.stop())
    await asyncio.sleep(0)  # the stop has cancelled the loop and waits for it
    stopping.cancel()
    release.set()
    done, _ = await asyncio.wait([stopping], timeout=WAIT)
    assert done and stopping.cancelled()
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "slow-out" and not task.done()]
