"""A Create-video job, followed the way the web app follows it (docs/architecture/page-model.md#video-jobs).

The answer to a Create-video turn carries only the job chip (``c[12]`` field 65: the chip and the
job's UUID); the page then polls the job with ``kwDCne [uuid]`` and, once it is done, finds the
video in the chat's history (``hNvQHb``, field 60 of ``c[12]``: thumbnail and MP4 URLs). Both RPCs
are sent from one of the account's pages (``browser._rpc``).

kwDCne's answer for a video job is not documented; one client that read it off a real HAR (VID
2026-08-03) tells a finished job by a second ``[seconds, nanos]`` pair followed by a trailing 1.
That reading is kept as a hint (``True`` / ``False`` / None when the shape says nothing); the chat's
history is the truth, read whenever the hint says done and every few polls regardless.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from browser._account_context import PageHolder
from browser._requests import chat_path
from browser._research import STATUS_RPC
from browser._rpc import call_from_context
from browser.errors import UpstreamRejected

__all__ = ["job_finished", "video_job_state"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_time(value: Any) -> bool:
    """``[seconds, nanos]`` with a plausible UNIX time in seconds."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_int(part) for part in value)
        and 10**9 <= value[0] < 10**10
    )


def _lists(value: Any) -> Iterator[list[Any]]:
    if isinstance(value, list):
        yield value
        for item in value:
            yield from _lists(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _lists(item)


def job_finished(payload: Any) -> bool | None:
    """The kwDCne answer's word on a video job: True once a list ends with two time pairs and a 1,
    False while a list ends with a time pair alone, None when neither shape is there."""
    seen_pending = False
    for node in _lists(payload):
        if len(node) >= 3 and node[-1] == 1 and _is_time(node[-2]) and _is_time(node[-3]):
            return True
        if node and _is_time(node[-1]):
            seen_pending = True
    return False if seen_pending else None


async def video_job_state(
    context: PageHolder | None,
    job_id: str,
    chat_id: str | None,
    *,
    timeout: float,  # noqa: ASYNC109 - passed on to the page's fetch, which must be bounded too
) -> bool | None:
    """Ask kwDCne about ``job_id`` from the chat's page path; ``job_finished`` of its answer."""
    source = chat_path(chat_id) if chat_id else "/app"
    (result,) = await call_from_context(
        context, [(STATUS_RPC, [job_id])], source_path=source, timeout=timeout
    )
    if result.error_code is not None:
        raise UpstreamRejected(result.error_code, None, f"{STATUS_RPC} refused the video job")
    return job_finished(result.payload)
