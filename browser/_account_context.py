"""What an account takes from its browser context, as a Protocol (``AccountContext``), and its plain
implementation over a Playwright ``BrowserContext`` (``PlaywrightContext``: the shared, persistent and
remote modes). The other implementation, a profile of a Chromium that holds several accounts'
profiles, is ``browser._profile_host.HostedProfile``: there Playwright's context-level calls follow
Chromium's last-used profile, so the account code reaches its profile only through this Protocol."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from playwright._impl._api_structures import Cookie, SetCookieParam
from playwright.async_api import APIRequestContext, Browser, BrowserContext, Page, Response

log = logging.getLogger(__name__)

__all__ = ["AccountContext", "PageHolder", "PlaywrightContext"]


class PageHolder(Protocol):
    """Something with an account's pages: the RPC helpers ask from the first live one."""

    @property
    def pages(self) -> Sequence[Page]: ...


class AccountContext(PageHolder, Protocol):
    """One account's browser context: its own pages, cookies and events, and nobody else's."""

    @property
    def browser(self) -> Browser | None:
        """The browser that holds the context (shared with other accounts in some modes)."""
        ...

    async def new_page(self) -> Page: ...

    async def cookies(self) -> list[Cookie]: ...

    async def add_cookies(self, cookies: Sequence[SetCookieParam]) -> None: ...

    def watch(self, on_response: Callable[[Response], None], on_close: Callable[[], None]) -> None:
        """Call ``on_response`` for every response of the context's own pages and ``on_close`` once
        when the context closes under its owner (a crash, a dead browser), never after ``close``."""
        ...

    async def media_request(self) -> APIRequestContext:
        """An HTTP client that sends the context's cookies (media downloads)."""
        ...

    async def close(self) -> None:
        """Close the context (idempotent); ``watch`` callbacks are dropped first."""
        ...


class PlaywrightContext:
    """``AccountContext`` over a whole Playwright ``BrowserContext`` (one account per context)."""

    def __init__(self, context: BrowserContext) -> None:
        self._context = context
        self._on_response: Callable[[Response], None] | None = None
        self._on_close: Callable[[], None] | None = None

    @property
    def pages(self) -> list[Page]:
        return self._context.pages

    @property
    def browser(self) -> Browser | None:
        return self._context.browser

    async def new_page(self) -> Page:
        return await self._context.new_page()

    async def cookies(self) -> list[Cookie]:
        return list(await self._context.cookies())

    async def add_cookies(self, cookies: Sequence[SetCookieParam]) -> None:
        await self._context.add_cookies(cookies)

    def watch(self, on_response: Callable[[Response], None], on_close: Callable[[], None]) -> None:
        self._unwatch()
        self._on_response = on_response
        self._on_close = on_close
        self._context.on("response", on_response)
        self._context.on("close", self._closed)

    def _closed(self, _context: BrowserContext) -> None:
        if self._on_close is not None:
            self._on_close()

    def _unwatch(self) -> None:
        if self._on_response is not None:
            self._context.remove_listener("response", self._on_response)
            self._context.remove_listener("close", self._closed)
        self._on_response = self._on_close = None

    async def media_request(self) -> APIRequestContext:
        return self._context.request

    async def close(self) -> None:
        self._unwatch()
        await self._context.close()
