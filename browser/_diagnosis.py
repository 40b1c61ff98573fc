"""One account's app page examined for ``doctor``: what the gateway relies on, checked in place.

The page is opened in a context of its own (never the pool's, never the cookie store's: a doctor must
not rotate the session the gateway keeps) and judged the way ``Account.start`` judges it (the
page's ``otAQ7b`` answer, else its markers). Then every element of the selector table is looked for
where the driver would meet it: on the loaded page, in the mode and tools menus, behind the upload
button, and (the send button) with text typed but never sent. Elements that exist only during a
turn are named as not checked: the doctor sends nothing. Page tokens are reported by name only; their
values never leave the page.

The page is also asked what it can observe about the browser (``Presentation``): a page told that it
runs in an automated or headless browser (another build at ``chromium_path``, e.g. Debian's
``chromium-headless-shell``, or a remote browser started another way) is a problem; the lesser signs
a normal Chromium window shows and a remote browser may legitimately lack are warnings only.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Browser, Locator, Page, Playwright, Request, Response, async_playwright

from browser import _selectors as S
from browser._accounts import AccountSpec
from browser._capabilities import Capabilities, PageModel, ThinkingControl
from browser._cookies import account_id_for, for_site
from browser._driver import PageDriver, PageState
from browser._evidence import RequestLog, bundle, page_outline, probe_exchange
from browser._launcher import Launcher, proxy_settings
from browser._playwright_errors import map_playwright_errors
from browser._requests import ModeFamily, Tool
from browser._settings import LaunchMode, PoolSettings
from browser._status import StatusOutcome, StatusSource, StatusVerdict, StatusWatch, Verdict, judge
from browser.errors import BrowserError, DriverError, StepTimeout
from browser.protocol import ACCOUNT_STATUS_RPC, AccountStatusAnswer

__all__ = ["Diagnosis", "ElementCheck", "Presence", "Presentation", "RpcCall", "diagnose"]

# ``window.WIZ_global_data`` keys the gateway or the page's own requests use
# (docs/architecture/wire-protocol.md#page-tokens), with what each is for. Any one of
# ``S.SESSION_TOKEN_KEYS`` is the XSRF token.
PAGE_TOKENS: dict[str, str] = {
    **{key: "XSRF token (at)" for key in S.SESSION_TOKEN_KEYS},
    "cfb2h": "build label (bl)",
    "FdrFJe": "session id (f.sid)",
    "TuX5cc": "language (hl)",
    "qKIAYe": "upload Push-ID",
}

# Where each element of the table is met, by table key. Every ``Sel`` of the table is in exactly one
# phase (a test keeps it so), so a selector added to the table is placed here or fails that test.
ON_LOAD = (
    "editor",
    "mode_picker",
    "mode_picker_aria",
    "mode_picker_text",
    "tools_opener",
    "upload_opener",
    "chat_content",
)
# Counted once the page loaded, never awaited: one of the two sign-in markers is absent on any page,
# and the side nav comes with the page (its "Temporary chat" button only for a signed-in account).
MARKERS = ("signed_in", "signed_out", "side_nav_opener", "temp_chat_button")
IN_MODE_MENU = ("mode_items", "mode_item_label", "mode_item_sublabel", "selected", "open_menu", "menu_items")
IN_TOOLS_MENU = ("tool_items", "tool_icon", "more_tools")
BEHIND_UPLOAD = ("file_input",)
WITH_TEXT = ("send",)
IN_TURN: dict[str, str] = {
    "stop": "shown only while an answer runs",
    "model_response": "shown only once a turn was sent",
    "answer_markdown": "shown only once a turn was sent",
    "message_actions": "shown only once an answer completed",
    "response_error": "shown only for a failed answer",
    "upload_chip": "shown only once a file was attached",
    "upload_busy": "shown only while a file uploads",
    "tool_chip": "shown only once a tool was chosen",
    "temp_chat_on": "shown only once a temporary chat was turned on",
}
# What every turn needs (``PageDriver.insert_prompt``, ``send``, ``choose_mode``); the tools and upload
# elements are needed when the account offers tools / takes files (a signed-in page).
ALWAYS_NEEDED = ("editor", "send", "mode_picker", "mode_items")
NEEDED_FOR_TOOLS = ("tools_opener", "tool_items")
NEEDED_FOR_FILES = ("upload_opener", "file_input")
# ``current_mode_label`` reads the picker's aria-label (mid 2026 on) or its text (earlier): one suffices.
ONE_OF_NEEDED = ("mode_picker_aria", "mode_picker_text")

_MS = 1000.0
_State = Literal["attached", "visible"]
_PROBE_TEXT = "doctor"  # typed to make the send button appear; never sent
_ESCAPES = 3
_NOT_SIGNED_IN = 7  # the rejection code of a signed-out visitor's RPCs (as ``_status`` reads it)
# The product name a headless build puts in its user agent and client-hint brands; a page that reads
# it knows no one is looking at the window.
HEADLESS_MARK = "HeadlessChrome"


class Presence(enum.StrEnum):
    MATCHED = "matched"
    UNMATCHED = "unmatched"  # looked for where the driver meets it; no candidate of the table matched
    NOT_CHECKED = "not_checked"  # the doctor could not, or would not, bring the page to that state


@dataclass(frozen=True)
class ElementCheck:
    """One element of the selector table: ``selector`` is its first candidate (in table order) that
    matched, ``matched`` every candidate that did; ``note`` says where it was looked for or why not."""

    name: str
    presence: Presence
    selector: str | None
    matched: tuple[str, ...]
    candidates: int
    needed: bool
    note: str
    key: str = ""  # the table key (what an override file names)
    entry: str | None = None  # which entry matched first: "built-in N" or "override N"


@dataclass(frozen=True)
class RpcCall:
    """One rpc id of a batchexecute request the page sent; ``status`` None: it failed or got no answer."""

    rpc_id: str
    status: int | None


@dataclass(frozen=True)
class Presentation:
    """What the page can observe about the browser it runs in (read in the page, as a site would)."""

    webdriver: bool  # ``navigator.webdriver``: true in a browser under automation
    user_agent: str
    brands: tuple[str, ...] | None  # client-hint brands as "name/version"; None: the page gets none
    window_chrome: bool  # ``window.chrome`` exists
    plugins: int  # ``navigator.plugins.length``
    pdf_viewer: bool  # ``navigator.pdfViewerEnabled``

    @property
    def problems(self) -> tuple[str, ...]:
        """Signs no normal Chromium window shows: a site may treat the session as a bot."""
        found: list[str] = []
        if self.webdriver:
            found.append("the page sees an automated browser (navigator.webdriver is true)")
        told = [
            where
            for where, says in (
                ("the user agent", HEADLESS_MARK in self.user_agent),
                ("the client-hint brands", any(HEADLESS_MARK in brand for brand in self.brands or ())),
            )
            if says
        ]
        if told:
            found.append(
                f"the page is told the browser is headless ({HEADLESS_MARK} in {' and '.join(told)})"
            )
        return tuple(found)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Signs a normal Chromium window shows and this browser lacks; a remote browser or another
        build may differ here and still serve, so these never fail the doctor."""
        found: list[str] = []
        if not self.window_chrome:
            found.append("the page sees no window.chrome (a normal Chromium window has one)")
        if self.plugins == 0:
            found.append(
                "the page sees no plugins (navigator.plugins is empty; a normal window lists the PDF viewer)"
            )
        if not self.pdf_viewer:
            found.append("the page sees no PDF viewer (navigator.pdfViewerEnabled is false)")
        return tuple(found)


@dataclass(frozen=True)
class Diagnosis:
    """What the account's page offers the gateway. No cookie or token value is held here."""

    account_id: str
    signed_in: bool
    verdict: str  # ready | signed_out | blocked
    source: str  # "account_status" (the page's otAQ7b answer) or "page" (its markers and menus)
    status_code: int | None
    reason: str | None
    page_state: str | None  # what the page's markers and URL say (ready, signed_out, captcha, consent)
    tier: str
    modes: frozenset[ModeFamily]
    tools: frozenset[Tool]
    models: tuple[PageModel, ...]
    elements: tuple[ElementCheck, ...]
    tokens: tuple[str, ...]  # names of the page tokens found (never their values)
    rpcs: tuple[RpcCall, ...]
    presentation: Presentation
    open_error: str | None = None  # the page did not settle; what the driver said
    # How the picker sets thinking (``ThinkingControl``) and the UI generation that implies.
    thinking: str = ThinkingControl.NONE.value
    ui_generation: str = "unknown"
    # The otAQ7b answer as decoded (None: none was read): status, models, flags, capacity.
    account_status: AccountStatusAnswer | None = None
    # ``doctor --record``: the evidence bundle (``browser._evidence``); None otherwise.
    evidence: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def problems(self) -> tuple[str, ...]:
        """What the gateway needs and this page lacks; empty when the account would serve."""
        found: list[str] = []
        if not self.signed_in:
            what = "blocked" if self.verdict == Verdict.BLOCKED.value else "not signed in"
            found.append(f"{what}: {self.reason or self.verdict}: {_FIX_SESSION}")
        if not any(call.rpc_id == ACCOUNT_STATUS_RPC for call in self.rpcs):
            found.append(
                f"the page called no account-status RPC ({ACCOUNT_STATUS_RPC}): the gateway reads the "
                f"models from the picker instead; {_FIX_REPORT}"
            )
        if not set(S.SESSION_TOKEN_KEYS) & set(self.tokens):
            found.append(
                f"no XSRF token on the page ({' or '.join(S.SESSION_TOKEN_KEYS)}): side RPCs (chat "
                f"deletion, full-size images, research and video polling) cannot be sent; {_FIX_REPORT}"
            )
        if self.signed_in and not self.modes:
            found.append(f"the page offers no model the table recognises; {_FIX_LABELS}")
        for check in self.elements:
            if check.needed and check.presence is Presence.UNMATCHED:
                found.append(
                    f"no selector of the table matches the {check.name} ({check.note}): add one under "
                    f"selectors.{check.key} in the page override file; {_FIX_REPORT}"
                )
            elif check.needed and check.presence is Presence.NOT_CHECKED:
                found.append(f"the {check.name} could not be checked ({check.note})")
        by_key = {check.key: check for check in self.elements}
        either = [by_key[key] for key in ONE_OF_NEEDED]
        if self.signed_in and all(check.presence is Presence.UNMATCHED for check in either):
            names = " nor the ".join(check.name for check in either)
            found.append(
                f"neither the {names} matches: the current mode cannot be read; add a selector under "
                f"selectors.mode_picker_aria or selectors.mode_picker_text in the page override file"
            )
        found.extend(self.presentation.problems)
        return tuple(found)

    @property
    def warnings(self) -> tuple[str, ...]:
        """What looks unusual but does not stop the account from serving (no exit code 1)."""
        found = list(self.presentation.warnings)
        if self.signed_in and self.thinking == ThinkingControl.NONE.value:
            found.append(
                "the picker shows no thinking control the table knows: reasoning_effort is ignored on "
                f"this account; if the page has one, {_FIX_LABELS}"
            )
        if self.signed_in and not self.tools:
            found.append(f"the tools menu lists no tool the table recognises; if it has some, {_FIX_LABELS}")
        return tuple(found)


async def diagnose(
    settings: PoolSettings,
    spec: AccountSpec,
    *,
    record: bool = False,
    playwright: Playwright | None = None,
    browser: Browser | None = None,
) -> Diagnosis:
    """Open the app page for ``spec`` in its own browser context and report what it offers; with
    ``record``, also collect an evidence bundle (one probe prompt is sent in a new chat, deleted after).

    ``playwright`` and ``browser`` are lent as to ``BrowserPool`` (the browser in shared launch mode
    only): neither is started nor closed here, only the context opened in them.

    Raises ``CookieFormatError`` / ``InvalidProxy`` for a bad spec, ``LaunchFailed`` when no browser
    starts, ``StepTimeout`` when the whole examination outlasts its bound, other ``BrowserError``s
    when the page cannot be driven at all."""
    cookies = spec.parse_cookies()
    if spec.proxy:
        proxy_settings(spec.proxy)
    account_id = account_id_for(spec.name, cookies)
    # Each bounded step at its bound, so the doctor always ends; the presentation read is one UI step.
    budget = 2 * settings.launch_timeout + 2 * settings.navigation_timeout + 17 * settings.ui_timeout
    if record:
        budget += settings.navigation_timeout + settings.first_frame_timeout + 8 * settings.ui_timeout
    if browser is not None and playwright is None:
        raise BrowserError("a lent browser needs the Playwright it was started from")
    if browser is not None and settings.launch_mode is not LaunchMode.SHARED:
        raise BrowserError(f"a browser can be lent in launch_mode=shared only, not {settings.launch_mode}")
    try:
        async with asyncio.timeout(budget), _playwright(playwright) as driver:
            launcher = Launcher(settings, driver, browser)
            try:
                context = await launcher.new_context(account_id, spec.proxy)
                try:
                    with map_playwright_errors("restore cookies"):
                        await context.add_cookies(for_site(cookies, settings.base_url))
                    with map_playwright_errors("new tab"):
                        page = context.pages[0] if context.pages else await context.new_page()
                    return await _examine(page, settings, account_id, record=record)
                finally:
                    with contextlib.suppress(Exception):
                        await context.close()
            finally:
                await launcher.close()
    except TimeoutError:
        raise StepTimeout(f"the diagnosis took longer than {budget:.0f}s", step="diagnose") from None


@contextlib.asynccontextmanager
async def _playwright(lent: Playwright | None) -> AsyncIterator[Playwright]:
    """The lent Playwright as it is, or a driver of its own, stopped after."""
    if lent is not None:
        yield lent
        return
    async with async_playwright() as started:
        yield started


async def _examine(page: Page, settings: PoolSettings, account_id: str, *, record: bool) -> Diagnosis:
    rpcs = _RpcLog(page)
    requests = RequestLog(page)
    driver = PageDriver(page, settings)
    page_state: PageState | None = None
    open_error: str | None = None
    async with StatusWatch(page, settings.ui_timeout) as watch:
        try:
            page_state = await driver.open("/app")
        except StepTimeout as exc:
            # The page never settled (e.g. no editor the table knows): still look at what it has.
            open_error = str(exc)
        outcome = None if driver.left_the_app() else await watch.outcome()
    verdict = await _verdict(driver, page_state, outcome, open_error)
    left = driver.left_the_app()
    # Read on any page, the app's or a wall's: what the browser tells a site is the same on both.
    presentation = await _presentation(page, settings)
    tokens = () if left else await _tokens(page, settings)
    elements = await _Probe(page, driver, settings).run(page_state, verdict, left)
    thinking = verdict.capabilities.thinking
    evidence = None
    if record:
        ready = verdict.verdict is Verdict.READY
        evidence = await _evidence(driver, settings, outcome, requests, signed_in=ready)
    return Diagnosis(
        account_id=account_id,
        signed_in=verdict.verdict is Verdict.READY,
        verdict=verdict.verdict.value,
        source=verdict.source.value,
        status_code=verdict.status_code,
        reason=verdict.reason,
        page_state=page_state.value if page_state is not None else None,
        tier=verdict.capabilities.tier,
        modes=verdict.capabilities.modes,
        tools=verdict.capabilities.tools,
        models=verdict.capabilities.models,
        elements=elements,
        tokens=tokens,
        rpcs=rpcs.calls(),
        presentation=presentation,
        open_error=open_error,
        thinking=thinking.value,
        ui_generation=UI_GENERATIONS[thinking],
        account_status=outcome.answer if outcome is not None else None,
        evidence=evidence,
    )


_FIX_SESSION = "add a fresh cookie for it (admin API or `accounts add`), or sign it in again"
_FIX_REPORT = "record `doctor --record FILE` and attach the file to a bug report"
_FIX_LABELS = (
    f"add its labels under labels.* in the page override file (browser.page_overrides_file) and {_FIX_REPORT}"
)


# The UI generation a thinking control belongs to (docs/architecture/page-model.md#thinking-levels).
UI_GENERATIONS: dict[ThinkingControl, str] = {
    ThinkingControl.LEVELS: "oct2026",
    ThinkingControl.SUBMENU: "mid2026",
    ThinkingControl.TOGGLE: "mid2026",
    ThinkingControl.MODEL: "early2026",
    ThinkingControl.NONE: "unknown",
}


async def _evidence(
    driver: PageDriver,
    settings: PoolSettings,
    outcome: StatusOutcome | None,
    requests: RequestLog,
    *,
    signed_in: bool,
) -> dict[str, Any]:
    """The bundle (``browser._evidence``): outlines, the otAQ7b payload, one probe exchange."""
    parts: dict[str, Any] = {"page": {"path": urlsplit(driver.page.url).path}}
    if signed_in:
        parts["dom"] = await page_outline(driver)
        try:
            await driver.open("/app")
            parts["stream_generate"] = await probe_exchange(driver, settings.first_frame_timeout)
        except BrowserError as exc:
            parts["stream_generate"] = {"error": f"{type(exc).__name__}: {exc}"}
    parts["account_status"] = {
        "payload": outcome.payload if outcome is not None else None,
        "missing": outcome.missing if outcome is not None else "not awaited",
        "rejection": outcome.rejection if outcome is not None else None,
    }
    parts["requests"] = await requests.entries()
    return bundle(**parts)


async def _verdict(
    driver: PageDriver, page_state: PageState | None, outcome: StatusOutcome | None, open_error: str | None
) -> StatusVerdict:
    """``judge``'s verdict; when the page never settled, the network answer alone (if any) decides."""
    answered = outcome is not None and (outcome.answer is not None or outcome.rejection == _NOT_SIGNED_IN)
    if page_state is None and not answered:
        why = outcome.missing if outcome is not None and outcome.missing else "none was read"
        reason = f"the page did not settle ({open_error}) and no account-status answer decides ({why})"
        return StatusVerdict(Verdict.SIGNED_OUT, StatusSource.PAGE, None, reason, Capabilities("anon"))
    try:
        return await judge(driver, page_state or PageState.READY, outcome)
    except DriverError as exc:
        # No network answer and menus the table cannot read: signed in, but nothing offered.
        reason = f"no account-status answer, and the page's menus could not be read ({exc})"
        return StatusVerdict(Verdict.READY, StatusSource.PAGE, None, reason, Capabilities("anon"))


async def _tokens(page: Page, settings: PoolSettings) -> tuple[str, ...]:
    """The names of the page tokens that hold a value; the values stay in the page."""
    with map_playwright_errors("read page tokens"):
        async with asyncio.timeout(settings.ui_timeout):
            names: list[str] = await page.evaluate(_TOKEN_NAMES, list(PAGE_TOKENS))
    return tuple(name for name in PAGE_TOKENS if name in names)


async def _presentation(page: Page, settings: PoolSettings) -> Presentation:
    """What the page observes about the browser; each value coerced: the site's own scripts could
    have replaced what the browser put there."""
    with map_playwright_errors("read the browser's presentation"):
        async with asyncio.timeout(settings.ui_timeout):
            seen: dict[str, Any] = await page.evaluate(_PRESENTATION)
    brands = seen.get("brands")
    return Presentation(
        webdriver=seen.get("webdriver") is True,
        user_agent=str(seen.get("userAgent", "")),
        brands=tuple(str(brand) for brand in brands) if isinstance(brands, list) else None,
        window_chrome=seen.get("windowChrome") is True,
        plugins=int(seen.get("plugins") or 0),
        pdf_viewer=seen.get("pdfViewer") is True,
    )


class _RpcLog:
    """Every batchexecute request the page sends from now on, with the HTTP status it got."""

    def __init__(self, page: Page) -> None:
        self._status: dict[Request, int | None] = {}
        page.on("request", self._on_request)
        page.on("response", self._on_response)

    def _on_request(self, request: Request) -> None:
        if _rpc_ids(request.url):
            self._status[request] = None

    def _on_response(self, response: Response) -> None:
        if response.request in self._status:
            self._status[response.request] = response.status

    def calls(self) -> tuple[RpcCall, ...]:
        return tuple(
            RpcCall(rpc_id, status)
            for request, status in self._status.items()
            for rpc_id in _rpc_ids(request.url)
        )


def _rpc_ids(url: str) -> list[str]:
    parts = urlsplit(url)
    if not parts.path.endswith("/batchexecute"):
        return []
    return [
        rpc_id for value in parse_qs(parts.query).get("rpcids", []) for rpc_id in value.split(",") if rpc_id
    ]


class _Probe:
    """Looks for each element of the table where the driver meets it; every wait is bounded."""

    def __init__(self, page: Page, driver: PageDriver, settings: PoolSettings) -> None:
        self._page = page
        self._driver = driver
        self._table = driver.sel
        self._ui = settings.ui_timeout
        self._found: dict[str, ElementCheck] = {}

    def _sel(self, key: str) -> S.Sel:
        sel: S.Sel = getattr(self._table, key)
        return sel

    async def run(
        self, page_state: PageState | None, verdict: StatusVerdict, left: bool
    ) -> tuple[ElementCheck, ...]:
        needed: set[str] = set()
        if left:
            why = f"the page is a {page_state.value if page_state else 'wall'} page, not the app"
            self._skip([sel.key for sel in self._table.selectors()], why)
        else:
            signed_in = verdict.verdict is Verdict.READY
            if signed_in:
                needed.update(ALWAYS_NEEDED, NEEDED_FOR_FILES)
                if verdict.capabilities.tools:
                    needed.update(NEEDED_FOR_TOOLS)
            await self._on_load()
            if signed_in:
                await self._mode_menu()
                await self._tools_menu()
                await self._upload_menu()
                await self._typed()
            else:
                self._skip(
                    [*IN_MODE_MENU, *IN_TOOLS_MENU, *BEHIND_UPLOAD, *WITH_TEXT], "the page is not signed in"
                )
        for key, why in IN_TURN.items():
            self._skip([key], f"{why}: the doctor sends nothing")
        return tuple(
            self._with_need(self._found[sel.key], sel.key in needed) for sel in self._table.selectors()
        )

    # -- phases --

    async def _on_load(self) -> None:
        checks = await asyncio.gather(*(self._look(key, "on the loaded page") for key in ON_LOAD))
        markers = await asyncio.gather(*(self._look(key, "on the loaded page", wait=0) for key in MARKERS))
        self._found.update(zip((*ON_LOAD, *MARKERS), (*checks, *markers), strict=True))

    async def _mode_menu(self) -> None:
        if not await self._open("mode_picker", IN_MODE_MENU):
            return
        await self._record("mode_items", "in the open mode menu")
        for key in ("mode_item_label", "mode_item_sublabel", "selected", "menu_items"):
            await self._record(key, "in the open mode menu", wait=0)
        await self._record("open_menu", "while a menu is open", wait=0)
        await self._close_menus()

    async def _tools_menu(self) -> None:
        if not await self._open("tools_opener", IN_TOOLS_MENU):
            return
        await self._record("tool_items", "in the open tools menu")
        await self._record("tool_icon", "in the open tools menu", wait=0)
        await self._record("more_tools", "in the open tools menu", wait=0)
        await self._close_menus()

    async def _upload_menu(self) -> None:
        if not await self._open("upload_opener", BEHIND_UPLOAD):
            return
        await self._record("file_input", "behind the upload button", state="attached")
        await self._close_menus()

    async def _typed(self) -> None:
        if self._found["editor"].presence is not Presence.MATCHED:
            self._skip(WITH_TEXT, "nothing can be typed: no editor matched")
            return
        try:
            with map_playwright_errors("type into the editor"):
                await self._driver.insert_prompt(_PROBE_TEXT)
        except DriverError as exc:
            self._skip(WITH_TEXT, f"the editor matched but took no text ({exc})")
            return
        try:
            await self._record("send", "with text typed into the editor (not sent)")
        finally:
            with map_playwright_errors("clear the editor"):
                await self._page.keyboard.press("Control+A")
                await self._page.keyboard.press("Backspace")

    # -- helpers --

    async def _open(self, opener: str, inside: Iterable[str]) -> bool:
        """Click ``opener``; False (the elements inside skipped) when it did not match."""
        sel = self._sel(opener)
        if self._found[opener].presence is not Presence.MATCHED:
            self._skip(inside, f"its opener, the {sel.name}, did not match")
            return False
        try:
            await self._close_menus()
            with map_playwright_errors(f"open the {sel.name}"):
                await self._page.locator(sel.css).filter(visible=True).last.click(timeout=self._ui * _MS)
        except DriverError as exc:
            self._skip(inside, f"the {sel.name} matched but could not be clicked ({exc})")
            return False
        return True

    async def _record(
        self, key: str, where: str, *, wait: float | None = None, state: _State = "visible"
    ) -> None:
        self._found[key] = await self._look(key, where, wait=wait, state=state)

    async def _look(
        self, key: str, where: str, *, wait: float | None = None, state: _State = "attached"
    ) -> ElementCheck:
        """Wait (bounded) for any candidate, then try each candidate on its own."""
        sel = self._sel(key)
        wait = self._ui if wait is None else wait
        if wait > 0:
            with contextlib.suppress(StepTimeout), map_playwright_errors(f"look for the {sel.name}"):
                await self._page.locator(sel.css).first.wait_for(state=state, timeout=wait * _MS)
        matched: list[int] = []
        with map_playwright_errors(f"look for the {sel.name}"):
            for index, candidate in enumerate(sel.fallbacks):
                if await self._count(self._page.locator(candidate)):
                    matched.append(index)
        return ElementCheck(
            name=sel.name,
            presence=Presence.MATCHED if matched else Presence.UNMATCHED,
            selector=sel.fallbacks[matched[0]] if matched else None,
            matched=tuple(sel.fallbacks[index] for index in matched),
            candidates=len(sel.fallbacks),
            needed=False,
            note=where,
            key=key,
            entry=sel.origin(matched[0]) if matched else None,
        )

    async def _count(self, locator: Locator) -> int:
        async with asyncio.timeout(self._ui):
            return await locator.count()

    async def _close_menus(self) -> None:
        """Escape closes the page's menus, as the driver closes them."""
        with map_playwright_errors("close menus"):
            for _ in range(_ESCAPES):
                if not await self._count(self._page.locator(self._table.open_menu.css)):
                    return
                await self._page.keyboard.press("Escape")

    def _skip(self, keys: Iterable[str], why: str) -> None:
        for key in keys:
            sel = self._sel(key)
            self._found.setdefault(
                key,
                ElementCheck(sel.name, Presence.NOT_CHECKED, None, (), len(sel.fallbacks), False, why, key),
            )

    @staticmethod
    def _with_need(check: ElementCheck, needed: bool) -> ElementCheck:
        return replace(check, needed=needed)


# Runs in the page: which of ``keys`` hold a non-empty string (only the names come back).
_TOKEN_NAMES = """(keys) => {
    const wiz = window.WIZ_global_data || {};
    return keys.filter((key) => typeof wiz[key] === "string" && wiz[key] !== "");
}"""

# Runs in the page: what any script of the site can read about the browser, as plain values.
_PRESENTATION = """() => {
    const data = navigator.userAgentData;
    return {
        webdriver: navigator.webdriver === true,
        userAgent: String(navigator.userAgent),
        brands: data && Array.isArray(data.brands)
            ? data.brands.map((b) => `${b.brand}/${b.version}`)
            : null,
        windowChrome: typeof window.chrome === "object" && window.chrome !== null,
        plugins: navigator.plugins ? navigator.plugins.length : 0,
        pdfViewer: navigator.pdfViewerEnabled === true,
    };
}"""
