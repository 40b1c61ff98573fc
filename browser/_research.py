"""A confirmed deep research, read from outside any turn: its status (``kwDCne``) and its report,
once it is written, from the chat's history (``hNvQHb``), as the web app finds it when the chat is
opened again. Both are side RPCs sent from one of the account's pages (``browser._rpc``).

kwDCne's answer is read the way clients read it (research/protocol.md §8): done when a string in it
holds ``immersive_entry_chip``, awaiting confirmation when one holds
``deep_research_confirmation_content``, running otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

from playwright.async_api import BrowserContext

from browser._rpc import call_from_context
from browser.errors import UpstreamRejected
from browser.protocol._jspb import jspb_get
from browser.protocol._rich import canvas_document

__all__ = ["ResearchState", "research_report", "research_state"]

STATUS_RPC = "kwDCne"
READ_CHAT_RPC = "hNvQHb"
_DONE_MARKER = "immersive_entry_chip"
_AWAITING_MARKER = "deep_research_confirmation_content"
_HISTORY_TURNS = 4  # the report belongs to one of the chat's newest turns


class ResearchState(enum.StrEnum):
    AWAITING = "awaiting"  # the plan waits for "Start research"
    RUNNING = "running"
    DONE = "done"


async def _call(
    context: BrowserContext | None,
    call: tuple[str, object],
    source_path: str,
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> Any:
    (result,) = await call_from_context(context, [call], source_path=source_path, timeout=timeout)
    if result.error_code is not None:
        raise UpstreamRejected(result.error_code, None, f"{call[0]} refused")
    return result.payload


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


async def research_state(
    context: BrowserContext | None,
    research_id: str,
    *,
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> ResearchState:
    strings = list(_strings(await _call(context, (STATUS_RPC, [research_id]), "/app", timeout)))
    if any(_DONE_MARKER in text for text in strings):
        return ResearchState.DONE
    if any(_AWAITING_MARKER in text for text in strings):
        return ResearchState.AWAITING
    return ResearchState.RUNNING


async def research_report(
    context: BrowserContext | None,
    chat_id: str,
    *,
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> str | None:
    """The newest document among the chat's latest turns (the report), or None when none has one."""
    payload = [chat_id, _HISTORY_TURNS, None, 1, [1], [4], None, 1]
    source = f"/app/{chat_id.removeprefix('c_')}"
    turns = jspb_get(await _call(context, (READ_CHAT_RPC, payload), source, timeout), 0)
    for turn in turns if isinstance(turns, list) else []:  # newest first
        candidate = jspb_get(turn, 3, 0, 0)
        if isinstance(candidate, list):
            document = canvas_document(candidate)
            if document is not None:
                return document
    return None
