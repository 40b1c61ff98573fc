"""Several accounts' profiles in one local Chromium (``profiles_in_one_browser``).

A second launch ``chromium --user-data-dir=D --profile-directory=P URL`` on the user-data directory
of a running Chromium hands its command line over to that browser (Chromium's process singleton),
which opens a window in profile P: one browser process, one storage service and one zygote for every
account, and a renderer each (docs/benchmarks.md, ``bench/profiles.py --check``). Headless Chromium
refuses the hand-off, so the host runs in its normal mode on Ozone's headless platform (no display).

Playwright files the handed-over pages under the one context it launched, but everything it does at
context level (``new_page``, ``cookies``, ``add_cookies``, ``request``) goes to Chromium's
*last-used* profile. So a ``HostedProfile`` keeps its own pages (the hand-off's, then popups opened
from them, which stay in their opener's profile), reads and writes cookies through a CDP session on
one of them (``Network.*`` acts on that page's profile), and watches its own pages' responses only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from playwright._impl._api_structures import Cookie, SetCookieParam
from playwright.async_api import (
    APIRequestContext,
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ProxySettings,
    Response,
    StorageStateCookie,
)

from browser._settings import PoolSettings
from browser.errors import LaunchFailed, TargetClosed

log = logging.getLogger(__name__)

__all__ = ["HEADLESS_PLATFORM", "HOST_PROFILE", "HostedProfile", "ProfileHost"]

HEADLESS_PLATFORM = "--ozone-platform=headless"
# The host's own profile holds no account: Chromium would otherwise start in its last-used profile,
# which is an account's (one directory must never be opened twice).
HOST_PROFILE = "Default"
_HAND_OFF_PATH = "data:text/html,gateway-profile-"
_LOCK = "SingletonLock"


class ProfileHost:
    """One Chromium holding account profiles; built by ``Launcher`` from a launched persistent
    context on ``<data_dir>/profile-host`` (the launcher closes it)."""

    def __init__(
        self,
        context: BrowserContext,
        directory: Path,
        settings: PoolSettings,
        playwright: Playwright,
        proxy: ProxySettings | None,
        switches: list[str],
    ) -> None:
        self.context = context
        self.directory = directory
        # The host's own switches, on the hand-off launch too: it is a Chromium start until it finds
        # the running browser (as root it exits at once without the defaults' --no-sandbox).
        self._switches = switches
        self._settings = settings
        self._playwright = playwright
        self._proxy = proxy
        self._hand_off_lock = asyncio.Lock()
        self._profiles: dict[str, HostedProfile] = {}
        self.closed = False
        self.ui_timeout = settings.ui_timeout
        context.on("close", self._closed)

    def _closed(self, _context: BrowserContext) -> None:
        self.closed = True
        for profile in list(self._profiles.values()):
            profile.host_closed()
        self._profiles.clear()

    async def open(self, account_id: str, profile_dir: Path, name: str) -> HostedProfile:
        """The account's profile (``profile_dir``: its user-data directory, whose ``Default`` is
        linked in as profile ``name``), with a first page open in it."""
        if self.closed:
            raise TargetClosed("the profile host is closed")
        own = profile_dir / "Default"  # where a persistent-mode launch keeps the account's profile
        own.mkdir(mode=0o700, exist_ok=True)
        link = self.directory / name
        if not link.is_symlink() or link.resolve() != own.resolve():
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
            link.symlink_to(own, target_is_directory=True)
        profile = HostedProfile(self, name, account_id, profile_dir)
        await profile.hand_off()
        profile.lock()
        self._profiles[account_id] = profile
        return profile

    def forget(self, profile: HostedProfile) -> None:
        if self._profiles.get(profile.account_id) is profile:
            del self._profiles[profile.account_id]

    async def hand_off(self, name: str) -> Page:
        """A new window in profile ``name`` of the running host, its page returned. Serialised: the
        new page is the one whose URL carries this hand-off's token."""
        token = secrets.token_hex(8)
        url = _HAND_OFF_PATH + token
        args = [
            f"--user-data-dir={self.directory}",
            f"--profile-directory={name}",
            "--no-first-run",
            "--password-store=basic",
            *self._switches,
            url,
        ]
        timeout = self._settings.launch_timeout
        async with self._hand_off_lock:
            if self.closed:
                raise TargetClosed("the profile host is closed")
            await _run_hand_off(self._settings.chromium_path, args, timeout)
            try:
                async with asyncio.timeout(timeout):
                    # The page event comes before the page knows its URL: look, bounded.
                    while (found := next((p for p in self.context.pages if p.url == url), None)) is None:
                        if self.closed:
                            raise TargetClosed("the profile host closed during a hand-off")
                        await asyncio.sleep(0.05)
            except TimeoutError:
                raise LaunchFailed(f"profile {name} did not open in the shared browser") from None
            return found

    async def media_request(self, cookies: list[Cookie]) -> APIRequestContext:
        state_cookies = [cast(StorageStateCookie, dict(cookie)) for cookie in cookies]
        return await self._playwright.request.new_context(
            storage_state={"cookies": state_cookies, "origins": []}, proxy=self._proxy
        )

    async def close(self) -> None:
        self.closed = True
        with contextlib.suppress(Exception):
            await self.context.close()


async def _run_hand_off(chromium: str, args: list[str], timeout: float) -> None:  # noqa: ASYNC109
    """The second launch that hands ``args`` over and exits; killed when it does not exit in time
    (nobody took the hand-off: it would become a browser of its own)."""
    env = {key: value for key, value in os.environ.items() if key != "DISPLAY"}
    process = await asyncio.create_subprocess_exec(
        chromium, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=env
    )
    try:
        async with asyncio.timeout(timeout):
            status = await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise LaunchFailed("the hand-off launch did not exit: no running browser took it") from None
    if status != 0:
        raise LaunchFailed(f"the hand-off launch failed (exit status {status})")


class HostedProfile:
    """``AccountContext`` of one account profile in a ``ProfileHost``."""

    def __init__(self, host: ProfileHost, name: str, account_id: str, profile_dir: Path) -> None:
        self._host = host
        self.name = name
        self.account_id = account_id
        self._lock_path = profile_dir / _LOCK
        self._lock_target: str | None = None
        self._pages: list[Page] = []
        self._on_response: Callable[[Response], None] | None = None
        self._on_close: Callable[[], None] | None = None
        self._requests: list[APIRequestContext] = []
        self._request_cookies: list[Cookie] = []
        self._closed = False

    @property
    def pages(self) -> list[Page]:
        return [page for page in self._pages if not page.is_closed()]

    @property
    def browser(self) -> Browser | None:
        return self._host.context.browser

    def lock(self) -> None:
        """Mark the account's own directory as held by the host, as Chromium marks a directory it
        opens (``SingletonLock`` -> ``<hostname>-<pid>``): ``accounts login`` and ``import-profile``
        then refuse it (``browser._profiles.refuse_if_held``), and a Chromium launched on it finds
        it in use instead of opening the profile a second time."""
        try:
            target = os.readlink(self._host.directory / _LOCK)
        except OSError:
            return  # the host is gone already: nothing to mark
        with contextlib.suppress(FileNotFoundError):
            self._lock_path.unlink()
        self._lock_path.symlink_to(target)
        self._lock_target = target

    def _unlock(self) -> None:
        target, self._lock_target = self._lock_target, None
        with contextlib.suppress(OSError):
            if target is not None and os.readlink(self._lock_path) == target:
                self._lock_path.unlink()

    def _adopt(self, page: Page) -> Page:
        self._pages.append(page)
        page.on("response", self._response)
        page.on("close", self._page_closed)
        page.on("popup", self._popup)
        return page

    def _popup(self, page: Page) -> None:
        # A popup opened from a profile's page lives in that profile.
        if page not in self._pages:
            self._adopt(page)

    def _page_closed(self, page: Page) -> None:
        with contextlib.suppress(ValueError):
            self._pages.remove(page)

    def _response(self, response: Response) -> None:
        if self._on_response is not None:
            self._on_response(response)

    async def hand_off(self) -> Page:
        return self._adopt(await self._host.hand_off(self.name))

    async def new_page(self) -> Page:
        if self._closed:
            raise TargetClosed("the account's profile is closed")
        opener = next(iter(self.pages), None)
        if opener is None:
            return await self.hand_off()
        async with opener.expect_popup(timeout=self._host.ui_timeout * 1000) as popup:
            await opener.evaluate("() => { window.open('about:blank', '_blank', 'noopener'); }")
        page = await popup.value
        if page not in self._pages:
            self._adopt(page)
        return page

    async def _send(self, method: str, params: dict[str, object]) -> dict[str, object]:
        page = next(iter(self.pages), None) or await self.hand_off()
        async with asyncio.timeout(self._host.ui_timeout):
            session = await page.context.new_cdp_session(page)
        try:
            async with asyncio.timeout(self._host.ui_timeout):
                return cast(dict[str, object], await session.send(method, params))
        finally:
            with contextlib.suppress(Exception):
                await session.detach()

    async def cookies(self) -> list[Cookie]:
        found = await self._send("Network.getAllCookies", {})
        raw = found.get("cookies")
        cookies: list[Cookie] = []
        for item in raw if isinstance(raw, list) else []:
            same_site = item.get("sameSite", "Lax")
            cookies.append(
                {
                    "name": str(item["name"]),
                    "value": str(item["value"]),
                    "domain": str(item["domain"]),
                    "path": str(item.get("path", "/")),
                    "expires": -1 if item.get("session") else float(item.get("expires", -1)),
                    "httpOnly": bool(item.get("httpOnly", False)),
                    "secure": bool(item.get("secure", False)),
                    "sameSite": same_site if same_site in ("Lax", "None", "Strict") else "Lax",
                }
            )
        return cookies

    async def add_cookies(self, cookies: Sequence[SetCookieParam]) -> None:
        params = [
            {key: value for key, value in cookie.items() if not (key == "expires" and value == -1)}
            for cookie in cookies
        ]
        await self._send("Network.setCookies", {"cookies": params})

    def watch(self, on_response: Callable[[Response], None], on_close: Callable[[], None]) -> None:
        self._on_response = on_response
        self._on_close = on_close

    def host_closed(self) -> None:
        """The shared browser went away (a crash): the account's context is gone with it."""
        if self._closed:
            return
        self._closed = True
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    async def media_request(self) -> APIRequestContext:
        # A client holds the cookies it was given: a new one when the jar changed (a rotation). The
        # earlier ones may still be downloading, so they are disposed of at close only.
        cookies = await self.cookies()
        if self._requests and cookies == self._request_cookies:
            return self._requests[-1]
        self._requests.append(await self._host.media_request(cookies))
        self._request_cookies = cookies
        return self._requests[-1]

    async def close(self) -> None:
        self._on_response = self._on_close = None
        self._closed = True
        self._host.forget(self)
        self._unlock()
        for page in list(self._pages):
            with contextlib.suppress(Exception):
                await page.close()
        self._pages.clear()
        for request in self._requests:
            with contextlib.suppress(Exception):
                await request.dispose()
        self._requests.clear()
