"""Chats in the account's Gemini history: deleting one through the page's own delete RPCs.

The web app deletes a chat with ``GzXR5e`` ``[cid]`` and then ``qWymEb`` ``[cid, [1, null, 0, 1]]``
(research/protocol.md §8); we send both in one batchexecute call from inside one of the account's
pages, with its own tokens (``browser._rpc``), so nothing but the page talks to Google.
"""

from __future__ import annotations

import logging

from playwright.async_api import BrowserContext, Page

from browser._rpc import call_rpcs
from browser.errors import DriverError, TargetClosed, UpstreamRejected

log = logging.getLogger(__name__)

__all__ = ["delete_chat"]

DELETE_RPC = "GzXR5e"
FORGET_RPC = "qWymEb"


def _page_for_rpc(context: BrowserContext | None) -> Page:
    """Any live page of the account: a fetch from it does not disturb a turn typed into it."""
    pages = [page for page in (context.pages if context is not None else []) if not page.is_closed()]
    if not pages:
        raise TargetClosed("the account has no open page to delete a chat from")
    return pages[0]


async def delete_chat(
    context: BrowserContext | None,
    chat_id: str,
    *,
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> None:
    """Delete ``chat_id`` (``c_<hex>``) from the account's history; raises ``UpstreamRejected``
    when Google refuses, other ``BrowserError``s when the page cannot ask."""
    calls: list[tuple[str, object]] = [(DELETE_RPC, [chat_id]), (FORGET_RPC, [chat_id, [1, None, 0, 1]])]
    try:
        results = await call_rpcs(_page_for_rpc(context), calls, timeout=timeout)
    except DriverError:
        # The page may have been navigating (its blank-chat reload): ask once more from a settled page.
        log.debug("chat deletion retried after a page step failed", exc_info=True)
        results = await call_rpcs(_page_for_rpc(context), calls, timeout=timeout)
    for result in results:
        if result.error_code is not None:
            raise UpstreamRejected(result.error_code, None, f"{result.rpc_id} refused to delete the chat")
