"""Where browser contexts come from: a shared local Chromium, one persistent profile per account,
or a remote browser (CDP or Playwright server). A crashed or disconnected browser is relaunched on
the next request for a context, without restarting the process.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from playwright.async_api import Browser, BrowserContext, Playwright, ProxySettings

from browser._playwright_errors import map_playwright_errors
from browser._settings import LaunchMode, PoolSettings
from browser.errors import LaunchFailed

log = logging.getLogger(__name__)

_PROXY_SCHEMES = {"http", "https", "socks5"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def proxy_settings(url: str) -> ProxySettings:
    """Playwright's proxy dict from ``scheme://[user:pass@]host:port``.

    ``<-loopback>`` removes Chromium's implicit bypass so that a proxy applies to every host,
    the simulator on ``localhost`` included.
    """
    parts = urlsplit(url)
    if parts.scheme not in _PROXY_SCHEMES or not parts.hostname or not parts.port:
        raise ValueError("proxy must look like http|https|socks5://[user:pass@]host:port")
    settings: ProxySettings = {
        "server": f"{parts.scheme}://{parts.hostname}:{parts.port}",
        "bypass": "<-loopback>",
    }
    if parts.username:
        settings["username"] = unquote(parts.username)
        settings["password"] = unquote(parts.password or "")
    return settings


def proxy_host(url: str | None) -> str | None:
    """The proxy without credentials, for display."""
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}"


def profile_dir(settings: PoolSettings, account_id: str) -> Path:
    return settings.data_dir / "profiles" / _SAFE_NAME.sub("_", account_id)


class Launcher:
    """Hands out one browser context per account; owns every browser it launched."""

    def __init__(self, settings: PoolSettings, playwright: Playwright) -> None:
        self._settings = settings
        self._playwright = playwright
        self._browser: Browser | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def new_context(self, account_id: str, proxy: str | None) -> BrowserContext:
        """A fresh context for ``account_id`` with its proxy (or the default one)."""
        if self._closed:
            raise LaunchFailed("the launcher is closed")
        proxy_url = proxy or self._settings.default_proxy
        proxy_opts = proxy_settings(proxy_url) if proxy_url else None
        if self._settings.launch_mode is LaunchMode.PERSISTENT:
            return await self._persistent_context(account_id, proxy_opts)
        browser = await self._shared_browser()
        with map_playwright_errors("new_context"):
            if proxy_opts is None:
                return await browser.new_context(locale="en-US")
            return await browser.new_context(locale="en-US", proxy=proxy_opts)

    async def _persistent_context(self, account_id: str, proxy: ProxySettings | None) -> BrowserContext:
        directory = profile_dir(self._settings, account_id)
        directory.mkdir(parents=True, exist_ok=True)
        try:
            return await self._playwright.chromium.launch_persistent_context(
                str(directory),
                executable_path=self._settings.chromium_path,
                headless=self._settings.headless,
                args=list(self._settings.chromium_args),
                locale="en-US",
                proxy=proxy,
                timeout=self._settings.navigation_timeout * 1000,
            )
        except Exception as exc:
            raise LaunchFailed(f"could not launch a profile for {account_id}: {type(exc).__name__}") from None

    async def _shared_browser(self) -> Browser:
        async with self._lock:
            if self._browser is not None and self._browser.is_connected():
                return self._browser
            if self._browser is not None:
                log.warning("browser disconnected; launching a new one")
            self._browser = await self._start_browser()
            return self._browser

    async def _start_browser(self) -> Browser:
        settings = self._settings
        chromium = self._playwright.chromium
        timeout = settings.navigation_timeout * 1000
        try:
            if settings.launch_mode is LaunchMode.REMOTE:
                endpoint = settings.remote_endpoint
                if not endpoint:
                    raise LaunchFailed("launch_mode=remote needs remote_endpoint")
                headers = dict(settings.remote_headers)
                if _is_cdp(endpoint, settings.remote_protocol):
                    return await chromium.connect_over_cdp(endpoint, timeout=timeout, headers=headers)
                return await chromium.connect(endpoint, timeout=timeout, headers=headers)
            return await chromium.launch(
                executable_path=settings.chromium_path,
                headless=settings.headless,
                args=list(settings.chromium_args),
                timeout=timeout,
            )
        except LaunchFailed:
            raise
        except Exception as exc:
            raise LaunchFailed(f"could not start the browser: {type(exc).__name__}") from None

    async def close(self) -> None:
        """Close the shared browser (idempotent). Persistent contexts are closed by their owners.

        For a remote browser ``close`` only disconnects (Playwright's rule for connected browsers):
        the remote process and its other contexts live on."""
        self._closed = True
        browser, self._browser = self._browser, None
        if browser is not None:
            try:
                await browser.close()
            except Exception:  # already gone is fine: closing is best effort
                log.debug("browser close failed", exc_info=True)


def _is_cdp(endpoint: str, protocol: str) -> bool:
    if protocol != "auto":
        return protocol == "cdp"
    parts = urlsplit(endpoint)
    return parts.scheme in {"http", "https"} or "/devtools/" in parts.path
