"""A confirmed deep research, read from outside any turn: its status (``kwDCne``) and its report,
once it is written, from the chat's history (``hNvQHb``), as the web app finds it when the chat is
opened again. Both are side RPCs sent from one of the account's pages (``browser._rpc``).

Where the report sits is not settled by the evidence (docs/architecture/evidence.md#k5): gemini_webapi
takes it from the newest answer's text, the canvas slot ``c[30]`` holds immersive documents. A
document in ``c[30]`` is taken first, else the newest answer's text.

kwDCne's answer is read the way clients read it (docs/architecture/wire-protocol.md#batchexecute): done when
a string in it
holds ``immersive_entry_chip``, awaiting confirmation when one holds
``deep_research_confirmation_content``, running otherwise.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

from browser._account_context import PageHolder
from browser._chats import newest_candidates
from browser._rpc import call_from_context
from browser.errors import UpstreamRejected
from browser.protocol._rich import canvas_document
from browser.protocol._snapshot import answer_text

__all__ = ["ResearchState", "research_report", "research_state"]

STATUS_RPC = "kwDCne"
_DONE_MARKER = "immersive_entry_chip"
_AWAITING_MARKER = "deep_research_confirmation_content"


class ResearchState(enum.StrEnum):
    AWAITING = "awaiting"  # the plan waits for "Start research"
    RUNNING = "running"
    DONE = "done"


async def _call(
    context: PageHolder | None,
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
    context: PageHolder | None,
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
    context: PageHolder | None,
    chat_id: str,
    *,
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> str | None:
    """The report of a finished research: the newest document among the chat's latest turns, else
    the newest answer's text; None when the history holds neither."""
    candidates = await newest_candidates(context, chat_id, timeout=timeout)
    for candidate in candidates:
        document = canvas_document(candidate)
        if document is not None:
            return document
    for candidate in candidates:
        text = answer_text(candidate).strip()
        if text:
            return text
    return None
