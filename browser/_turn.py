"""``Turn``: one prompt answered as a stream, on an account leased from the pool.

A turn leases an account and a tab, composes and sends the prompt, and reads the answer from the
page's StreamGenerate response (the DOM when the network gives nothing usable). A failure before
any content gives the lease back and takes another account (1013 is retried once on the same
one); after content it is the caller's. The lease always comes back, and a running answer is
stopped on exit.

Each turn has a serial number; its log lines name it and the account trying it, also as the
fields ``turn`` and ``account`` (``extra``), for whoever formats the lines (the gateway writes them
as JSON fields, with the id of the request the turn serves).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from types import TracebackType
from typing import Protocol

from playwright.async_api import APIRequestContext, Page

from browser._accounts import Account
from browser._answers import (
    TRANSIENT,
    USAGE_LIMIT,
    final_snapshot,
    raise_on_downgrade,
    raise_on_error,
    reset_time,
    shows_answer,
)
from browser._capture import BodyCapture, BodyUnavailable, LoadingFailed
from browser._driver import PageDriver, PageState
from browser._gems import gem_path
from browser._http_status import raise_for_stream_status
from browser._media import Media, fetch_media, wait_for_media
from browser._originals import fetch_original
from browser._page_fallback import read_answer_from_page
from browser._requests import Tool, TurnRequest, chat_path
from browser._settings import PoolSettings
from browser._temporary import confirm_sent_temporary, turn_temporary
from browser.errors import (
    AccountUnavailable,
    BrowserError,
    ConnectionLost,
    DriverError,
    NoCapacity,
    NoEligibleAccount,
    ProtocolError,
    TargetClosed,
    ToolNotOffered,
    TransportError,
    UnavailableReason,
    UpstreamRejected,
    UpstreamTimeout,
)
from browser.protocol import GeneratedImage, TurnDecoder, TurnSnapshot

log = logging.getLogger(__name__)
_SERIALS = itertools.count(1)


class Leases(Protocol):
    """What a turn needs from the pool (``BrowserPool`` is one): a protocol, so that the turn does
    not import the pool that makes it."""

    @property
    def settings(self) -> PoolSettings: ...

    async def _lease(self, request: TurnRequest, exclude: set[str]) -> tuple[Account, Page]: ...

    async def _release(self, account: Account, page: Page | None, chat_path: str | None = None) -> None: ...

    def _after_failure(
        self, account: Account, error: BrowserError, request: TurnRequest, reset_at: float | None
    ) -> None: ...


class Turn:
    """One prompt on a leased account; iterate for cumulative snapshots. Use with ``async with``."""

    def __init__(self, pool: Leases, request: TurnRequest) -> None:
        self._pool = pool
        self._request = request
        self._settings = pool.settings
        self._account: Account | None = None
        self._page: Page | None = None
        self._tried: set[str] = set()
        self._stream: AsyncIterator[TurnSnapshot] | None = None
        self._running = False
        self._finished_chat: str | None = None  # the page shows this chat, its answer complete
        self._leased = False  # the lease (account.active, the page) is held and not yet given back
        self.final: TurnSnapshot | None = None
        self._last_account_id: str | None = None
        self.serial = next(_SERIALS)

    @property
    def account_id(self) -> str:
        """The account serving the turn; after a failure that found no other account to move to,
        the last one that tried (what a caller's metrics and errors name)."""
        if self._account is not None:
            return self._account.id
        if self._last_account_id is None:
            raise BrowserError("the turn holds no lease")
        return self._last_account_id

    async def __aenter__(self) -> Turn:
        self._account, self._page = await self._pool._lease(self._request, self._tried)
        self._leased = True
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._running:
                with contextlib.suppress(BrowserError, TimeoutError):
                    await asyncio.wait_for(self.stop(), self._settings.stop_timeout)
            if self._stream is not None:
                with contextlib.suppress(Exception):
                    await self._stream.aclose()  # type: ignore[attr-defined]
        finally:
            await self._give_back()

    async def _give_back(self) -> None:
        # The lease is cleared before any await: a cancellation (or a second exit) cannot give
        # the same page back twice. The account stays for media fetched after exit.
        account, page, leased = self._account, self._page, self._leased
        self._page, self._leased = None, False
        if account is None or not leased:
            return
        try:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(account.save_cookies(), self._settings.ui_timeout)
        finally:
            await self._pool._release(account, page, self._finished_chat)

    def __aiter__(self) -> AsyncIterator[TurnSnapshot]:
        if self._stream is None:
            self._stream = self._attempts()
        return self._stream

    async def stop(self) -> None:
        """Stop the running answer (clicks the page's Stop)."""
        if self._page is None or not self._running:
            return
        self._running = False
        await PageDriver(self._page, self._settings).stop()

    async def fetch_media(self, url: str) -> bytes:
        return (await self.fetch_media_full(url)).data

    async def fetch_media_full(self, url: str) -> Media:
        """One download (hops followed); a rendering video gives ``status`` 206. Works after exit."""
        return await fetch_media(
            await self._media_request(),
            url,
            base_url=self._settings.base_url,
            timeout_s=self._settings.navigation_timeout,
        )

    async def wait_for_media(self, url: str, *, max_wait: float = 300.0, interval: float = 2.0) -> Media:
        """Poll ``url`` until it is ready (a video answers 206 while rendering), for ``max_wait`` s
        at most (then ``UpstreamTimeout``), every ``interval`` s."""
        return await wait_for_media(
            await self._media_request(),
            url,
            base_url=self._settings.base_url,
            timeout_s=max_wait,
            interval_s=interval,
            step_timeout_s=self._settings.navigation_timeout,
        )

    async def fetch_original(self, image: GeneratedImage) -> Media:
        """The full-size original of one of this turn's images, the page's own way: c8o8Fe (called
        inside the turn's page) names the original's URL, whose ``=d-I?alr=yes`` text hops lead to
        the bytes (fetched in the account's context). When that fails, the preview URL's size
        suffixes ``=s0`` then ``=s2048``. Call inside ``async with`` (the page is needed)."""
        return await fetch_original(
            self.fetch_media_full, self._page, self.final, image, rpc_timeout=self._settings.ui_timeout
        )

    async def _media_request(self) -> APIRequestContext:
        # The account (not the lease) is kept after exit: media can be fetched once the tab is back.
        account = self._account
        if account is None or account.context is None:
            raise TargetClosed("the turn's account has no context")
        return await account.context.media_request()

    async def _attempts(self) -> AsyncIterator[TurnSnapshot]:
        retried_transient = False
        while True:
            account, page = self._account, self._page
            assert account is not None and page is not None
            self._tried.add(account.id)
            yielded = False
            self._log_start(account)
            try:
                async for snapshot in self._one_attempt(account, page):
                    yielded = yielded or shows_answer(snapshot)
                    self.final = snapshot
                    if yielded:
                        yield snapshot
                account.note_success()
                final = self.final
                # A temporary chat is never continued: its tab is not kept on it for a follow-up.
                if final is not None and final.completed and final.cid and not self._request.temporary:
                    self._finished_chat = _turn_path(final.cid, self._request.gem_for(account.id))
                self._log_end(account)
                return
            except (
                UpstreamRejected,
                UpstreamTimeout,
                TransportError,  # a drop or an HTTP error before any content: another account may do
                TargetClosed,
                AccountUnavailable,
                DriverError,
                ProtocolError,  # a body broken before any content: another account may well do
            ) as error:
                if self._running:  # a stalled answer keeps running on the page: stop it first
                    with contextlib.suppress(BrowserError, TimeoutError):
                        await asyncio.wait_for(self.stop(), self._settings.stop_timeout)
                reset_at = reset_time(self.final) if self.final is not None else None
                self._pool._after_failure(account, error, self._request, reset_at)
                if yielded:
                    raise
                if isinstance(error, UpstreamRejected) and error.code == TRANSIENT and not retried_transient:
                    retried_transient = True
                    continue
                if self._request.account_id is not None:
                    raise
                log.info(
                    "turn %d moves off %s before any content: %s",
                    self.serial,
                    account.id,
                    type(error).__name__,
                    extra=self._fields(account),
                )
                self._last_account_id = account.id
                self._account, self._page, self._leased = None, None, False
                await self._pool._release(account, page)
                try:
                    self._account, self._page = await self._pool._lease(self._request, self._tried)
                except (NoEligibleAccount, NoCapacity):
                    raise _out_of_quota(error, account, self._request) or error from None
                self._leased = True

    async def _one_attempt(self, account: Account, page: Page) -> AsyncIterator[TurnSnapshot]:
        request, settings = self._request, self._settings
        driver = PageDriver(page, settings)
        path = _turn_path(request.chat_id, request.gem_for(account.id))
        there = await account.claim_tab(page, path)
        state = PageState.READY if there else await driver.open(path)
        if state is not PageState.READY:
            raise AccountUnavailable(f"the page is {state.value}", reason=UnavailableReason(state.value))
        capture = BodyCapture(page)
        decoder = TurnDecoder()
        try:
            # Arming the capture (a CDP session) overlaps with the composer steps.
            await _together(self._compose(driver, account), capture.arm())
            deadline = time.monotonic() + settings.turn_timeout
            await driver.send(capture.request_seen)
            self._running = True
            if request.temporary:
                await confirm_sent_temporary(capture)
            body_read = True
            try:
                async for chunk in capture.chunks(
                    first_timeout=settings.first_frame_timeout, idle_timeout=settings.idle_timeout
                ):
                    for snapshot in decoder.feed(chunk):
                        raise_on_error(snapshot)
                        raise_on_downgrade(account.capabilities, request.mode, snapshot)
                        yield snapshot
                    if time.monotonic() > deadline:
                        raise UpstreamTimeout(f"the turn ran past {settings.turn_timeout:.0f}s")
            except BodyUnavailable:
                body_read = False  # the response ended; the page read it even though we could not
            except LoadingFailed as failed:
                stopped_by_us = not self._running
                self._running = False
                if failed.canceled and stopped_by_us:
                    return
                raise ConnectionLost("the answer's connection failed") from None
            # Only a body that ended by itself leaves nothing to stop; on errors or cancellation
            # ``_running`` stays set so that the caller's exit clicks Stop.
            self._running = False
            response = capture.response
            if response is not None and response.status != 200:
                raise_for_stream_status(response.status, response.url)
            last = final_snapshot(decoder) if body_read else decoder.snapshot
            raise_on_error(last)
            raise_on_downgrade(account.capabilities, request.mode, last)
            if shows_answer(last):
                yield last
                return
        finally:
            await capture.close()
        # The network gave nothing usable: read what the page shows.
        log.info(
            "turn %d: no content from the network (%s); reading the answer from the page",
            self.serial,
            account.id,
            extra=self._fields(account),
        )
        yield await read_answer_from_page(driver, last, max_wait=settings.ui_timeout)

    def _fields(self, account: Account) -> dict[str, object]:
        return {"turn": self.serial, "account": account.id}

    def _log_start(self, account: Account) -> None:
        request = self._request
        asked = request.mode.value + (f" with {request.tool.value}" if request.tool is not None else "")
        where = (
            f"chat {request.chat_id}"
            if request.chat_id
            else ("a new temporary chat" if request.temporary else "a new chat")
        )
        log.info(
            "turn %d on %s: %s, in %s", self.serial, account.id, asked, where, extra=self._fields(account)
        )

    def _log_end(self, account: Account) -> None:
        final = self.final
        if final is None:
            outcome = "no answer"
        else:
            state = "complete" if final.completed else "incomplete"
            outcome = f"{state} after {final.frames} frames, chat {final.cid or '-'}"
        log.info("turn %d on %s answered: %s", self.serial, account.id, outcome, extra=self._fields(account))

    async def _compose(self, driver: PageDriver, account: Account) -> None:
        """Mode, thinking level, tool, files and prompt: everything before Send."""
        request = self._request
        if request.temporary:  # first: the button starts the chat afresh in the temporary mode
            await turn_temporary(driver.steps)
        await driver.choose_mode(request.mode, request.thinking, account.capabilities)
        if request.tool is not None:
            try:
                await driver.choose_tool(request.tool)
            except ToolNotOffered as missing:
                # The menu was read again: the account's tools are what it lists now.
                account.correct_tools(frozenset(Tool(value) for value in missing.offered))
                raise
        await driver.attach(request.attachments)
        await driver.insert_prompt(request.prompt)


async def _together(*steps: Awaitable[None]) -> None:
    """Run ``steps`` concurrently, let every one finish, then raise the first failure."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _out_of_quota(error: BrowserError, account: Account, request: TurnRequest) -> NoCapacity | None:
    """A usage limit (1037) with no other account to move to is a capacity answer, not a failure:
    the caller should come back when the exhausted quota resets."""
    if not isinstance(error, UpstreamRejected) or error.code != USAGE_LIMIT:
        return None
    until = account.cooling_for(request.quota)
    wait = max(1.0, until - time.time()) if until is not None else 1.0
    return NoCapacity(
        f"Gemini's usage limit for this model is reached (1037); it resets in {wait:.0f}s", retry_after=wait
    )


def _turn_path(chat_id: str | None, gem: str | None) -> str:
    """Where a turn is typed: a chat it continues (on its Gem's page for a Gem's chat), else a new
    chat, on the Gem's page (``/gem/<id>``, docs/architecture/evidence.md#a2) or ``/app``."""
    if gem is not None:
        return gem_path(gem, chat_id)
    return chat_path(chat_id) if chat_id else "/app"
