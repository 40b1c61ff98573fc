"""Chats in the account's Gemini history: deleting one through the page's own delete RPCs, and
reading a chat's newest video from its history (``hNvQHb``), as the web app does when a chat is
opened again (a video job whose gateway died before the answer named the video).

The web app deletes a chat with ``GzXR5e`` ``[cid]`` and then ``qWymEb`` ``[cid, [1, null, 0, 1]]``
(docs/architecture/wire-protocol.md#batchexecute); we send both in one batchexecute call from inside one of
the account's
pages, with its own tokens (``browser._rpc``), so nothing but the page talks to Google.
"""

from __future__ import annotations

from typing import Any

from browser._account_context import PageHolder
from browser._rpc import call_from_context
from browser.errors import UpstreamRejected
from browser.protocol import VideoInfo, jspb_get
from browser.protocol._rich import video_info

__all__ = ["chat_video", "delete_chat", "newest_candidates"]

DELETE_RPC = "GzXR5e"
FORGET_RPC = "qWymEb"
READ_CHAT_RPC = "hNvQHb"
_NEWEST_TURNS = 4


async def delete_chat(
    context: PageHolder | None,
    chat_id: str,
    *,
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> None:
    """Delete ``chat_id`` (``c_<hex>``) from the account's history; raises ``UpstreamRejected``
    when Google refuses, other ``BrowserError``s when the page cannot ask."""
    calls: list[tuple[str, object]] = [(DELETE_RPC, [chat_id]), (FORGET_RPC, [chat_id, [1, None, 0, 1]])]
    results = await call_from_context(context, calls, timeout=timeout)
    for result in results:
        if result.error_code is not None:
            raise UpstreamRejected(result.error_code, None, f"{result.rpc_id} refused to delete the chat")


async def chat_video(
    context: PageHolder | None,
    chat_id: str,
    *,
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> VideoInfo | None:
    """The newest rendered-or-rendering video among the chat's latest turns, or None."""
    for candidate in await newest_candidates(context, chat_id, timeout=timeout):
        video = video_info(candidate)
        if video is not None and video.video_url:
            return video
    return None


async def newest_candidates(
    context: PageHolder | None,
    chat_id: str,
    *,
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> list[list[Any]]:
    """The answer (first candidate) of each of the chat's newest turns, newest first, read with the
    page's own chat read (hNvQHb, from the chat's page as the real page asks it)."""
    payload = [chat_id, _NEWEST_TURNS, None, 1, [1], [4], None, 1]
    source = f"/app/{chat_id.removeprefix('c_')}"
    calls: list[tuple[str, object]] = [(READ_CHAT_RPC, payload)]
    (result,) = await call_from_context(context, calls, source_path=source, timeout=timeout)
    if result.error_code is not None:
        raise UpstreamRejected(result.error_code, None, f"{READ_CHAT_RPC} refused to read the chat")
    turns = jspb_get(result.payload, 0)
    candidates = (jspb_get(turn, 3, 0, 0) for turn in (turns if isinstance(turns, list) else []))
    return [candidate for candidate in candidates if isinstance(candidate, list)]
