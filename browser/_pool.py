"""The pool: accounts, scheduling and leases, and ``Turn`` (one prompt answered as a stream).

Scheduling picks, among accounts whose page offers the request's mode/tool and that are healthy
and not cooling for its family, the least loaded one with a free tab. Callers wait in a bounded
queue; a lease always comes back (normal end, error, cancel, crash). A turn that fails before any
content moves to another account; 1013 is retried once on the same account.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from types import TracebackType
from typing import Any

from playwright.async_api import APIRequestContext, Page, Playwright, async_playwright

from browser._accounts import Account, AccountInfo, AccountSpec, AccountState
from browser._capture import BodyCapture, BodyUnavailable, LoadingFailed
from browser._chats import chat_video, delete_chat
from browser._cookies import account_id_for
from browser._driver import PageDriver, PageState
from browser._launcher import Launcher, proxy_settings
from browser._media import Media, fetch_media, wait_for_media
from browser._playwright_errors import map_playwright_errors
from browser._requests import TurnRequest
from browser._research import research_report, research_state
from browser._rpc import call_rpcs
from browser._selectors import family_of_label, is_light_label
from browser._settings import PoolSettings
from browser._store import CookieStore
from browser.errors import (
    AccountUnavailable,
    BrowserError,
    ConnectionLost,
    DriverError,
    HTTPStatusError,
    NoCapacity,
    NoEligibleAccount,
    ProtocolError,
    TargetClosed,
    TransportError,
    UnavailableReason,
    UnknownAccount,
    UpstreamRejected,
    UpstreamTimeout,
)
from browser.protocol import GeneratedImage, TurnDecoder, TurnSnapshot, VideoInfo

log = logging.getLogger(__name__)

USAGE_LIMIT = 1037
IP_BLOCKED = 1060
TRANSIENT = 1013
FULL_SIZE_RPC = "c8o8Fe"
RELEASE_WINDOW = 16  # lease releases the Retry-After estimate looks at


class BrowserPool:
    """Owns Playwright, the launcher, the cookie store and every account. Use with ``async with``."""

    def __init__(self, settings: PoolSettings) -> None:
        self.settings = settings
        self._accounts: dict[str, Account] = {}
        self._playwright: Playwright | None = None
        self._launcher: Launcher | None = None
        self._store = CookieStore(settings.data_dir)
        self._changed = asyncio.Condition()
        self._waiting = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._rebuilds: set[asyncio.Task[None]] = set()  # running rebuilds only (pruned when done)
        self._rebuilding: set[str] = set()
        self._released_at: deque[float] = deque(maxlen=RELEASE_WINDOW)  # monotonic times
        self._closed = False
        default = settings.default_proxy
        if default is not None:
            proxy_settings(default.get_secret_value())  # InvalidProxy now, not on every start

    async def __aenter__(self) -> BrowserPool:
        self._playwright = await async_playwright().start()
        self._launcher = Launcher(self.settings, self._playwright)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._save_loop()), loop.create_task(self._health_loop())]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Save every account's cookies and close everything (idempotent)."""
        if self._closed:
            return
        self._closed = True
        tasks = [*self._tasks, *self._rebuilds]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for account in list(self._accounts.values()):
            await account.close()
        if self._launcher is not None:
            await self._launcher.close()
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None

    # -- accounts --

    async def add_account(self, spec: AccountSpec) -> AccountInfo:
        """Start an account; the store's newer cookies win unless the spec brings another session."""
        cookies = spec.parse_cookies()
        if spec.proxy:
            proxy_settings(spec.proxy)  # a configuration error (InvalidProxy), raised to the caller
        account_id = account_id_for(spec.name, cookies)
        stored = await self._store.load(account_id)
        if stored is not None and _session_of(stored.cookies) == _session_of(cookies):
            cookies = stored.cookies
        if account_id in self._accounts:
            await self.remove_account(account_id)
        if self._launcher is None:
            raise BrowserError("the pool is not started (use `async with BrowserPool(...)`)")
        account = Account(
            account_id,
            spec.name or account_id,
            cookies,
            spec.proxy,
            self.settings,
            self._launcher,
            self._store,
        )
        account.on_lost = self._on_lost
        self._accounts[account_id] = account
        await self._store.save(account_id, cookies)
        await account.start()
        await self._notify()
        return account.info()

    async def remove_account(self, account_id: str, *, forget: bool = False) -> None:
        """Take the account out of rotation at once; a busy one finishes its turns (bounded by
        ``turn_timeout`` + ``stop_timeout``), then its context closes. ``forget`` also deletes its
        stored cookies."""
        account = self._accounts.pop(account_id, None)
        if account is None:
            raise UnknownAccount(f"no account {account_id!r}")
        await self._notify()
        deadline = time.monotonic() + self.settings.turn_timeout + self.settings.stop_timeout
        async with self._changed:
            while account.active and (remaining := deadline - time.monotonic()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 1.0))
        await account.close()
        if forget:
            await self._store.delete(account_id)
        await self._notify()

    async def pause_account(self, account_id: str) -> AccountInfo:
        """Out of rotation (its page stays warm, running turns finish) until ``resume_account``."""
        account = self._get(account_id)
        account.paused = True
        await self._notify()
        return account.info()

    async def resume_account(self, account_id: str) -> AccountInfo:
        account = self._get(account_id)
        account.paused = False
        await self._notify()
        return account.info()

    def accounts(self) -> list[AccountInfo]:
        return [account.info() for account in self._accounts.values()]

    async def check_account(self, account_id: str) -> AccountInfo:
        """Reload the account's page and re-read its state and capabilities."""
        account = self._get(account_id)
        await account.save_cookies()
        await account.start()
        await self._notify()
        return account.info()

    async def delete_chat(self, account_id: str, chat_id: str) -> None:
        """Delete a chat from the account's Gemini history through its page (bounded by
        ``ui_timeout``); ``UnknownAccount`` when the account is gone."""
        account = self._get(account_id)
        await delete_chat(account.context, chat_id, timeout=self.settings.ui_timeout)

    async def chat_video(self, account_id: str, chat_id: str) -> VideoInfo | None:
        """The newest video of a chat, read from its history (hNvQHb, bounded by ``ui_timeout``):
        how a video job finds its video when the answer that named it was lost."""
        account = self._get(account_id)
        return await chat_video(account.context, chat_id, timeout=self.settings.ui_timeout)

    async def research_state(self, account_id: str, research_id: str) -> str:
        """``awaiting`` | ``running`` | ``done`` for a research of the account (kwDCne, bounded by
        ``ui_timeout``)."""
        account = self._get(account_id)
        return str(await research_state(account.context, research_id, timeout=self.settings.ui_timeout))

    async def research_report(self, account_id: str, chat_id: str) -> str | None:
        """The report a finished research wrote into its chat (hNvQHb), or None when none is there."""
        account = self._get(account_id)
        return await research_report(account.context, chat_id, timeout=self.settings.ui_timeout)

    async def screenshot(self, account_id: str) -> bytes:
        account = self._get(account_id)
        context = account.context
        if context is None or not context.pages:
            raise TargetClosed(f"account {account_id!r} has no page")
        with map_playwright_errors("screenshot"):
            return await context.pages[0].screenshot(type="png", timeout=self.settings.ui_timeout * 1000)

    def _get(self, account_id: str) -> Account:
        try:
            return self._accounts[account_id]
        except KeyError:
            raise UnknownAccount(f"no account {account_id!r}") from None

    # -- asking --

    def turn(self, request: TurnRequest) -> Turn:
        return Turn(self, request)

    async def _lease(self, request: TurnRequest, exclude: set[str]) -> tuple[Account, Page]:
        """Wait (bounded) for an account that fits; raises NoEligibleAccount or NoCapacity."""
        if request.account_id is not None and request.account_id not in self._accounts:
            raise UnknownAccount(f"no account {request.account_id!r}")
        if self._waiting >= self.settings.queue_size and not self._free_candidate(request, exclude):
            raise NoCapacity("the wait queue is full", retry_after=self._retry_after(self._waiting))
        deadline = time.monotonic() + self.settings.queue_timeout
        self._waiting += 1
        try:
            async with self._changed:
                while True:
                    account = self._free_candidate(request, exclude)
                    if account is not None:
                        account.active += 1
                        break
                    self._raise_if_hopeless(request, exclude)
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise NoCapacity(
                            "every fitting account stayed busy", retry_after=self._retry_after(self._waiting)
                        )
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), min(remaining, 1.0))
        finally:
            self._waiting -= 1
        try:
            return account, await account.take_tab()
        except BaseException:
            await self._release(account, None)
            raise

    def _free_candidate(self, request: TurnRequest, exclude: set[str]) -> Account | None:
        fitting = [
            account
            for account in self._accounts.values()
            if account.id not in exclude
            and not account.paused
            and account.health is AccountState.READY
            and account.offers(request)
            and account.cooling_for(request.mode) is None
            and account.has_free_tab()
        ]
        return min(fitting, key=lambda account: account.active, default=None)

    def _raise_if_hopeless(self, request: TurnRequest, exclude: set[str]) -> None:
        """Waiting helps only if a fitting account is busy or still starting."""
        hopeful = False
        cooling: list[float] = []
        for account in self._accounts.values():
            if account.paused or account.id in exclude or (request.account_id not in (None, account.id)):
                continue
            if account.health is AccountState.STARTING or (
                account.health is AccountState.FAILED and account.id in self._rebuilding
            ):
                hopeful = True
            elif account.health is AccountState.READY and account.offers(request):
                until = account.cooling_for(request.mode)
                if until is None:
                    hopeful = True
                else:
                    cooling.append(until)
        if hopeful:
            return
        if cooling:
            raise NoCapacity(
                f"every fitting account is cooling for {request.mode.value}",
                retry_after=max(1.0, min(cooling) - time.time()),
            )
        raise NoEligibleAccount(_why_none(request))

    def _retry_after(self, ahead: int) -> float:
        """Seconds until a slot is likely free for a caller with ``ahead`` callers waiting before
        it: the recent interval between lease releases times the queue ahead (the queue timeout
        when too few releases were seen to tell), at least 1 s and at most the queue timeout."""
        ceiling = self.settings.queue_timeout
        times = self._released_at
        if len(times) < 2:
            return ceiling
        interval = max(times[-1] - times[0], 0.0) / (len(times) - 1)
        # A release long ago says slots stopped freeing: the interval is at least that old.
        interval = max(interval, time.monotonic() - times[-1])
        return min(max(1.0, interval * (ahead + 1)), ceiling)

    async def _release(self, account: Account, page: Page | None, chat_path: str | None = None) -> None:
        self._released_at.append(time.monotonic())
        account.active = max(0, account.active - 1)
        if page is not None:
            account.return_tab(page, chat_path)
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- failure handling --

    def _rebuild_soon(self, account: Account, *, save_first: bool = False) -> None:
        if account.id in self._rebuilding or self._closed:
            return
        self._rebuilding.add(account.id)

        async def rebuild() -> None:
            try:
                if save_first:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(account.save_cookies(), self.settings.ui_timeout)
                await account.start()
            finally:
                self._rebuilding.discard(account.id)
                await self._notify()

        task = asyncio.get_running_loop().create_task(rebuild())
        self._rebuilds.add(task)
        task.add_done_callback(self._rebuilds.discard)

    def _on_lost(self, account: Account) -> None:
        """The account's browser context closed (a crash, a dead browser): rebuild now, so that
        callers wait for it (it counts as hopeful while rebuilding) instead of being refused."""
        if self._accounts.get(account.id) is account:
            self._rebuild_soon(account)

    def _after_failure(
        self, account: Account, error: BrowserError, request: TurnRequest, reset_at: float | None
    ) -> None:
        if isinstance(error, UpstreamRejected):
            if error.code == USAGE_LIMIT:
                account.cool(request.mode, reset_at or time.time() + self.settings.cooldown_default)
            elif error.code == IP_BLOCKED:
                account.block("IP blocked (1060)")
        elif isinstance(error, AccountUnavailable):
            if error.reason is UnavailableReason.SIGNED_OUT:
                account.apply_page_state(PageState.SIGNED_OUT)
            elif error.reason is UnavailableReason.DOWNGRADED:
                # The session may have ended under the loaded page: out of rotation, re-read now
                # with the cookies the browser holds (the page's, not the ones it started with).
                account.suspect(str(error))
                self._rebuild_soon(account, save_first=True)
            else:
                account.block(error.reason.value)
        elif isinstance(error, TargetClosed):
            account.mark_failed(str(error))
            self._rebuild_soon(account)

    # -- background --

    async def _save_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.cookie_save_interval)
            for account in list(self._accounts.values()):
                try:
                    await account.save_cookies()
                except Exception:  # one failing account must not stop the others' saves
                    log.warning("saving cookies of %s failed", account.id, exc_info=True)

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.health_interval)
            now = time.time()
            for account in list(self._accounts.values()):
                # A failed account has no live page; the others finish their turns first.
                idle = account.active == 0 or account.health is AccountState.FAILED
                if idle and account.recheck_due(now):
                    self._rebuild_soon(account)


def _session_of(cookies: list[Any]) -> str | None:
    return next((cookie.value for cookie in cookies if cookie.name == "__Secure-1PSID"), None)


def _why_none(request: TurnRequest) -> str:
    wanted = request.mode.value + (f" with {request.tool.value}" if request.tool else "")
    if request.account_id:
        return f"account {request.account_id!r} cannot serve {wanted} now"
    return f"no healthy account offers {wanted}"


def _out_of_quota(error: BrowserError, account: Account, request: TurnRequest) -> NoCapacity | None:
    """A usage limit (1037) with no other account to move to is a capacity answer, not a failure:
    the caller should come back when the exhausted quota resets."""
    if not isinstance(error, UpstreamRejected) or error.code != USAGE_LIMIT:
        return None
    until = account.cooling_for(request.mode)
    wait = max(1.0, until - time.time()) if until is not None else 1.0
    return NoCapacity(
        f"Gemini's usage limit for this model is reached (1037); it resets in {wait:.0f}s", retry_after=wait
    )


def shows_answer(snapshot: TurnSnapshot) -> bool:
    """Something a caller can see arrived (text, thoughts or media); ``TurnSnapshot.has_content``
    is the wire's criterion (a content frame arrived, possibly empty)."""
    return bool(
        snapshot.text
        or snapshot.thoughts
        or snapshot.images
        or snapshot.video
        or snapshot.research
        or snapshot.canvas
    )


def reset_time(snapshot: TurnSnapshot) -> float | None:
    """When the 1037 frame says usage is possible again, as a UNIX time (None when absent or past).

    ``QuotaInfo.reset_at`` picks the exhausted bucket: the earliest reset of *any* bucket would
    end the cooldown when a short window that still has room resets, while the one that ran out
    (often a daily one) still refuses every turn."""
    reset = snapshot.quota.reset_at if snapshot.quota is not None else None
    return reset if reset is not None and reset > time.time() else None


class Turn:
    """One prompt on a leased account; iterate for cumulative snapshots. Use with ``async with``."""

    def __init__(self, pool: BrowserPool, request: TurnRequest) -> None:
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

    @property
    def account_id(self) -> str:
        if self._account is None:
            raise BrowserError("the turn holds no lease")
        return self._account.id

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
            self._media_request(),
            url,
            base_url=self._settings.base_url,
            timeout_s=self._settings.navigation_timeout,
        )

    async def wait_for_media(self, url: str, *, max_wait: float = 300.0, interval: float = 2.0) -> Media:
        """Poll ``url`` until it is ready (a video answers 206 while rendering), for ``max_wait`` s
        at most (then ``UpstreamTimeout``), every ``interval`` s."""
        return await wait_for_media(
            self._media_request(),
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
        attempts: list[str] = []
        url = await self._original_url(image)
        if url is not None:
            attempts.append(f"{url}=d-I?alr=yes")
        base = _without_size_option(image.url)
        attempts += [f"{base}=s0", f"{base}=s2048"]
        failure: BrowserError | None = None
        for attempt in attempts:
            try:
                media = await self.fetch_media_full(attempt)
            except BrowserError as exc:
                failure = exc
                continue
            if media.mime.startswith("image/"):
                return media
        log.info("no full-size image could be fetched; every path failed")
        # Every path answered, but none with an image: no Gemini code was involved.
        raise failure or ProtocolError("no full-size image was served (every download path gave a non-image)")

    async def _original_url(self, image: GeneratedImage) -> str | None:
        final, page = self.final, self._page
        if page is None or final is None or image.image_id is None or not final.cid:
            return None
        chat = [final.rid, final.rcid, final.cid, None, ""]
        payload = [
            [[None, None, None, [None, None, None, None, None, ""]], [image.image_id, 0], None, [19, ""]]
            + [None] * 5
            + [""],
            chat,
            1,
            0,
            1,
        ]
        try:
            results = await call_rpcs(
                page,
                [(FULL_SIZE_RPC, payload)],
                source_path=f"/app/{final.cid.removeprefix('c_')}",
                timeout=self._settings.ui_timeout,
            )
        except BrowserError as exc:
            log.info("c8o8Fe failed (%s); falling back to the size suffixes", type(exc).__name__)
            return None
        answer = results[0].payload if results else None
        if isinstance(answer, list) and answer and isinstance(answer[0], str) and answer[0]:
            return answer[0]
        log.info("c8o8Fe gave no URL; falling back to the size suffixes")
        return None

    def _media_request(self) -> APIRequestContext:
        # The account (not the lease) is kept after exit: media can be fetched once the tab is back.
        account = self._account
        if account is None or account.context is None:
            raise TargetClosed("the turn's account has no context")
        return account.context.request

    async def _attempts(self) -> AsyncIterator[TurnSnapshot]:
        retried_transient = False
        while True:
            account, page = self._account, self._page
            assert account is not None and page is not None
            self._tried.add(account.id)
            yielded = False
            try:
                async for snapshot in self._one_attempt(account, page):
                    yielded = yielded or shows_answer(snapshot)
                    self.final = snapshot
                    if yielded:
                        yield snapshot
                account.note_success()
                final = self.final
                if final is not None and final.completed and final.cid:
                    self._finished_chat = f"/app/{final.cid}"
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
                log.info("turn moves off %s before any content: %s", account.id, type(error).__name__)
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
        path = (
            f"/app/{request.chat_id}"
            if request.chat_id
            else (f"/gem/{request.gem}" if request.gem else "/app")
        )
        there = await account.claim_tab(page, path)
        state = PageState.READY if there else await driver.open(path)
        if state is not PageState.READY:
            raise AccountUnavailable(f"the page is {state.value}", reason=UnavailableReason(state.value))
        capture = BodyCapture(page)
        decoder = TurnDecoder()
        try:
            # Arming the capture (a CDP session) overlaps with the composer steps.
            await _together(self._compose(driver), capture.arm())
            deadline = time.monotonic() + settings.turn_timeout
            await driver.send(capture.request_seen)
            self._running = True
            body_read = True
            try:
                async for chunk in capture.chunks(
                    first_timeout=settings.first_frame_timeout, idle_timeout=settings.idle_timeout
                ):
                    for snapshot in decoder.feed(chunk):
                        _raise_on_error(snapshot)
                        _raise_on_downgrade(account, request, snapshot)
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
                _raise_on_http(response.status, response.url)
            last = _final_snapshot(decoder) if body_read else decoder.snapshot
            _raise_on_error(last)
            _raise_on_downgrade(account, request, last)
            if shows_answer(last):
                yield last
                return
        finally:
            await capture.close()
        # The network gave nothing usable: read what the page shows.
        log.info("no content from the network (%s); reading the answer from the page", account.id)
        yield await self._dom_fallback(driver, last)

    async def _compose(self, driver: PageDriver) -> None:
        """Mode, tool, files and prompt: everything before Send."""
        request = self._request
        await driver.choose_mode(request.mode)
        if request.tool is not None:
            await driver.choose_tool(request.tool)
        await driver.attach(request.attachments)
        await driver.insert_prompt(request.prompt)

    async def _dom_fallback(self, driver: PageDriver, empty: TurnSnapshot) -> TurnSnapshot:
        deadline = time.monotonic() + self._settings.ui_timeout
        answer = await driver.read_answer()
        while not answer.done and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            answer = await driver.read_answer()
        if answer.error_code is not None:
            raise UpstreamRejected(answer.error_code, None, f"the page shows error {answer.error_code}")
        if not answer.text:
            raise UpstreamTimeout("the answer had no content, in the network or on the page")
        return replace(empty, text=answer.text, completed=answer.done)


async def _together(*steps: Awaitable[None]) -> None:
    """Run ``steps`` concurrently, let every one finish, then raise the first failure."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


def _final_snapshot(decoder: TurnDecoder) -> TurnSnapshot:
    """The decoder's last word on a body that ended; one cut short before any content is not an
    error yet (the page may still show the answer), one cut short after content is."""
    try:
        return decoder.close()
    except ProtocolError:
        if shows_answer(decoder.snapshot):
            raise
        return decoder.snapshot


def _raise_on_error(snapshot: TurnSnapshot) -> None:
    if snapshot.error_code is not None and not shows_answer(snapshot):
        raise UpstreamRejected(snapshot.error_code, snapshot.error_status)


def _raise_on_downgrade(account: Account, request: TurnRequest, snapshot: TurnSnapshot) -> None:
    """The served-model echo (final frame) against what was asked: another family, or a model
    outside every family (Flash-Lite, what a signed-out visitor gets), is an account problem,
    never an answer passed off as the requested model. An echo we cannot place is accepted."""
    hex_id, label = snapshot.served_model_id, snapshot.served_model_label
    if not hex_id and not label:
        return
    offered = next((model for model in account.capabilities.models if hex_id and model.hex == hex_id), None)
    if offered is not None:
        light = offered.family is None and is_light_label(offered.label)
        family = offered.family
    else:
        light = bool(label) and is_light_label(label or "")
        family = family_of_label(label) if label else None
    if light or (family is not None and family is not request.mode):
        served = label or hex_id
        raise AccountUnavailable(
            f"asked for {request.mode.value}, the answer came from {served}",
            reason=UnavailableReason.DOWNGRADED,
        )


def _without_size_option(url: str) -> str:
    """``…/gg-dl/<token>=s1024-rj`` → ``…/gg-dl/<token>`` (the option follows the last ``=`` of
    the last path segment, protocol.md §7)."""
    head, slash, last = url.rpartition("/")
    return head + slash + last.split("=", 1)[0]


def _raise_on_http(status: int, url: str) -> None:
    if "/sorry/" in url:
        raise AccountUnavailable("Google asks for a captcha", reason=UnavailableReason.CAPTCHA)
    if "ServiceLogin" in url or status in (401, 403):
        raise AccountUnavailable("the session is signed out", reason=UnavailableReason.SIGNED_OUT)
    raise HTTPStatusError(status, "StreamGenerate")
