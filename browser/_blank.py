"""Where an idle tab stands between turns: on a blank new chat, or still on the chat it just
answered.

Navigating is the largest step of a turn (page, scripts, editor), so both common next turns are
served without it. A tab that comes back from a turn stays on its chat for a short grace period (a
follow-up that comes at once, as agents send them, types straight into it), then loads ``/app`` in
the background, so that a later new chat types at once too (with Playwright's selector engine
already built in the new document: ``PageDriver.warm``). Every claim is checked against the
page's URL, and anything unexpected (a load still running elsewhere, a failure, a closed page, a
newer turn of the chat on another tab) simply means the turn navigates as before.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from playwright.async_api import Page

from browser._driver import PageDriver, PageState
from browser._settings import PoolSettings

log = logging.getLogger(__name__)

BLANK_PATH = "/app"
PREPARE_DELAY = 0.5  # seconds a finished chat stays open for an immediate follow-up


class BlankTabs:
    """Which idle pages show a fresh ``/app`` or a finished chat, and the background loads."""

    def __init__(self, settings: PoolSettings, delay: float = PREPARE_DELAY) -> None:
        self._settings = settings
        self._delay = delay
        self._ready: set[Page] = set()
        self._chats: dict[str, Page] = {}  # chat path -> the tab whose last turn finished it
        self._loading: dict[Page, asyncio.Task[None]] = {}
        self._navigating: set[Page] = set()

    def mark(self, page: Page) -> None:
        """``page`` has just loaded ``/app`` and nothing was typed into it."""
        self._ready.add(page)

    def prepare(self, page: Page, chat_path: str | None = None) -> None:
        """``page`` is idle again: keep it on ``chat_path`` (a chat its turn just finished) for the
        grace period, then load ``/app`` in the background (replacing any earlier load)."""
        self._ready.discard(page)
        self._leave_chats(page)
        earlier = self._loading.pop(page, None)
        if earlier is not None:
            earlier.cancel()
        if page.is_closed():
            return
        if chat_path is not None:
            self._chats[chat_path] = page
        self._loading[page] = asyncio.get_running_loop().create_task(self._load(page))

    async def _load(self, page: Page) -> None:
        await asyncio.sleep(self._delay)
        self._leave_chats(page)
        self._navigating.add(page)
        try:
            driver = PageDriver(page, self._settings)
            state = await driver.open(BLANK_PATH)
            if state is PageState.READY:
                await driver.warm()
        except Exception:  # the turn that claims the page navigates itself and reports errors
            log.debug("preparing a blank chat failed", exc_info=True)
            return
        finally:
            self._navigating.discard(page)
        if state is PageState.READY:
            self._ready.add(page)

    async def claim(self, page: Page, path: str) -> bool:
        """Take ``page`` for a turn at ``path``; True when the page already shows it, ready to type.

        A load still in its grace period is cancelled (Chromium has not been asked anything yet).
        A load already navigating is awaited, even when the turn goes elsewhere: cancelling it
        here would not stop Chromium, and a load that is committing wins over the turn's own
        navigation ("interrupted by another navigation").
        """
        loading = self._loading.pop(page, None)
        if loading is not None:
            if page not in self._navigating:
                loading.cancel()
            # asyncio.wait neither raises the task's cancellation nor cancels it if we are.
            await asyncio.wait({loading}, timeout=self._settings.navigation_timeout * 2)
            if not loading.done():
                loading.cancel()
                self._ready.discard(page)
        ready = page in self._ready
        self._ready.discard(page)
        on_chat = self._chats.get(path) is page
        self._leave_chats(page)  # the turn registers the chat again once it has finished
        if page.is_closed():
            return False
        if path == BLANK_PATH:
            return ready and _path_of(page.url) == BLANK_PATH
        return on_chat and _shows_chat(page.url, path)

    def forget(self, page: Page) -> None:
        self._ready.discard(page)
        self._leave_chats(page)
        loading = self._loading.pop(page, None)
        if loading is not None:
            loading.cancel()

    async def clear(self) -> None:
        """The context is going away: stop every load and wait (bounded) until it has stopped."""
        tasks = list(self._loading.values())
        self._loading.clear()
        self._ready.clear()
        self._chats.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self._settings.ui_timeout)

    def _leave_chats(self, page: Page) -> None:
        for chat in [chat for chat, holder in self._chats.items() if holder is page]:
            del self._chats[chat]


def _path_of(url: str) -> str:
    return urlsplit(url).path.rstrip("/") or "/"


def _shows_chat(url: str, path: str) -> bool:
    """The page's URL shows the chat ``/app/c_<id>`` as ``/app/<id>`` (or with the prefix)."""
    shown = _path_of(url)
    return shown == path or shown == path.replace("/app/c_", "/app/", 1)
