"""Accounts: what a caller adds (``AccountSpec``), what it sees (``AccountInfo``), and the runtime
``Account`` that owns one browser context, its warm page(s) and its state machine.

States: starting → ready ⇄ busy; ready → cooling (per quota: a model family or a tool, until a
time) → ready;
any → signed_out | blocked (captcha, consent, 1060, terms pending, another account status) |
failed (crash or launch error). Every one of the last three is re-checked (``start`` again) by the
pool once its backoff ends (``recheck_due``), the backoff doubling on each failed re-check; an idle
ready account is read again every ``session_check_interval`` (a session may end while no turn
comes); a lost browser context is reported at once (``on_lost``) so that the pool rebuilds without
waiting.

On start the page's own ``otAQ7b`` answer decides status, tier and models (``_status``), and the
page's menus the tools and the thinking control; without the answer the page's URL, session
markers and menus decide everything, and ``reason`` says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from playwright.async_api import Page, Response

from browser import _cookies
from browser._account_context import AccountContext
from browser._blank import BlankTabs
from browser._capabilities import Capabilities, PageModel, ThinkingControl
from browser._cookies import Cookie
from browser._driver import PageDriver, PageState
from browser._egress import egress_name
from browser._gems import Gem, list_gems
from browser._health import (
    VERIFY_REASON,
    Cooldown,
    NeedsPerson,
    Rotation,
    SessionRecord,
    rotation_outcome,
    session_key,
)
from browser._launcher import Launcher, proxy_host
from browser._playwright_errors import map_playwright_errors
from browser._requests import ModeFamily, Tool, TurnRequest
from browser._settings import PoolSettings
from browser._status import StatusSource, StatusVerdict, StatusWatch, Verdict, judge
from browser._store import CookieStore
from browser.errors import BrowserError, CookieFormatError, TargetClosed

log = logging.getLogger(__name__)

# What ``block`` was told, when it is a wall a person must get past.
_WALLS = {"captcha": NeedsPerson.CAPTCHA, "consent": NeedsPerson.CONSENT}


class AccountState(enum.StrEnum):
    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    COOLING = "cooling"
    SIGNED_OUT = "signed_out"
    BLOCKED = "blocked"
    FAILED = "failed"


class SigninMethod(enum.StrEnum):
    """How an account's Google session was signed in; it tells a person what to do when the session
    needs them (sign in again inside the gateway, re-import a profile, export fresh cookies)."""

    SIGNED_IN_INSIDE = "signed_in_inside"  # a person signed in in the gateway's own browser
    PROFILE_IMPORT = "profile_import"  # a Chromium profile directory signed in elsewhere
    COOKIE_IMPORT = "cookie_import"  # cookies copied from another browser (psid, an export file)


# The methods whose session lives in the account's own Chromium profile directory.
PROFILE_METHODS = frozenset({SigninMethod.SIGNED_IN_INSIDE, SigninMethod.PROFILE_IMPORT})


@dataclass(frozen=True)
class AccountSpec:
    """An account to add: ``psid`` (optionally ``psidts``), or ``cookies`` (a JSON export as a list)
    or ``cookie_file_text`` (JSON or Netscape text). ``name`` becomes the id when given.
    ``signin_method`` says where the session came from (kept across restarts).

    A profile account (``signin_method`` signed_in_inside or profile_import, see ``profile``) brings
    no cookies: its session lives in the account's own Chromium profile directory
    (``<data_dir>/profiles/<name>``, signed in there by a person: ``accounts login``, the dashboard's
    live view, or a profile imported with ``accounts import-profile``); ``name`` is then required.
    Such an account always gets a persistent context, whatever ``launch_mode`` says (a remote browser
    cannot open it). A new, empty profile starts signed out, ready to be signed in from its page."""

    name: str | None = None
    psid: str | None = field(default=None, repr=False)
    psidts: str | None = field(default=None, repr=False)
    cookies: list[dict[str, object]] | None = field(default=None, repr=False)
    cookie_file_text: str | None = field(default=None, repr=False)
    proxy: str | None = field(default=None, repr=False)
    signin_method: SigninMethod = SigninMethod.COOKIE_IMPORT

    @property
    def profile(self) -> bool:
        """The session lives in the account's Chromium profile, not in cookies given here."""
        return self.signin_method in PROFILE_METHODS

    def parse_cookies(self) -> list[Cookie]:
        """The cookies to restore into the context; none for a profile account (its profile has them)."""
        if self.profile:
            if not self.name:
                raise CookieFormatError("a profile account needs a name (its profile directory's name)")
            if self.psid or self.cookies is not None or self.cookie_file_text:
                raise CookieFormatError("a profile account takes no cookies: its profile holds the session")
            return []
        if self.psid:
            return _cookies.from_session(self.psid, self.psidts)
        if self.cookies is not None:
            return _cookies.parse_export(json.dumps(self.cookies))
        if self.cookie_file_text:
            return _cookies.parse_export(self.cookie_file_text)
        raise CookieFormatError("an account needs psid, cookies or cookie_file_text")


@dataclass(frozen=True)
class AccountInfo:
    """A snapshot of one account for callers (no secrets: the proxy is shown without credentials).

    ``status_code`` is the account status of the page's ``otAQ7b`` answer (1000 available, 1016
    cookies expired, 1040/1042 terms pending, 1060 location not supported; None when not read),
    ``status_source`` says where status and capabilities came from (``account_status`` or
    ``page``), ``reason`` why the account is in its state or how it was read, and ``models`` the
    exact models its picker offers, in picker order.
    """

    id: str
    name: str
    state: AccountState
    # Per quota (a model family's value, or a tool's: ``TurnRequest.quota``): when it is usable again.
    cooling_until: dict[str, float]
    blocked_until: float | None
    tier: str
    modes: frozenset[ModeFamily]
    tools: frozenset[Tool]
    active_turns: int
    last_error: str | None
    proxy: str | None
    status_code: int | None = None
    status_source: str = StatusSource.PAGE.value
    reason: str | None = None
    models: tuple[PageModel, ...] = ()
    # Paused by an operator: kept warm, out of rotation until resumed.
    paused: bool = False
    turns_served: int = 0
    cookies_saved_at: float | None = None  # UNIX time the context's cookies were last stored
    # UNIX time of the next re-check of a signed-out or failed account (None: none planned).
    recheck_at: float | None = None
    # How the page sets a thinking level (``ThinkingControl``), as read from its picker.
    thinking: str = ThinkingControl.NONE.value
    # The egress its turns leave through (``browser._egress``): ``direct`` or the proxy without
    # credentials; fixed for the account's life.
    egress: str = "direct"
    # Session health (``browser._health``): how the session was signed in (``SigninMethod`` value;
    # signed_in_inside and profile_import sessions live in the account's Chromium profile directory);
    # when this session (its __Secure-1PSID) was first seen working here, as a UNIX time (its age is now
    # minus this; a new __Secure-1PSID starts a new session, a rotated __Secure-1PSIDTS does not);
    # when a rotation last brought a fresh __Secure-1PSIDTS; why a person must act (``NeedsPerson``
    # value, None when nothing is asked of anyone) and since when (a UNIX time). All of them survive
    # a restart (the store); ``needs_person`` is read again from the page when the account starts.
    signin_method: str = SigninMethod.COOKIE_IMPORT.value
    session_started_at: float | None = None
    last_rotation_at: float | None = None
    needs_person: str | None = None
    needs_person_since: float | None = None
    # The account's Gems (custom ones first), as CNgdBe last listed them (``browser._gems``).
    gems: tuple[Gem, ...] = ()


class Account:
    """One account's context, tabs and health. The pool serialises state changes on its loop."""

    def __init__(
        self,
        account_id: str,
        name: str,
        cookies: list[Cookie],
        proxy: str | None,
        settings: PoolSettings,
        launcher: Launcher,
        store: CookieStore,
        session: SessionRecord | None = None,
        cooldown: Cooldown | None = None,
    ) -> None:
        self.id = account_id
        self.name = name
        self.cookies = cookies
        self.proxy = proxy
        default = settings.default_proxy
        # Fixed here: an account never changes IP (a new proxy means adding the account again).
        self.egress = egress_name(proxy or (default.get_secret_value() if default is not None else None))
        self._settings = settings
        self._launcher = launcher
        self._store = store
        self.health = AccountState.STARTING
        self.capabilities = Capabilities(tier="anon")
        self.status_code: int | None = None
        self.status_source = StatusSource.PAGE
        self.reason: str | None = None
        self.cooling_until: dict[str, float] = {}
        self.blocked_until: float | None = None
        self.backoff = settings.block_backoff
        self.last_error: str | None = None
        self.active = 0
        self.paused = False
        self.turns_served = 0
        self.cookies_saved_at: float | None = None
        self.context: AccountContext | None = None
        # Called (on the loop) when the browser context closes under a live account.
        self.on_lost: Callable[[Account], None] | None = None
        # Called (on the loop) when the page meets google.com/sorry: the IP, not the account, is blocked.
        self.on_captcha: Callable[[Account], None] | None = None
        self.recheck_at: float | None = None
        self.read_at: float | None = None  # when the page's state was last read (``start``)
        self.gems: tuple[Gem, ...] = ()
        self._failure_backoff = settings.health_interval
        # Pages of the current context (leased or free); a page of an earlier context returned
        # after a restart is neither counted nor reused.
        self._tabs: set[Page] = set()
        self._free_tabs: set[Page] = set()
        # Tabs of the context that are no turn's (a live view's): never picked up as a turn tab.
        self._side_tabs: set[Page] = set()
        self._blank = BlankTabs(settings)
        self._lock = asyncio.Lock()
        self._save_lock = asyncio.Lock()  # one cookie writer at a time: the newest read lands last
        self._saves: set[asyncio.Task[None]] = set()
        self._session_lock = asyncio.Lock()
        session = session or SessionRecord(SigninMethod.COOKIE_IMPORT.value, None, None, None)
        self.signin_method = session.signin_method
        # The session lives in the account's profile directory (``AccountSpec.profile``).
        self.profile = SigninMethod(session.signin_method) in PROFILE_METHODS
        self.session_key = session.session or session_key(_psid(cookies))
        self.session_started_at = session.started_at
        self.last_rotation_at = session.last_rotation_at
        self.needs_person = NeedsPerson(session.needs_person) if session.needs_person else None
        self.needs_since = session.needs_since if self.needs_person else None
        # What the previous pool to drive the account left (another replica): its usage limits
        # hold from now, its block once the first start has read the page (``_carry_block``).
        self._carried = cooldown
        # Why the previous pool blocked it, restored with its block (the page read here clears it).
        self._carried_needs = self.needs_person
        if cooldown is not None:
            self.cooling_until.update(cooldown.cooling_until)
        self._cooldown_lock = asyncio.Lock()

    # -- state --

    @property
    def state(self) -> AccountState:
        if self.health is not AccountState.READY:
            return self.health
        if self.active:
            return AccountState.BUSY
        self._expire_cooling()
        return AccountState.COOLING if self.cooling_until else AccountState.READY

    def _expire_cooling(self) -> None:
        now = time.time()
        for quota in [q for q, until in self.cooling_until.items() if until <= now]:
            del self.cooling_until[quota]

    def info(self) -> AccountInfo:
        state = self.state
        return AccountInfo(
            id=self.id,
            name=self.name,
            state=state,
            cooling_until=dict(self.cooling_until),
            blocked_until=self.blocked_until,
            tier=self.capabilities.tier,
            modes=self.capabilities.modes,
            tools=self.capabilities.tools,
            active_turns=self.active,
            last_error=self.last_error,
            proxy=proxy_host(self.proxy or self._settings.default_proxy),
            status_code=self.status_code,
            status_source=self.status_source.value,
            reason=self.reason,
            models=self.capabilities.models,
            paused=self.paused,
            turns_served=self.turns_served,
            cookies_saved_at=self.cookies_saved_at,
            recheck_at=self.recheck_at
            if self.health in (AccountState.FAILED, AccountState.SIGNED_OUT)
            else None,
            thinking=self.capabilities.thinking.value,
            signin_method=self.signin_method,
            egress=self.egress,
            session_started_at=self.session_started_at,
            last_rotation_at=self.last_rotation_at,
            needs_person=self.needs_person.value if self.needs_person else None,
            needs_person_since=self.needs_since,
            gems=self.gems,
        )

    def cooldown(self) -> Cooldown | None:
        """What holds the account back now (None: nothing), for the next pool to start it."""
        blocked = self.blocked_until if self.health is AccountState.BLOCKED else None
        carried = Cooldown(dict(self.cooling_until), blocked, self.reason if blocked else None)
        return carried.current(time.time())

    def _persist_cooldown(self) -> None:
        """Share the cooldown in the background (``close`` shares it once more, awaited)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the pool's loop (a unit test): ``close`` shares it
            return
        task = loop.create_task(self._write_cooldown())
        self._saves.add(task)
        task.add_done_callback(self._saves.discard)

    async def _write_cooldown(self) -> None:
        """One writer at a time, each writing the cooldown as it is then: the newest lands last."""
        async with self._cooldown_lock:
            try:
                await self._store.save_cooldown(self.id, self.cooldown())
            except Exception:  # the next change or ``close`` writes it again
                log.warning("sharing the cooldown of %s failed", self.id, exc_info=True)

    def _carry_block(self) -> None:
        """A block the previous pool left (a captcha, a wall) holds here until its end, even when
        this pool's first read of the page found it fine: there it would have waited as well, and
        the re-check when it ends (``recheck_due``) reads the page again."""
        carried, self._carried = self._carried, None
        if carried is None or self.health is not AccountState.READY:
            return
        until = carried.blocked_until
        if until is None or until <= time.time():
            return
        self._needs(_WALLS.get(carried.reason or "") or self._carried_needs)
        self.health = AccountState.BLOCKED
        self.blocked_until = until
        self.last_error = self.reason = carried.reason
        log.warning("account %s blocked until %.0f as its previous replica left it", self.id, until)

    def session_record(self) -> SessionRecord:
        return SessionRecord(
            self.signin_method,
            self.session_key,
            self.session_started_at,
            self.last_rotation_at,
            self.needs_person.value if self.needs_person else None,
            self.needs_since,
        )

    def _needs(self, needs: NeedsPerson | None) -> None:
        """Why a person is needed now (None: nobody); a change is stored at once, with its time."""
        if needs == self.needs_person:
            return
        self.needs_person = needs
        self.needs_since = time.time() if needs else None
        if needs:
            log.warning("account %s needs a person: %s", self.id, needs.value)
        self._persist_session()

    def _persist_session(self) -> None:
        """Store the session record in the background (``close`` stores it once more, awaited)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the pool's loop (a unit test): ``close`` stores it
            return
        task = loop.create_task(self._write_session())
        self._saves.add(task)
        task.add_done_callback(self._saves.discard)

    async def _write_session(self) -> None:
        """One writer at a time, each writing the record as it is then: the newest lands last."""
        async with self._session_lock:
            try:
                await self._store.save_session(self.id, self.session_record())
            except Exception:  # the next change or ``close`` writes it again
                log.warning("storing the session record of %s failed", self.id, exc_info=True)

    def offers(self, request: TurnRequest) -> bool:
        """Capability fit, whatever the current load or cooldown: what the page offers decides, not
        a paid or free label (docs/architecture/evidence.md#d8)."""
        if request.account_id is not None and request.account_id != self.id:
            return False
        if request.gem_by_account is not None and self.id not in request.gem_by_account:
            return False
        caps = self.capabilities
        if request.mode not in caps.modes:
            return False
        if request.tool is not None and request.tool not in caps.tools:
            return False
        return not ((request.gem_for(self.id) or request.attachments) and caps.tier == "anon")

    def cooling_for(self, quota: str) -> float | None:
        """When ``quota`` (``TurnRequest.quota``) is usable again, None when it is now."""
        self._expire_cooling()
        return self.cooling_until.get(quota)

    def correct_tools(self, offered: frozenset[Tool]) -> None:
        """The tools menu lists other tools than read at start (``ToolNotOffered``): believe it."""
        if offered != self.capabilities.tools:
            log.info("account %s: tools menu now lists %s", self.id, sorted(t.value for t in offered))
            self.capabilities = replace(self.capabilities, tools=offered)

    def has_free_tab(self) -> bool:
        return self.active < self._settings.tabs_per_account

    def cool(self, quota: str, until: float) -> None:
        self.cooling_until[quota] = until
        log.info("account %s cooling for %s until %.0f", self.id, quota, until)
        self._persist_cooldown()

    def block(self, reason: str, needs: NeedsPerson | None = None) -> None:
        """Out of rotation until ``blocked_until``; ``needs`` says what a person must do (a wall
        named by ``reason``, captcha or consent, says it by itself)."""
        self._needs(needs or _WALLS.get(reason))
        self.health = AccountState.BLOCKED
        self.blocked_until = time.time() + self.backoff
        self.backoff = min(self.backoff * 2, self._settings.block_backoff_max)
        self.last_error = reason
        self.reason = reason
        log.warning("account %s blocked (%s)", self.id, reason)
        self._persist_cooldown()

    def _signed_out(self, reason: str, needs: NeedsPerson = NeedsPerson.SIGNED_OUT) -> None:
        """Out of rotation; re-checked after the block backoff (doubling), since a session may come
        back (cookies replaced in the store, a verdict misread)."""
        self._needs(needs)
        self.health = AccountState.SIGNED_OUT
        self.last_error = reason
        self.reason = reason
        self.recheck_at = time.time() + self.backoff
        self.backoff = min(self.backoff * 2, self._settings.block_backoff_max)

    def suspect(self, reason: str) -> None:
        """Out of rotation until the pool's re-check (``start``) says what the account is now."""
        self.health = AccountState.STARTING
        self.last_error = reason
        self.reason = reason

    def recheck_due(self, now: float) -> bool:
        """True when the pool should ``start`` the account again (its backoff is over)."""
        if self.health is AccountState.FAILED:
            return self.recheck_at is None or self.recheck_at <= now
        if self.health is AccountState.SIGNED_OUT:
            return self.recheck_at is not None and self.recheck_at <= now
        if self.health is AccountState.BLOCKED:
            return (self.blocked_until or 0) <= now
        if self.health is AccountState.READY:
            # A session may end while no turn comes (an imported device-bound cookie's lifetime).
            interval = self._settings.session_check_interval
            return bool(interval) and self.read_at is not None and now - self.read_at >= interval
        return False

    def note_success(self) -> None:
        """A served turn: the next block starts again from the first backoff."""
        self.backoff = self._settings.block_backoff
        self.turns_served += 1

    def mark_failed(self, reason: str) -> None:
        """Failed (crash, launch error): rebuilt after a backoff that doubles while rebuilds fail."""
        if self.health is not AccountState.SIGNED_OUT:
            self.health = AccountState.FAILED
            self.recheck_at = time.time() + self._failure_backoff
            self._failure_backoff = min(self._failure_backoff * 2, self._settings.block_backoff_max)
        self.last_error = reason

    def apply_page_state(self, state: PageState) -> None:
        """What a turn found the page to be; the page, not the load-time status answer, says so now."""
        if state is PageState.SIGNED_OUT:
            self._signed_out("signed out")
        elif state is PageState.VERIFY:
            self._signed_out(VERIFY_REASON, NeedsPerson.VERIFY)
        elif state in (PageState.CAPTCHA, PageState.CONSENT):
            self.block(state.value)
            if state is PageState.CAPTCHA:
                self._captcha_seen()
        else:
            return
        self.status_code = None
        self.status_source = StatusSource.PAGE

    def _apply_verdict(self, verdict: StatusVerdict) -> None:
        self.read_at = time.time()
        self.capabilities = verdict.capabilities
        self.status_code = verdict.status_code
        self.status_source = verdict.source
        self.reason = verdict.reason
        if verdict.verdict is Verdict.READY:
            if self.session_started_at is None:
                # Session age counts from here: the first time this session was read working.
                self.session_started_at = time.time()
                self._persist_session()
            self._needs(None)
            self.health = AccountState.READY
            # The backoff survives a good page load: an IP block (1060) may only show on a turn,
            # so it is reset by a served turn (``note_success``), letting repeats double.
            self.blocked_until = None
            self.recheck_at = None
            self._failure_backoff = self._settings.health_interval
            self.last_error = None
        elif verdict.verdict is Verdict.SIGNED_OUT:
            self._signed_out(verdict.reason or "signed out", verdict.needs_person or NeedsPerson.SIGNED_OUT)
        else:
            self.block(verdict.reason or "blocked", verdict.needs_person)
            if verdict.reason == PageState.CAPTCHA.value:  # ``judge``: the page was sent to the wall
                self._captcha_seen()

    def _captcha_seen(self) -> None:
        if self.on_captcha is not None:
            self.on_captcha(self)

    # -- lifecycle --

    async def start(self) -> None:
        """(Re)build the context and the warm page, then read the page's state and capabilities."""
        async with self._lock:
            self.health = AccountState.STARTING
            try:
                await self._close_context()
                self.context = await self._launcher.account_context(self.id, self.proxy, profile=self.profile)
                self.context.watch(self._on_response, self._on_context_closed)
                # A profile account's own cookies win over stored ones: the profile is where the
                # session was signed in and where every later change lands first (a new sign-in
                # made while the gateway was stopped, the page's rotations, a device-bound
                # session's refresh, whose key stays in the profile too). The store is a copy
                # taken after the fact; writing it back could put an older, signed-out session
                # over a fresh one. (At worst, after a kill -9, the profile's ticket is a few
                # seconds older than the stored one: still valid, and the page rotates it.)
                # Except a profile with no session at all: Chromium writes its cookie file lazily
                # and, on a loaded machine, was seen to exit without writing a session added a
                # moment before (a relaunch right after a sign-in found an empty jar). The copy
                # read from this profile is then the only session the account has.
                if not self.profile or (self.cookies and not await self._profile_has_session()):
                    with map_playwright_errors("restore cookies"):
                        await self.context.add_cookies(
                            _cookies.for_site(self.cookies, self._settings.base_url)
                        )
                page = await self._new_tab()
                verdict = await self._read_app(page)
            except BrowserError as exc:
                self.mark_failed(f"{type(exc).__name__}: {exc}")
                log.warning("account %s failed to start: %s", self.id, self.last_error)
                return
            except Exception as exc:
                # Not ours, so its message may quote anything (a cookie, page text): keep the type.
                self.mark_failed(f"unexpected {type(exc).__name__} while starting")
                log.warning("account %s failed to start: %s", self.id, self.last_error)
                log.debug("start failure of %s", self.id, exc_info=True)
                return
            except BaseException:
                # Cancelled (pool closing, caller gone): never leave the account "starting".
                self.mark_failed("start interrupted")
                raise
            self._free_tabs.add(page)
            self._apply_verdict(verdict)
            self._carry_block()
            if self.health is AccountState.READY:
                self._blank.mark(page)
            self._persist_cooldown()  # a block lifted by this read, or one carried over
        if self.health is AccountState.READY and self.capabilities.tier != "anon":
            await self.read_gems()  # a signed-out visitor has no Gems to list

    async def read_gems(self) -> tuple[Gem, ...]:
        """List the account's Gems again (bounded by ``ui_timeout``). A failed listing keeps the
        earlier list: Gems rarely change, and a turn on a Gem that is gone fails on its own page."""
        try:
            self.gems = await list_gems(self.context, timeout=self._settings.ui_timeout)
        except BrowserError as exc:
            log.warning("account %s: listing its Gems failed: %s", self.id, type(exc).__name__)
        return self.gems

    async def _read_app(self, page: Page) -> StatusVerdict:
        """Open the app on ``page`` and judge the account from what the page and otAQ7b say."""
        driver = PageDriver(page, self._settings)
        # Armed before the navigation: the page asks otAQ7b as it loads.
        async with StatusWatch(page, self._settings.ui_timeout) as watch:
            page_state = await driver.open("/app")
            # Sent away from the app (sign-in, captcha, consent): no app, so no answer to await.
            outcome = None if driver.left_the_app() else await watch.outcome()
        return await judge(driver, page_state, outcome)

    async def recheck_in_place(self) -> None:
        """Re-read the page's state and capabilities in the context the account has now, after a
        sign-in made in it (``BrowserPool.live_view``). ``start`` would build a new context: a
        shared-mode one keeps only the cookies, and the sign-in left more in this browser, such as
        the key of a device-bound session in the origin's IndexedDB (protocol.md §1.4), without
        which the session dies within hours. Without a context, a plain start."""
        if self.context is None:
            await self.start()
            return
        async with self._lock:
            self.health = AccountState.STARTING
            try:
                page = await self.take_tab()
                await self._blank.claim(page, "/app")  # its background load, if any, settles first
                verdict = await self._read_app(page)
            except BrowserError as exc:
                self.mark_failed(f"{type(exc).__name__}: {exc}")
                log.warning("account %s failed its re-check: %s", self.id, self.last_error)
                return
            except Exception as exc:  # not ours: its message may quote anything, keep the type
                self.mark_failed(f"unexpected {type(exc).__name__} while re-checking")
                log.warning("account %s failed its re-check: %s", self.id, self.last_error)
                return
            except BaseException:
                self.mark_failed("re-check interrupted")
                raise
            self._free_tabs.add(page)
            self._apply_verdict(verdict)
            if self.health is AccountState.READY:
                self._blank.mark(page)
        if self.health is AccountState.READY and self.capabilities.tier != "anon":
            await self.read_gems()  # a signed-out visitor has no Gems to list

    def _on_context_closed(self) -> None:
        if self.health not in (AccountState.SIGNED_OUT,):
            self.health = AccountState.FAILED
            self.last_error = "browser context closed"
            if self.on_lost is not None:
                self.on_lost(self)

    def _on_response(self, response: Response) -> None:
        """The page's cookie rotation answered (``/RotateCookies``, or ``/RotateBoundCookies`` for a
        device-bound session): note a fresh ``__Secure-1PSIDTS`` or a dead session, and store the
        cookies now, not at the next turn or periodic save (a gateway killed meanwhile would lose
        them)."""
        if not _is_rotation(response.url):
            return
        task = asyncio.get_running_loop().create_task(self._after_rotation(response))
        self._saves.add(task)
        task.add_done_callback(self._saves.discard)

    async def _after_rotation(self, response: Response) -> None:
        try:
            # Set-Cookie is only in the full header list (``headers`` leaves it out).
            headers = [(h["name"], h["value"]) for h in await response.headers_array()]
        except Exception:  # the context went away meanwhile: nothing to read
            headers = []
        outcome = rotation_outcome(response.url, response.status, headers)
        if outcome is Rotation.DEAD and self.health in (AccountState.READY, AccountState.STARTING):
            log.warning("account %s: the cookie rotation answered 401: the session is dead", self.id)
            self._signed_out("cookies expired (the cookie rotation answered 401)", NeedsPerson.EXPIRED)
            self.status_code = None
            self.status_source = StatusSource.NETWORK
            return
        if outcome is not Rotation.FRESH:
            return
        self.last_rotation_at = time.time()
        try:
            await asyncio.wait_for(self.save_cookies(), self._settings.ui_timeout)
        except Exception:  # the periodic save and the next turn's save try again
            log.warning("saving the rotated cookies of %s failed", self.id)
        await self._write_session()

    async def _new_tab(self) -> Page:
        context = self.context
        if context is None:
            raise TargetClosed("the account has no browser context")
        with map_playwright_errors("new tab"):
            # The context's first page (a persistent profile opens with one) is used once.
            unused = [
                page
                for page in context.pages
                if page not in self._tabs and page not in self._side_tabs and not page.is_closed()
            ]
            if unused:
                page = unused[0]
            else:
                async with asyncio.timeout(self._settings.navigation_timeout):
                    page = await context.new_page()
        if self.context is not context:  # restarted meanwhile: this page belongs to nobody
            with contextlib.suppress(Exception):
                await page.close()
            raise TargetClosed("the account restarted while a tab was opening")
        self._tabs.add(page)
        return page

    async def new_side_tab(self) -> Page:
        """A new tab of the account's context that is none of its turn tabs (a live view's): the
        caller owns and closes it; a restart of the account closes it with the context."""
        context = self.context
        if context is None:
            raise TargetClosed(f"account {self.id!r} has no browser context")
        with map_playwright_errors("new side tab"):
            async with asyncio.timeout(self._settings.navigation_timeout):
                page = await context.new_page()
        self._side_tabs.add(page)
        page.on("close", self._side_tab_closed)
        return page

    def _side_tab_closed(self, page: Page) -> None:
        self._side_tabs.discard(page)

    async def take_tab(self) -> Page:
        """A page for one turn (the warm page first; more are opened up to ``tabs_per_account``)."""
        while self._free_tabs:
            page = self._free_tabs.pop()
            if not page.is_closed():
                return page
            self._tabs.discard(page)
        return await self._new_tab()

    async def claim_tab(self, page: Page, path: str) -> bool:
        """True when the leased ``page`` already shows ``path`` (a blank new chat, or the chat
        its last turn finished), ready to type without navigating."""
        return await self._blank.claim(page, path)

    def return_tab(self, page: Page, chat_path: str | None = None) -> None:
        """Back from a turn (that finished ``chat_path`` cleanly, if given); a healthy account's
        tab stays there briefly for a follow-up, then goes back to a blank chat."""
        if page not in self._tabs or page.is_closed():
            # Closed, or a page of a context replaced since it was leased.
            self._blank.forget(page)
            self._tabs.discard(page)
            return
        self._free_tabs.add(page)
        if self.health is AccountState.READY:
            self._blank.prepare(page, chat_path)

    async def save_cookies(self) -> None:
        """Write the context's current cookies (rotated ``__Secure-1PSIDTS`` included) to the store.

        Saves come from turns, the periodic loop and rotations at once; one at a time per account
        (read, then write, under one lock), and the store keeps the newest read whatever the
        order in which writes land."""
        async with self._save_lock:
            context = self.context
            if context is None or self.health is AccountState.FAILED:
                return
            read_at = time.time()
            try:
                raw = await context.cookies()
            except Exception:  # a dead context has nothing newer than what is stored
                return
            fresh = _cookies.from_context(list(raw), self._settings.base_url)
            if any(cookie.name == _cookies.PSID for cookie in fresh):
                key = session_key(_psid(fresh))
                if key != self.session_key:
                    # Another session (signed in again in this browser): its age starts over.
                    self.session_key = key
                    self.session_started_at = read_at if self.health is AccountState.READY else None
                    self.last_rotation_at = None
                    await self._write_session()
                self.cookies = fresh
                await self._store.save(self.id, fresh, read_at=read_at)
                self.cookies_saved_at = read_at

    async def _profile_has_session(self) -> bool:
        context = self.context
        assert context is not None
        with map_playwright_errors("read the profile's cookies"):
            raw = await context.cookies()
        return any(c.name == _cookies.PSID for c in _cookies.from_context(list(raw), self._settings.base_url))

    async def _close_context(self) -> None:
        context, self.context = self.context, None
        self._free_tabs.clear()
        self._tabs.clear()
        await self._blank.clear()
        if context is not None:
            try:
                await context.close()
            except Exception:  # already closed or crashed
                log.debug("context close failed", exc_info=True)

    async def close(self) -> None:
        """Save cookies, then close the context (idempotent)."""
        for task in list(self._saves):
            task.cancel()
        await self.save_cookies()
        await self._write_session()
        await self._write_cooldown()
        await self._close_context()


def _psid(cookies: list[Cookie]) -> str | None:
    return next((cookie.value for cookie in cookies if cookie.name == _cookies.PSID), None)


def _is_rotation(url: str) -> bool:
    return rotation_outcome(url, 0, []) is not None
