"""The pool: accounts, scheduling and leases; ``Turn`` (``browser._turn``) answers on a lease.

Scheduling picks, among accounts whose page offers the request's mode/tool and that are healthy
and not cooling for its family, the least loaded one with a free tab. Callers wait in a bounded
queue; a lease always comes back (normal end, error, cancel, crash). What a turn's failure means
for its account (cooling, blocked, signed out, rebuilt) is decided here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from types import TracebackType
from typing import Any

from playwright.async_api import Browser, Page, Playwright, async_playwright

from browser._accounts import Account, AccountInfo, AccountSpec, AccountState
from browser._answers import IP_BLOCKED, USAGE_LIMIT
from browser._chats import chat_video, delete_chat
from browser._cookies import account_id_for
from browser._driver import PageState
from browser._egress import EgressBudget, EgressInfo, Limits
from browser._gems import Gem
from browser._health import NeedsPerson, SessionRecord, session_key
from browser._launcher import Launcher, profile_dir, proxy_settings, refuse_remote_profile
from browser._live import LiveEnd, LiveView
from browser._playwright_errors import map_playwright_errors
from browser._requests import TurnRequest
from browser._research import research_report, research_state
from browser._settings import LaunchMode, PoolSettings
from browser._store import CookieStore, SharedCookies, SharedCookieStore, SharedHealthStore
from browser._turn import Turn
from browser._videos import video_job_state
from browser.errors import (
    AccountUnavailable,
    BrowserError,
    EgressBusy,
    LiveViewBusy,
    NoCapacity,
    NoEligibleAccount,
    TargetClosed,
    UnavailableReason,
    UnknownAccount,
    UpstreamRejected,
)
from browser.protocol import VideoInfo

log = logging.getLogger(__name__)

RELEASE_WINDOW = 16  # lease releases the Retry-After estimate looks at
# The ``cooling_until`` key of an account whose egress cools after a captcha (not a model quota).
EGRESS_QUOTA = "egress"


class BrowserPool:
    """Owns Playwright, the launcher, the cookie store and every account. Use with ``async with``.

    An embedding program (or a test session) may lend its own ``playwright`` and, in shared launch
    mode, a ``browser`` started from it: the pool then opens its contexts there and leaves both
    running when it closes (if the lent browser dies, the pool launches and owns a new one).
    ``egress_clock`` (monotonic seconds) times the egress budgets' windows; a test may drive it.
    ``shared_cookies``: a store the accounts' cookies are also written to and read from (the newer
    copy wins), for pools on several machines that hand accounts to each other; None: the local
    ``cookies.sqlite3`` only. ``shared_health``: where the accounts' session records and cooldowns
    are also written, and read when an account starts (it starts cooled, or blocked, as the pool
    that drove it last left it); None: session records in ``cookies.sqlite3``, cooldowns in
    memory."""

    def __init__(
        self,
        settings: PoolSettings,
        *,
        playwright: Playwright | None = None,
        browser: Browser | None = None,
        egress_clock: Callable[[], float] = time.monotonic,
        shared_cookies: SharedCookieStore | None = None,
        shared_health: SharedHealthStore | None = None,
    ) -> None:
        if browser is not None and playwright is None:
            raise BrowserError("a lent browser needs the Playwright it was started from")
        if browser is not None and settings.launch_mode is not LaunchMode.SHARED:
            raise BrowserError(
                f"a browser can be lent in launch_mode=shared only, not {settings.launch_mode}"
            )
        self.settings = settings
        self._accounts: dict[str, Account] = {}
        self._lent_playwright = playwright
        self._lent_browser = browser
        self._playwright: Playwright | None = None
        self._launcher: Launcher | None = None
        self._store = (
            CookieStore(settings.data_dir)
            if shared_cookies is None and shared_health is None
            else SharedCookies(settings.data_dir, shared_cookies, shared_health)
        )
        self._changed = asyncio.Condition()
        self._waiting = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._rebuilds: set[asyncio.Task[None]] = set()  # running rebuilds only (pruned when done)
        self._rebuilding: set[str] = set()
        self._released_at: deque[float] = deque(maxlen=RELEASE_WINDOW)  # monotonic times
        self._live: set[str] = set()  # accounts shown in a live view now
        self._egresses: dict[str, EgressBudget] = {}  # by egress name; kept when its accounts go
        self._egress_clock = egress_clock
        self._closed = False
        default = settings.default_proxy
        if default is not None:
            proxy_settings(default.get_secret_value())  # InvalidProxy now, not on every start

    async def __aenter__(self) -> BrowserPool:
        if self._lent_playwright is not None:
            self._playwright = self._lent_playwright
        else:
            self._playwright = await async_playwright().start()
        self._launcher = Launcher(self.settings, self._playwright, self._lent_browser)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._save_loop()),
            loop.create_task(self._health_loop()),
            loop.create_task(self._gems_loop()),
        ]
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
        if self._playwright is not None and self._playwright is not self._lent_playwright:
            await self._playwright.stop()
        self._playwright = None

    # -- accounts --

    async def add_account(self, spec: AccountSpec) -> AccountInfo:
        """Start an account; the store's newer cookies win unless the spec brings another session.
        A profile account (``spec.profile``) brings none: its profile's own cookies serve."""
        cookies = spec.parse_cookies()
        if spec.proxy:
            proxy_settings(spec.proxy)  # a configuration error (InvalidProxy), raised to the caller
        if spec.profile and spec.name:
            refuse_remote_profile(self.settings, spec.name)  # before an account of that name goes
            account_id = spec.name
        else:
            account_id = account_id_for(spec.name, cookies)
            stored = await self._store.load(account_id)
            if stored is not None and _session_of(stored.cookies) == _session_of(cookies):
                cookies = stored.cookies
        session, same = await self._session_record(account_id, spec, cookies)
        cooldown = await self._store.load_cooldown(account_id)
        if cooldown is not None and not same:
            # A usage limit is the Google account's; a block was its session's, which was replaced.
            cooldown = replace(cooldown, blocked_until=None, reason=None)
        if spec.profile:
            # The copy last read from the profile: served only if the profile turns out to hold no
            # session at all (``Account.start``); a profile's own session always wins.
            stored = await self._store.load(account_id)
            cookies = stored.cookies if stored is not None else []
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
            session,
            cooldown.current(time.time()) if cooldown is not None else None,
        )
        account.on_lost = self._on_lost
        account.on_captcha = self._on_captcha
        self._budget(account)  # the egress shows in ``egresses()`` from the account's start
        self._accounts[account_id] = account
        if not spec.profile:  # a profile account's cookies are stored once its page has them
            await self._store.save(account_id, cookies)
        await self._store.save_session(account_id, session)
        await account.start()
        await self._notify()
        return self._info(account)

    async def _session_record(
        self, account_id: str, spec: AccountSpec, cookies: list[Any]
    ) -> tuple[SessionRecord, bool]:
        """The stored record of this session (same __Secure-1PSID), or a new one (False); the spec
        says how the session was signed in."""
        key = session_key(_session_of(cookies))
        stored = await self._store.load_session(account_id)
        # A profile account brings no cookie (key None): its stored record is its profile's session.
        if stored is None or (key is not None and stored.session != key):
            return SessionRecord(spec.signin_method.value, key, None, None), False
        return replace(stored, signin_method=spec.signin_method.value), True

    async def remove_account(self, account_id: str, *, forget: bool = False) -> None:
        """Take the account out of rotation at once; a busy one finishes its turns (bounded by
        ``turn_timeout`` + ``stop_timeout``), then its context closes. ``forget`` also deletes its
        stored cookies and, for a profile account, its profile directory (the session it holds)."""
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
            if account.profile:
                await asyncio.to_thread(shutil.rmtree, profile_dir(self.settings, account_id), True)
        await self._notify()

    async def pause_account(self, account_id: str) -> AccountInfo:
        """Out of rotation (its page stays warm, running turns finish) until ``resume_account``."""
        account = self._get(account_id)
        account.paused = True
        await self._notify()
        return self._info(account)

    async def resume_account(self, account_id: str) -> AccountInfo:
        account = self._get(account_id)
        account.paused = False
        await self._notify()
        return self._info(account)

    def accounts(self) -> list[AccountInfo]:
        return [self._info(account) for account in self._accounts.values()]

    def _info(self, account: Account) -> AccountInfo:
        """The account's snapshot; a ready account on an egress cooling after a captcha shows as
        cooling (quota ``egress``): it does not serve until its IP does."""
        info = account.info()
        until = self._budget(account).cooling_until()
        if until is None or info.state not in (AccountState.READY, AccountState.BUSY, AccountState.COOLING):
            return info
        return replace(
            info,
            state=AccountState.BUSY if info.state is AccountState.BUSY else AccountState.COOLING,
            cooling_until={**info.cooling_until, EGRESS_QUOTA: until},
            reason=f"its egress {account.egress} met Google's captcha",
        )

    def egresses(self) -> list[EgressInfo]:
        """Every egress (``direct`` or a proxy without credentials) an account has used, with its
        budget's counters and the accounts on it now."""
        return [
            budget.info(tuple(a.id for a in self._accounts.values() if a.egress == name))
            for name, budget in sorted(self._egresses.items())
        ]

    def _budget(self, account: Account) -> EgressBudget:
        budget = self._egresses.get(account.egress)
        if budget is None:
            settings = self.settings
            limits = Limits.for_egress(settings, account.egress)
            budget = EgressBudget(
                account.egress, limits, paced=settings.paces_egress, clock=self._egress_clock
            )
            self._egresses[account.egress] = budget
        return budget

    async def check_account(self, account_id: str) -> AccountInfo:
        """Reload the account's page and re-read its state and capabilities."""
        account = self._get(account_id)
        await account.save_cookies()
        await account.start()
        await self._notify()
        return self._info(account)

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

    async def video_job(self, account_id: str, job_id: str, chat_id: str | None = None) -> bool | None:
        """A Create-video job's state as kwDCne tells it (bounded by ``ui_timeout``): True done,
        False rendering, None when the answer's shape says neither (``browser._videos``)."""
        account = self._get(account_id)
        return await video_job_state(account.context, job_id, chat_id, timeout=self.settings.ui_timeout)

    async def research_state(self, account_id: str, research_id: str) -> str:
        """``awaiting`` | ``running`` | ``done`` for a research of the account (kwDCne, bounded by
        ``ui_timeout``)."""
        account = self._get(account_id)
        return str(await research_state(account.context, research_id, timeout=self.settings.ui_timeout))

    async def research_report(self, account_id: str, chat_id: str) -> str | None:
        """The report a finished research wrote into its chat (hNvQHb), or None when none is there."""
        account = self._get(account_id)
        return await research_report(account.context, chat_id, timeout=self.settings.ui_timeout)

    async def refresh_gems(self, account_id: str) -> tuple[Gem, ...]:
        """List the account's Gems again through its page (CNgdBe, bounded by ``ui_timeout``); the
        list also shows in ``AccountInfo.gems``. A failed listing keeps the earlier one."""
        return await self._get(account_id).read_gems()

    async def screenshot(self, account_id: str) -> bytes:
        account = self._get(account_id)
        context = account.context
        if context is None or not context.pages:
            raise TargetClosed(f"account {account_id!r} has no page")
        with map_playwright_errors("screenshot"):
            return await context.pages[0].screenshot(type="png", timeout=self.settings.ui_timeout * 1000)

    @asynccontextmanager
    async def live_view(self, account_id: str) -> AsyncIterator[LiveView]:
        """A live view of the account at Google's sign-in page, for an operator to sign it in
        (``browser._live``): a tab of its own in the account's context, never leased to a turn.
        ``LiveViewBusy`` when one is open for the account already, ``UnknownAccount`` when there is
        no such account. When the tab comes back to the app signed in, the view ends; on leaving the
        block the new cookies are stored and the account is re-checked in the same browser context,
        so that it serves with everything the sign-in left there."""
        account = self._get(account_id)
        if account_id in self._live:
            raise LiveViewBusy(f"a live view of {account_id!r} is open already")
        self._live.add(account_id)
        try:
            view = LiveView(account_id, await account.new_side_tab(), self.settings)
            try:
                await view.open()
                yield view
            finally:
                await view.close()
            if view.end_reason is LiveEnd.SIGNED_IN and self._accounts.get(account_id) is account:
                # The new session's cookies to the store, then the page re-read in the same
                # context: what the sign-in left there beyond cookies stays (``recheck_in_place``).
                await account.save_cookies()
                await account.recheck_in_place()
                await self._notify()
        finally:
            self._live.discard(account_id)

    def live_views(self) -> frozenset[str]:
        """The accounts shown in a live view now."""
        return frozenset(self._live)

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
        held: set[EgressBudget] = set()  # egresses this caller waits for (their ``waiting``)
        try:
            async with self._changed:
                while True:
                    account = self._free_candidate(request, exclude)
                    if account is not None:
                        account.active += 1
                        self._budget(account).start()
                        break
                    remaining = deadline - time.monotonic()
                    held = _hold(held, self._raise_if_hopeless(request, exclude, remaining))
                    if remaining <= 0:
                        if held:
                            raise self._egress_busy(held, "stayed at its pace")
                        raise NoCapacity(
                            "every fitting account stayed busy", retry_after=self._retry_after(self._waiting)
                        )
                    # A window frees a slot at a known time, with no release to notify it.
                    wake = min((b.next_start_in() for b in held if b.next_start_in() > 0), default=1.0)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), max(0.01, min(remaining, 1.0, wake)))
        finally:
            self._waiting -= 1
            _hold(held, set())
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
            and account.cooling_for(request.quota) is None
            and account.has_free_tab()
            and self._budget(account).can_start()
        ]
        return min(fitting, key=lambda account: account.active, default=None)

    def _raise_if_hopeless(
        self, request: TurnRequest, exclude: set[str], remaining: float
    ) -> set[EgressBudget]:
        """Waiting helps only if a fitting account is busy or still starting, or its egress frees a
        slot within ``remaining`` s; returns the egresses that hold back an otherwise free account."""
        hopeful = False
        cooling: list[float] = []
        held: set[EgressBudget] = set()
        for account in self._accounts.values():
            if account.paused or account.id in exclude or (request.account_id not in (None, account.id)):
                continue
            if account.health is AccountState.STARTING or (
                account.health is AccountState.FAILED and account.id in self._rebuilding
            ):
                hopeful = True
            elif account.health is AccountState.READY and account.offers(request):
                budget = self._budget(account)
                until = account.cooling_for(request.quota)
                egress_until = budget.cooling_until()
                if until is not None:
                    cooling.append(until)
                elif egress_until is not None:  # a captcha on its IP (``_on_captcha``)
                    cooling.append(egress_until)
                elif not account.has_free_tab():
                    hopeful = True  # its own turn ends (a release notifies)
                elif not budget.has_slot():
                    held.add(budget)
                    hopeful = True  # a turn on its egress ends (a release notifies)
                elif budget.next_start_in() > 0:
                    held.add(budget)
                    # Worth waiting only if the window frees a slot before the queue timeout.
                    hopeful = hopeful or budget.next_start_in() <= remaining
                else:
                    hopeful = True
        if hopeful:
            return held
        if held:
            raise self._egress_busy(held, "is at its pace", cooling)
        if cooling:
            raise NoCapacity(
                f"every fitting account is cooling for {request.quota} (or its IP met a captcha)",
                retry_after=max(1.0, min(cooling) - time.time()),
            )
        raise NoEligibleAccount(_why_none(request))

    def _egress_busy(self, held: set[EgressBudget], why: str, cooling: Sequence[float] = ()) -> EgressBusy:
        """The refusal of a caller whose fitting accounts' egresses are at their pace, counted on
        each; its ``retry_after`` is when the soonest of them (or a cooling account) frees a slot."""
        # A full concurrency frees on a release: the pool's estimate of the next one, unless its
        # windows are full for longer.
        waits = [
            b.retry_after() if b.has_slot() else max(b.retry_after(), self._retry_after(self._waiting))
            for b in held
        ]
        waits += [max(1.0, until - time.time()) for until in cooling]
        names = tuple(sorted(b.name for b in held))
        for budget in held:
            budget.reject()
        log.info("egress %s %s: a request is refused", ", ".join(names), why)
        # "the egress X is at its pace" / "each egress of X, Y is at its pace"
        which = f"the egress {names[0]}" if len(names) == 1 else f"each egress of {', '.join(names)}"
        return EgressBusy(f"{which} {why}", retry_after=min(waits), egresses=names)

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
        self._budget(account).release()
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

    def _on_captcha(self, account: Account) -> None:
        """Google walled the account's IP (google.com/sorry, or Gemini's 1060): every account on
        that egress cools as long as the one that met it is blocked, accounts elsewhere serve on."""
        budget = self._budget(account)
        if not budget.paced:
            return
        until = account.blocked_until or time.time() + self.settings.block_backoff
        budget.cool(until)
        log.warning(
            "egress %s cooling until %.0f: account %s met Google's wall", budget.name, until, account.id
        )

    def _after_failure(
        self, account: Account, error: BrowserError, request: TurnRequest, reset_at: float | None
    ) -> None:
        if isinstance(error, UpstreamRejected):
            if error.code == USAGE_LIMIT:
                account.cool(request.quota, reset_at or time.time() + self.settings.cooldown_default)
            elif error.code == IP_BLOCKED:
                account.block("IP blocked (1060)", NeedsPerson.REGION)
                self._on_captcha(account)
        elif isinstance(error, AccountUnavailable):
            if error.reason in (UnavailableReason.SIGNED_OUT, UnavailableReason.VERIFY):
                account.apply_page_state(PageState(error.reason.value))
            elif error.reason is UnavailableReason.DOWNGRADED:
                # The session may have ended under the loaded page: out of rotation, re-read now
                # with the cookies the browser holds (the page's, not the ones it started with).
                account.suspect(str(error))
                self._rebuild_soon(account, save_first=True)
            else:
                account.block(error.reason.value)
                if error.reason is UnavailableReason.CAPTCHA:
                    self._on_captcha(account)
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

    async def _gems_loop(self) -> None:
        """A Gem made or deleted on gemini.google.com shows here within ``gems_interval``."""
        while True:
            await asyncio.sleep(self.settings.gems_interval)
            for account in list(self._accounts.values()):
                if account.health is not AccountState.READY or account.capabilities.tier == "anon":
                    continue
                try:
                    await account.read_gems()  # logs and keeps the earlier list when it fails
                except Exception:  # one failing account must not stop the others' listings
                    log.warning("listing the Gems of %s failed", account.id, exc_info=True)

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.health_interval)
            now = time.time()
            for account in list(self._accounts.values()):
                # A failed account has no live page; the others finish their turns first.
                idle = account.active == 0 or account.health is AccountState.FAILED
                # A re-check rebuilds the context: never under an operator signing the account in.
                if idle and account.id not in self._live and account.recheck_due(now):
                    ready = account.health is AccountState.READY
                    if ready:
                        # Out of rotation now, so that no turn leases a page about to close.
                        account.health = AccountState.STARTING
                    # A ready account's context holds its newest cookies: stored before the rebuild.
                    self._rebuild_soon(account, save_first=ready)


def _hold(held: set[EgressBudget], now: set[EgressBudget]) -> set[EgressBudget]:
    """Move one waiting caller's count from the egresses of ``held`` to those of ``now``."""
    for budget in held - now:
        budget.waiting = max(0, budget.waiting - 1)
    for budget in now - held:
        budget.waiting += 1
    return now


def _session_of(cookies: list[Any]) -> str | None:
    return next((cookie.value for cookie in cookies if cookie.name == "__Secure-1PSID"), None)


def _why_none(request: TurnRequest) -> str:
    wanted = request.mode.value + (f" with {request.tool.value}" if request.tool else "")
    if request.gem_by_account is not None:
        wanted += " on a Gem of its own"
    if request.account_id:
        return f"account {request.account_id!r} cannot serve {wanted} now"
    return f"no healthy account offers {wanted}"
