"""The last resort of a turn: when the network gave nothing usable (the body could not be read, or
ended before any content) although the page got its answer, read the answer from the DOM."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from browser._driver import PageDriver
from browser.errors import UpstreamRejected, UpstreamTimeout
from browser.protocol import TurnSnapshot

POLL_INTERVAL = 0.2  # seconds between reads while the page still renders the answer


async def read_answer_from_page(driver: PageDriver, empty: TurnSnapshot, *, max_wait: float) -> TurnSnapshot:
    """``empty`` (what the network gave: ids, no content) with the page's answer text, waiting up to
    ``max_wait`` s for the page to finish it; the page's error code is ``UpstreamRejected``, no
    text at all ``UpstreamTimeout``."""
    deadline = time.monotonic() + max_wait
    answer = await driver.read_answer()
    while not answer.done and time.monotonic() < deadline:
        await asyncio.sleep(POLL_INTERVAL)
        answer = await driver.read_answer()
    if answer.error_code is not None:
        raise UpstreamRejected(answer.error_code, None, f"the page shows error {answer.error_code}")
    if not answer.text:
        raise UpstreamTimeout("the answer had no content, in the network or on the page")
    return replace(empty, text=answer.text, completed=answer.done)
