"""The live view: an operator signs an account in through the account's own browser, from afar.

``BrowserPool.live_view(account_id)`` opens a dedicated tab in the account's context (never one of
its turn tabs, so no turn types into it) at Google's sign-in page, streams what it shows as JPEG
frames (CDP ``Page.startScreencast``; each frame acknowledged, a small queue that drops the oldest
frame when the reader is slow) and forwards the operator's input with Playwright's mouse and
keyboard. It ends when the tab lands back on the app signed in (the driver's own page-state
detection says READY), when the tab closes, or when its owner leaves the ``async with``; the pool
then re-checks the account.

Nothing typed or pasted is kept, logged or put in an error message: input goes straight to the
page and errors name the kind of input only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import enum
import logging
import math
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import quote, urlsplit

from playwright.async_api import CDPSession, Frame, Page

from browser._driver import PageDriver, PageState
from browser._playwright_errors import map_playwright_errors
from browser._settings import PoolSettings
from browser.errors import BrowserError, DriverError

log = logging.getLogger(__name__)

FRAME_QUEUE = 2  # frames waiting for a slow reader; older ones are dropped (only the newest matters)
JPEG_QUALITY = 70
MAX_PASTE = 10_000  # characters one paste may insert
MAX_TEXT = 64  # characters one typed-text message may carry (a keystroke, or a short burst)
# The page's own accounts origin (fidelity.md A4: accounts.google.com/ServiceLogin signs in and
# sends the browser on to ``continue``); the simulator stands for both origins on its own.
GOOGLE_ACCOUNTS = "https://accounts.google.com"
# Named keys an operator may press (Playwright's names); printable characters go as text.
NAMED_KEYS = frozenset(
    {
        "Enter",
        "Tab",
        "Backspace",
        "Delete",
        "Escape",
        "ArrowLeft",
        "ArrowRight",
        "ArrowUp",
        "ArrowDown",
        "Home",
        "End",
        "PageUp",
        "PageDown",
        "Insert",
        "Space",
    }
)
MODIFIERS = ("Alt", "Control", "Meta", "Shift")
Button = Literal["left", "middle", "right"]
BUTTONS = ("left", "middle", "right")


class LiveEnd(enum.StrEnum):
    """Why a live view ended."""

    SIGNED_IN = "signed_in"  # the tab is back on the app, signed in
    PAGE_CLOSED = "page_closed"  # the tab or its context closed (the account restarted or went)
    CLOSED = "closed"  # its owner closed it


@dataclass(frozen=True)
class LiveFrame:
    """One JPEG of the tab; ``width``/``height`` are the page's CSS pixels it shows, the space input
    coordinates are given in."""

    jpeg: bytes
    width: int
    height: int


def sign_in_url(settings: PoolSettings) -> str:
    """Google's sign-in page, sent on to the app when signed in."""
    base = settings.base_url
    host = urlsplit(base).hostname or ""
    if host == "google.com" or host.endswith(".google.com"):
        target = quote(f"{base}/app", safe="")
        return f"{GOOGLE_ACCOUNTS}/ServiceLogin?continue={target}&hl={settings.language}"
    return f"{base}/ServiceLogin?continue=%2Fapp&hl={settings.language}"


class LiveView:
    """A tab of one account shown to an operator. Built by ``BrowserPool.live_view``; read frames
    with ``next_frame``, send input with the methods below (coordinates in the frame's CSS pixels)."""

    def __init__(self, account_id: str, page: Page, settings: PoolSettings) -> None:
        self.account_id = account_id
        self._page = page
        self._settings = settings
        self._cdp: CDPSession | None = None
        self._frames: asyncio.Queue[LiveFrame] = asyncio.Queue(maxsize=FRAME_QUEUE)
        self._ended = asyncio.Event()
        self._navigated = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.end_reason: LiveEnd | None = None
        self.dropped_frames = 0

    # -- lifecycle (the pool's) --

    async def open(self) -> None:
        """Start the screencast, go to the sign-in page and watch for the signed-in app."""
        page = self._page
        page.on("close", self._on_close)
        page.on("framenavigated", self._on_navigated)
        width, height = await self._viewport()
        with map_playwright_errors("live view: screencast"):
            async with asyncio.timeout(self._settings.ui_timeout):
                self._cdp = await page.context.new_cdp_session(page)
                self._cdp.on("Page.screencastFrame", self._on_frame)
                await self._cdp.send(
                    "Page.startScreencast",
                    {"format": "jpeg", "quality": JPEG_QUALITY, "maxWidth": width, "maxHeight": height},
                )
        with map_playwright_errors("live view: open the sign-in page", navigation=True):
            # Headless tabs paint only in front; the view's tab is the one that must paint.
            await page.bring_to_front()
            await page.goto(
                sign_in_url(self._settings),
                wait_until="domcontentloaded",
                timeout=self._settings.navigation_timeout * 1000,
            )
        self._spawn(self._watch_sign_in())

    async def close(self) -> None:
        """Stop the screencast and close the tab (idempotent)."""
        self._end(LiveEnd.CLOSED)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        page = self._page
        page.remove_listener("close", self._on_close)
        page.remove_listener("framenavigated", self._on_navigated)
        if self._cdp is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._cdp.detach(), self._settings.ui_timeout)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(page.close(), self._settings.ui_timeout)

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    async def wait_ended(self) -> LiveEnd:
        await self._ended.wait()
        assert self.end_reason is not None
        return self.end_reason

    # -- frames --

    async def next_frame(self) -> LiveFrame | None:
        """The newest frame not yet read (waiting for one), or None once the view has ended."""
        if self._ended.is_set():
            return None
        getting = asyncio.ensure_future(self._frames.get())
        ending = asyncio.ensure_future(self._ended.wait())
        try:
            await asyncio.wait({getting, ending}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (getting, ending):
                if not task.done():
                    task.cancel()
        if getting.done() and not getting.cancelled():
            return getting.result()
        return None

    def _on_frame(self, params: dict[str, Any]) -> None:
        cdp = self._cdp
        if cdp is not None:
            # Acknowledged at once: Chromium sends the next frame only after the ack, and a slow
            # reader is handled by dropping old frames here, not by stalling the page's stream.
            self._spawn(cdp.send("Page.screencastFrameAck", {"sessionId": params["sessionId"]}))
        metadata = params.get("metadata") or {}
        frame = LiveFrame(
            jpeg=base64.b64decode(params["data"]),
            width=round(metadata.get("deviceWidth") or 0),
            height=round(metadata.get("deviceHeight") or 0),
        )
        if self._frames.full():
            self._frames.get_nowait()
            self.dropped_frames += 1
        self._frames.put_nowait(frame)

    # -- input (coordinates in CSS pixels of the page) --

    async def click(self, x: float, y: float, *, button: str = "left", clicks: int = 1) -> None:
        x, y = self._point(x, y)
        which = self._button(button)
        if not 1 <= clicks <= 3:
            raise DriverError("a click is 1 to 3 clicks", step="live input")
        await self._input("click", self._page.mouse.click(x, y, button=which, click_count=clicks))

    async def move(self, x: float, y: float) -> None:
        x, y = self._point(x, y)
        await self._input("move", self._page.mouse.move(x, y))

    async def press_button(
        self, x: float, y: float, *, button: str = "left", down: bool, clicks: int = 1
    ) -> None:
        """A mouse button down or up at (x, y): a click as the page sees it is a down then an up;
        ``clicks`` 2 or 3 for the second and third of a double or triple click (drags and text
        selection come from moves between)."""
        x, y = self._point(x, y)
        which = self._button(button)
        if not 1 <= clicks <= 3:
            raise DriverError("a click is 1 to 3 clicks", step="live input")
        mouse = self._page.mouse

        async def act() -> None:
            await mouse.move(x, y)
            if down:
                await mouse.down(button=which, click_count=clicks)
            else:
                await mouse.up(button=which, click_count=clicks)

        await self._input("button", act())

    async def wheel(self, x: float, y: float, dx: float, dy: float) -> None:
        x, y = self._point(x, y)
        dx, dy = self._finite(dx), self._finite(dy)
        mouse = self._page.mouse

        async def act() -> None:
            await mouse.move(x, y)
            await mouse.wheel(dx, dy)

        await self._input("wheel", act())

    async def key(self, key: str, modifiers: tuple[str, ...] = ()) -> None:
        """A key press: a named key (``Enter``, ``Tab``, arrows...) or a character with modifiers;
        a character with Shift alone (or none) is typed as the character it is."""
        if any(modifier not in MODIFIERS for modifier in modifiers):
            raise DriverError("unknown modifier", step="live input")
        keyboard = self._page.keyboard
        if key in NAMED_KEYS:
            combo = "+".join([*dict.fromkeys(modifiers), key])
            await self._input("key", keyboard.press(combo))
        elif len(key) == 1 and key.isprintable():
            chord = [m for m in dict.fromkeys(modifiers) if m != "Shift"]
            if chord:
                await self._input("key", keyboard.press("+".join([*chord, key])))
            else:
                await self._input("key", keyboard.type(key))
        else:
            raise DriverError("unknown key", step="live input")

    async def type_text(self, text: str) -> None:
        """Typed characters, as key presses (the page sees keydown/keyup for each)."""
        if len(text) > MAX_TEXT:
            raise DriverError(f"typed text is at most {MAX_TEXT} characters", step="live input")
        await self._input("text", self._page.keyboard.type(text))

    async def paste(self, text: str) -> None:
        """Pasted text, inserted at the caret as a paste would (no key events)."""
        if len(text) > MAX_PASTE:
            raise DriverError(f"a paste is at most {MAX_PASTE} characters", step="live input")
        await self._input("paste", self._page.keyboard.insert_text(text))

    async def _input(self, kind: str, action: Any) -> None:
        if self._ended.is_set():
            action.close()  # the coroutine was never started
            raise DriverError("the live view has ended", step="live input")
        # Only the kind of input is named: Playwright's message could quote a typed key.
        try:
            with map_playwright_errors(f"live input: {kind}"):
                async with asyncio.timeout(self._settings.ui_timeout):
                    await action
        except BrowserError as exc:
            raise type(exc)(f"live input ({kind}) failed") from None

    def _point(self, x: float, y: float) -> tuple[float, float]:
        return self._finite(x), self._finite(y)

    @staticmethod
    def _finite(value: float) -> float:
        number = float(value)
        if not math.isfinite(number) or abs(number) > 100_000:
            raise DriverError("a coordinate is not a usable number", step="live input")
        return number

    @staticmethod
    def _button(button: str) -> Button:
        if button not in BUTTONS:
            raise DriverError("unknown mouse button", step="live input")
        return cast(Button, button)

    # -- the end --

    def _end(self, reason: LiveEnd) -> None:
        if not self._ended.is_set():
            self.end_reason = reason
            self._ended.set()

    def _on_close(self, _page: object) -> None:
        self._end(LiveEnd.PAGE_CLOSED)

    def _on_navigated(self, frame: Frame) -> None:
        if frame.parent_frame is None:
            self._navigated.set()

    async def _watch_sign_in(self) -> None:
        """After each navigation of the tab: back on the app and the driver reads a session there →
        signed in. A sign-in page, a wall or a signed-out app page keeps the view open."""
        driver = PageDriver(self._page, self._settings)
        app = f"{self._settings.base_url}/app"
        while not self._ended.is_set():
            await self._navigated.wait()
            self._navigated.clear()
            if not self._page.url.startswith(app) or driver.left_the_app():
                continue
            try:
                state = await driver.detect()
            except BrowserError:  # navigated on meanwhile, or still loading: the next navigation tells
                continue
            if state is PageState.READY:
                log.info("live view of %s: the page is signed in", self.account_id)
                self._end(LiveEnd.SIGNED_IN)

    async def _viewport(self) -> tuple[int, int]:
        size = self._page.viewport_size
        if size is not None:
            return size["width"], size["height"]
        with map_playwright_errors("live view: viewport"):
            async with asyncio.timeout(self._settings.ui_timeout):
                width, height = await self._page.evaluate("[innerWidth, innerHeight]")
        return int(width), int(height)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # An ack after the tab closed, a watcher error: the view's end is told by its events.
            log.debug("live view task of %s ended: %s", self.account_id, type(task.exception()).__name__)
