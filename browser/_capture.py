"""Live capture of one StreamGenerate response body over CDP.

Arm a ``BodyCapture`` on the page before clicking send. It records the first POST whose URL holds
the marker, asks Chromium to stream that body (``Network.streamResourceContent``: the answer is
what is already buffered, then every later chunk arrives as ``Network.dataReceived`` with base64
``data`` at the moment the server writes it) and yields the bytes in order until
``Network.loadingFinished`` or ``loadingFailed``. It does not care whether the page uses XHR or
fetch: CDP sees both.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from playwright.async_api import CDPSession, Page

from browser._playwright_errors import is_closed_error, map_playwright_errors
from browser.errors import DriverError, TargetClosed, UpstreamTimeout

log = logging.getLogger(__name__)

STREAM_GENERATE_MARKER = "assistant.lamda.BardFrontendService/StreamGenerate"
DETACH_TIMEOUT = 3.0  # seconds
ARM_TIMEOUT = 10.0  # seconds for the CDP session and Network.enable (a stuck renderer never answers)
BODY_END_WAIT = 5.0  # seconds a failed stream request waits for loadingFinished before giving up


@dataclass(frozen=True)
class _End:
    error: str | None = None
    canceled: bool = False
    unavailable: bool = False  # the body ended but Chromium would not hand it over
    unstreamed: bool = False  # the body is still arriving but could not be streamed to us


@dataclass(frozen=True)
class ResponseMeta:
    """What the response head said: final URL (after redirects), status and MIME type."""

    url: str
    status: int
    mime: str


class LoadingFailed(Exception):
    """The body ended with ``Network.loadingFailed`` (``canceled`` when the page aborted it)."""

    def __init__(self, error: str, *, canceled: bool) -> None:
        super().__init__(error)
        self.canceled = canceled


class BodyUnavailable(LoadingFailed):
    """The response ended, but its body could not be read (``Network.getResponseBody`` failed)."""

    def __init__(self, error: str) -> None:
        super().__init__(error, canceled=False)


def _contains(marker: str) -> Callable[[str], bool]:
    def matches(url: str) -> bool:
        return marker in url

    return matches


class BodyCapture:
    """One armed capture; ``async with`` owns the CDP session. ``marker`` is a substring of the URL
    to capture, or a test of the whole URL (a batchexecute call is told apart by its query)."""

    def __init__(self, page: Page, marker: str | Callable[[str], bool] = STREAM_GENERATE_MARKER) -> None:
        self._page = page
        self._matches = marker if callable(marker) else _contains(marker)
        self._session: CDPSession | None = None
        self._request_id: str | None = None
        self._queue: asyncio.Queue[bytes | _End] = asyncio.Queue()
        self._pending: list[bytes] = []
        self._streaming = False
        self._finished = False
        self._body_ended = asyncio.Event()  # loadingFinished or loadingFailed arrived
        self._stream_task: asyncio.Task[None] | None = None
        self.response: ResponseMeta | None = None
        self.request_seen = asyncio.Event()
        self._post_data: str | None = None  # the request's body, when the event carried it
        self.bytes_received = 0
        self._watching_page = False
        self._page_gone = False  # the page crashed or closed: its session answers nothing more

    async def __aenter__(self) -> BodyCapture:
        await self.arm()
        return self

    async def arm(self) -> None:
        """Attach to the page and start watching its network (what ``async with`` does on entry)."""
        with map_playwright_errors("capture.arm"):
            async with asyncio.timeout(ARM_TIMEOUT):
                await self._attach()
        self._page.on("close", self._on_page_gone)
        self._page.on("crash", self._on_page_gone)
        self._watching_page = True

    async def _attach(self) -> None:
        session = self._session = await self._page.context.new_cdp_session(self._page)
        session.on("Network.requestWillBeSent", self._on_request)
        session.on("Network.responseReceived", self._on_response)
        session.on("Network.dataReceived", self._on_data)
        session.on("Network.loadingFinished", self._on_finished)
        session.on("Network.loadingFailed", self._on_failed)
        await session.send("Network.enable", {"maxTotalBufferSize": 64 * 1024 * 1024})

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Detach from the page (idempotent; a dead page is already detached)."""
        if self._watching_page:
            self._watching_page = False
            self._page.remove_listener("close", self._on_page_gone)
            self._page.remove_listener("crash", self._on_page_gone)
        task, self._stream_task = self._stream_task, None
        if task is not None and not task.done():
            task.cancel()
        session, self._session = self._session, None
        if session is not None and not self._page_gone:
            try:
                # A renderer that died unseen never answers the detach: bounded, or the turn hangs
                # (one seen crashing or closing is not asked at all).
                await asyncio.wait_for(session.detach(), DETACH_TIMEOUT)
            except Exception:  # the target may be gone; nothing left to release then
                log.debug("CDP detach failed", exc_info=True)

    # -- events (called synchronously by Playwright, in message order) --

    def _on_request(self, event: dict[str, Any]) -> None:
        request = event.get("request", {})
        url, method = request.get("url", ""), request.get("method", "GET")
        if self._request_id is None and method == "POST" and self._matches(url):
            self._request_id = event["requestId"]
            post_data = request.get("postData")
            self._post_data = post_data if isinstance(post_data, str) else None
            self.request_seen.set()

    def _on_response(self, event: dict[str, Any]) -> None:
        if event.get("requestId") != self._request_id or self.response is not None:
            return
        head = event.get("response", {})
        self.response = ResponseMeta(
            url=str(head.get("url", "")),
            status=int(head.get("status", 0)),
            mime=str(head.get("mimeType", "")),
        )
        self._stream_task = asyncio.get_running_loop().create_task(self._start_streaming())

    def _on_data(self, event: dict[str, Any]) -> None:
        if event.get("requestId") != self._request_id or not event.get("data"):
            return
        chunk = base64.b64decode(event["data"])
        if self._streaming:
            self._push(chunk)
        else:  # arrived after streamResourceContent answered but before we read its buffer
            self._pending.append(chunk)

    def _on_finished(self, event: dict[str, Any]) -> None:
        if event.get("requestId") != self._request_id:
            return
        if self._streaming:
            self._end(_End())
        else:
            self._finished = True  # the stream task reads the whole body instead
            self._body_ended.set()

    def _on_failed(self, event: dict[str, Any]) -> None:
        if event.get("requestId") == self._request_id:
            self._end(_End(error=str(event.get("errorText", "failed")), canceled=bool(event.get("canceled"))))

    def _on_page_gone(self, _page: object) -> None:
        self._page_gone = True
        if not self._finished:
            self._end(_End(error="target closed"))

    def _push(self, chunk: bytes) -> None:
        self.bytes_received += len(chunk)
        self._queue.put_nowait(chunk)

    def _end(self, end: _End) -> None:
        self._streaming = False
        self._finished = True
        self._body_ended.set()
        self._queue.put_nowait(end)

    async def _start_streaming(self) -> None:
        session, request_id = self._session, self._request_id
        if session is None or request_id is None:
            return
        try:
            result = await session.send("Network.streamResourceContent", {"requestId": request_id})
        except Exception as exc:
            if is_closed_error(exc):
                self._end(_End(error="target closed"))
                return
            # Refused: a body that already ended (fast answers) is read whole; one still arriving
            # cannot be read at all, and the page keeps generating (the caller stops it).
            await self._read_whole_body(session, request_id, type(exc).__name__)
            return
        buffered = base64.b64decode(result.get("bufferedData", "") or "")
        if buffered:
            self._push(buffered)
        for chunk in self._pending:
            self._push(chunk)
        self._pending.clear()
        if self._finished:
            self._end(_End())
        else:
            self._streaming = True

    async def _read_whole_body(self, session: CDPSession, request_id: str, refusal: str = "refused") -> None:
        with contextlib.suppress(TimeoutError):  # loadingFinished may still be on its way
            await asyncio.wait_for(self._body_ended.wait(), BODY_END_WAIT)
        if not self._finished:
            self._end(_End(error=f"the body could not be streamed ({refusal})", unstreamed=True))
            return
        try:
            result = await session.send("Network.getResponseBody", {"requestId": request_id})
        except Exception as exc:
            if is_closed_error(exc):
                self._end(_End(error="target closed"))
            else:
                self._end(_End(error=f"body unavailable: {type(exc).__name__}", unavailable=True))
            return
        body = result.get("body", "")
        self._push(base64.b64decode(body) if result.get("base64Encoded") else body.encode())
        self._end(_End())

    async def request_body(self) -> str | None:
        """The captured request's body (a long one is asked of Chromium), or None when there is none
        or Chromium no longer holds it."""
        if self._post_data is not None:
            return self._post_data
        session, request_id = self._session, self._request_id
        if session is None or request_id is None:
            return None
        try:
            async with asyncio.timeout(ARM_TIMEOUT):
                result = await session.send("Network.getRequestPostData", {"requestId": request_id})
        except Exception:  # gone, or never held: the caller decides what a missing body means
            log.debug("the request's body could not be read", exc_info=True)
            return None
        data = result.get("postData")
        return data if isinstance(data, str) else None

    # -- consumer --

    async def chunks(self, *, first_timeout: float, idle_timeout: float) -> AsyncIterator[bytes]:
        """Body bytes in arrival order; raises ``UpstreamTimeout``, ``TargetClosed`` or ``LoadingFailed``
        (``BodyUnavailable`` when the response ended but its body could not be read)."""
        timeout = first_timeout
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), timeout)
            except TimeoutError:
                which = "first byte" if timeout is first_timeout else "next chunk"
                raise UpstreamTimeout(f"no {which} of the answer within {timeout:.0f}s") from None
            if isinstance(item, _End):
                if item.error == "target closed":
                    raise TargetClosed("the page closed while the answer streamed")
                if item.unavailable:
                    raise BodyUnavailable(item.error or "body unavailable")
                if item.unstreamed:
                    raise DriverError(item.error or "the body could not be streamed", step="capture")
                if item.error is not None:
                    raise LoadingFailed(item.error, canceled=item.canceled)
                return
            timeout = idle_timeout
            yield item
