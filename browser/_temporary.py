"""Temporary chats: a new chat turned temporary with the page's own "Temporary chat" button before
anything is typed, confirmed on the page, then on the network.

The button sits in the side nav, which ships collapsed and may have to be opened first (page.md
§1.13: W2A clicks ``temp-chat-button button``; CWC opens ``side-nav-menu-button`` when the button is
not there). The mode is confirmed by what the page shows (the button's ``temp-chat-on`` class or
pressed state, the temporary card); once sent, the turn's StreamGenerate must carry ``inner[45] = 1``
(protocol.md: "temporary chat (not saved to history)", GA 2026-03, W2A). Anything else is a
``TemporaryChatUnavailable``: a chat the caller wanted kept out of the history is never quietly
an ordinary one.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs

from browser._capture import BodyCapture
from browser._playwright_errors import map_playwright_errors
from browser._steps import Steps
from browser.errors import SelectorMissing, StepTimeout, TemporaryChatUnavailable

__all__ = ["TEMPORARY_SLOT", "confirm_sent_temporary", "sent_as_temporary", "turn_temporary"]

log = logging.getLogger(__name__)

TEMPORARY_SLOT = 45  # inner[45] = 1: a temporary chat (protocol.md)
_STEP = "temporary chat"


async def turn_temporary(steps: Steps) -> None:
    """Turn the page's fresh chat into a temporary one (the side nav opened when the button hides
    there) and wait until the page shows the mode on."""
    sel, page = steps.sel, steps.page
    on = page.locator(sel.temp_chat_on.css).first
    with map_playwright_errors(_STEP):
        if await steps.count(on):
            return  # already on: a second click would turn it off
        button = steps.visible(sel.temp_chat_button)
        if not await steps.count(button) and await steps.count(steps.visible(sel.side_nav_opener)):
            await steps.click(sel.side_nav_opener, "open the side nav")
    try:
        await steps.wait_visible(button, sel.temp_chat_button, _STEP)
    except SelectorMissing:
        raise TemporaryChatUnavailable("the page shows no Temporary chat button", step=_STEP) from None
    try:
        with map_playwright_errors(_STEP):
            await button.click(timeout=steps.ui_ms)
            await on.wait_for(state="attached", timeout=steps.ui_ms)
    except StepTimeout:
        raise TemporaryChatUnavailable(
            "the Temporary chat button did not turn the temporary mode on", step=_STEP
        ) from None


def sent_as_temporary(body: str) -> bool | None:
    """Whether a StreamGenerate body (``f.req=[null, "<inner json>"]&at=…``) asks for a temporary
    chat; None when it cannot be read as one."""
    values = parse_qs(body).get("f.req")
    if not values:
        return None
    try:
        outer: Any = json.loads(values[0])
        inner: Any = json.loads(outer[1])
    except (ValueError, TypeError, IndexError, KeyError):
        return None
    if not isinstance(inner, list):
        return None
    return len(inner) > TEMPORARY_SLOT and inner[TEMPORARY_SLOT] == 1


async def confirm_sent_temporary(capture: BodyCapture) -> None:
    """The turn's request went out as a temporary chat's; raises when it plainly did not. A body
    Chromium no longer holds leaves the page's own confirmation (before sending) as the proof."""
    body = await capture.request_body()
    verdict = sent_as_temporary(body) if body is not None else None
    if verdict is None:
        log.info("the temporary chat's request body could not be read; the page showed the mode on")
        return
    if not verdict:
        raise TemporaryChatUnavailable(
            "the page sent the turn without the temporary-chat flag (inner[45]); "
            "the chat may be in the account's history",
            step=_STEP,
        )
