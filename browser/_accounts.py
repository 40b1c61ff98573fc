"""Accounts: what a caller adds (``AccountSpec``), what it sees (``AccountInfo``), and the runtime
``Account`` that owns one browser context, its warm page(s) and its state machine.

States: starting → ready ⇄ busy; ready → cooling (per model family, until a time) → ready;
any → signed_out (out of rotation) | blocked (captcha, consent, 1060; until a backoff ends) |
failed (crash or launch error; rebuilt by the pool).
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import time
from dataclasses import dataclass, field

from playwright.async_api import BrowserContext, Page

from browser import _cookies
from browser._blank import BlankTabs
from browser._cookies import Cookie
from browser._driver import Capabilities, PageDriver, PageState
from browser._launcher import Launcher, proxy_host
from browser._playwright_errors import map_playwright_errors
from browser._requests import ModeFamily, Tool, TurnRequest
from browser._settings import PoolSettings
from browser._store import CookieStore
from browser.errors import BrowserError, CookieFormatError, TargetClosed

log = logging.getLogger(__name__)


class AccountState(enum.StrEnum):
    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    COOLING = "cooling"
    SIGNED_OUT = "signed_out"
    BLOCKED = "blocked"
    FAILED = "failed"


@dataclass(frozen=True)
class AccountSpec:
    """An account to add: ``psid`` (optionally ``psidts``), or ``cookies`` (a JSON export as a list)
    or ``cookie_file_text`` (JSON or Netscape text). ``name`` becomes the id when given."""

    name: str | None = None
    psid: str | None = field(default=None, repr=False)
    psidts: str | None = field(default=None, repr=False)
    cookies: list[dict[str, object]] | None = field(default=None, repr=False)
    cookie_file_text: str | None = field(default=None, repr=False)
    proxy: str | None = field(default=None, repr=False)

    def parse_cookies(self) -> list[Cookie]:
        if self.psid:
            return _cookies.from_session(self.psid, self.psidts)
        if self.cookies is not None:
            return _cookies.parse_export(json.dumps(self.cookies))
        if self.cookie_file_text:
            return _cookies.parse_export(self.cookie_file_text)
        raise CookieFormatError("an account needs psid, cookies or cookie_file_text")


@dataclass(frozen=True)
class AccountInfo:
    """A snapshot of one account for callers (no secrets: the proxy is shown without credentials)."""

    id: str
    name: str
    state: AccountState
    cooling_until: dict[ModeFamily, float]
    blocked_until: float | None
    tier: str
    modes: frozenset[ModeFamily]
    tools: frozenset[Tool]
    active_turns: int
    last_error: str | None
    proxy: str | None


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
    ) -> None:
        self.id = account_id
        self.name = name
        self.cookies = cookies
        self.proxy = proxy
        self._settings = settings
        self._launcher = launcher
        self._store = store
        self.health = AccountState.STARTING
        self.capabilities = Capabilities(tier="anon")
        self.cooling_until: dict[ModeFamily, float] = {}
        self.blocked_until: float | None = None
        self.backoff = settings.block_backoff
        self.last_error: str | None = None
        self.active = 0
        self.context: BrowserContext | None = None
        self._free_tabs: list[Page] = []
        self._tab_count = 0
        self._blank = BlankTabs(settings)
        self._lock = asyncio.Lock()

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
        for family in [f for f, until in self.cooling_until.items() if until <= now]:
            del self.cooling_until[family]

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
        )

    def offers(self, request: TurnRequest) -> bool:
        """Capability fit, whatever the current load or cooldown."""
        if request.account_id is not None and request.account_id != self.id:
            return False
        caps = self.capabilities
        if request.mode not in caps.modes:
            return False
        if request.tool is not None and request.tool not in caps.tools:
            return False
        if request.paid_only and caps.tier != "paid":
            return False
        return not ((request.gem or request.attachments) and caps.tier == "anon")

    def cooling_for(self, family: ModeFamily) -> float | None:
        self._expire_cooling()
        return self.cooling_until.get(family)

    def has_free_tab(self) -> bool:
        return self.active < self._settings.tabs_per_account

    def cool(self, family: ModeFamily, until: float) -> None:
        self.cooling_until[family] = until
        log.info("account %s cooling for %s until %.0f", self.id, family.value, until)

    def block(self, reason: str) -> None:
        self.health = AccountState.BLOCKED
        self.blocked_until = time.time() + self.backoff
        self.backoff = min(self.backoff * 2, self._settings.block_backoff_max)
        self.last_error = reason
        log.warning("account %s blocked (%s)", self.id, reason)

    def note_success(self) -> None:
        """A served turn: the next block starts again from the first backoff."""
        self.backoff = self._settings.block_backoff

    def mark_failed(self, reason: str) -> None:
        if self.health is not AccountState.SIGNED_OUT:
            self.health = AccountState.FAILED
        self.last_error = reason

    def apply_page_state(self, state: PageState) -> None:
        if state is PageState.SIGNED_OUT:
            self.health = AccountState.SIGNED_OUT
            self.last_error = "signed out"
        elif state in (PageState.CAPTCHA, PageState.CONSENT):
            self.block(state.value)

    # -- lifecycle --

    async def start(self) -> None:
        """(Re)build the context and the warm page, then read the page's state and capabilities."""
        async with self._lock:
            self.health = AccountState.STARTING
            try:
                await self._close_context()
                self.context = await self._launcher.new_context(self.id, self.proxy)
                self.context.on("close", self._on_context_closed)
                with map_playwright_errors("restore cookies"):
                    await self.context.add_cookies(_cookies.for_site(self.cookies, self._settings.base_url))
                page = await self._new_tab()
                driver = PageDriver(page, self._settings)
                page_state = await driver.open("/app")
                self.capabilities = await driver.capabilities(page_state)
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
            self._free_tabs.append(page)
            if page_state is PageState.READY:
                self._blank.mark(page)
                self.health = AccountState.READY
                # The backoff survives a good page load: an IP block (1060) only shows on a turn,
                # so it is reset by a served turn (``note_success``), letting repeats double.
                self.blocked_until = None
                self.last_error = None
            else:
                self.apply_page_state(page_state)

    def _on_context_closed(self, _context: object) -> None:
        if self.health not in (AccountState.SIGNED_OUT,):
            self.health = AccountState.FAILED
            self.last_error = "browser context closed"

    async def _new_tab(self) -> Page:
        if self.context is None:
            raise TargetClosed("the account has no browser context")
        with map_playwright_errors("new tab"):
            pages = self.context.pages
            page = pages[0] if pages and self._tab_count == 0 else await self.context.new_page()
        self._tab_count += 1
        return page

    async def take_tab(self) -> Page:
        """A page for one turn (the warm page first; more are opened up to ``tabs_per_account``)."""
        while self._free_tabs:
            page = self._free_tabs.pop()
            if not page.is_closed():
                return page
            self._tab_count -= 1
        return await self._new_tab()

    async def claim_tab(self, page: Page, path: str) -> bool:
        """True when the leased ``page`` already shows ``path`` (a blank new chat, or the chat
        its last turn finished), ready to type without navigating."""
        return await self._blank.claim(page, path)

    def return_tab(self, page: Page, chat_path: str | None = None) -> None:
        """Back from a turn (that finished ``chat_path`` cleanly, if given); a healthy account's
        tab stays there briefly for a follow-up, then goes back to a blank chat."""
        if page.is_closed():
            self._blank.forget(page)
            self._tab_count = max(0, self._tab_count - 1)
            return
        self._free_tabs.append(page)
        if self.health is AccountState.READY:
            self._blank.prepare(page, chat_path)

    async def save_cookies(self) -> None:
        """Write the context's current cookies (rotated ``__Secure-1PSIDTS`` included) to the store."""
        context = self.context
        if context is None or self.health is AccountState.FAILED:
            return
        try:
            raw = await context.cookies()
        except Exception:  # a dead context has nothing newer than what is stored
            return
        fresh = _cookies.from_context(list(raw), self._settings.base_url)
        if any(cookie.name == _cookies.PSID for cookie in fresh):
            self.cookies = fresh
            await self._store.save(self.id, fresh)

    async def _close_context(self) -> None:
        context, self.context = self.context, None
        self._free_tabs.clear()
        await self._blank.clear()
        self._tab_count = 0
        if context is not None:
            context.remove_listener("close", self._on_context_closed)
            try:
                await context.close()
            except Exception:  # already closed or crashed
                log.debug("context close failed", exc_info=True)

    async def close(self) -> None:
        """Save cookies, then close the context (idempotent)."""
        await self.save_cookies()
        await self._close_context()
