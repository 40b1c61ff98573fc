"""Where browser contexts come from: a shared local Chromium, one persistent profile per account,
or a remote browser (CDP or Playwright server). A crashed or disconnected browser is relaunched on
the next request for a context, without restarting the process.

A local Chromium presents itself as the installed Chromium does in a normal window: no automation
flag (``navigator.webdriver`` false, no "controlled by automated software" switch) and, headless,
the user agent of the headed browser (``Chrome/<major>.0.0.0``, never ``HeadlessChrome``); its client
hints already name Chromium and its version. A remote browser presents itself as it was started.

A local Chromium also starts with the memory switches of the settings (``launch_args``), so that a
warm account costs one renderer process (its page), not a second one for a popup nobody sees. A
persistent profile (one browser per account) starts with fewer processes too
(``persistent_launch_args``): every process of its browser is paid once per account.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from playwright.async_api import Browser, BrowserContext, Playwright, ProxySettings
from playwright.async_api import TimeoutError as PlaywrightTimeoutError
from pydantic import SecretStr

from browser._account_context import AccountContext, PlaywrightContext
from browser._playwright_errors import map_playwright_errors
from browser._profile_host import HEADLESS_PLATFORM, HOST_PROFILE, ProfileHost
from browser._settings import LaunchMode, PoolSettings
from browser.errors import InvalidProxy, LaunchFailed, TargetClosed

log = logging.getLogger(__name__)
_T = TypeVar("_T")

_PROXY_SCHEMES = {"http", "https", "socks5"}
# Added to every local launch: Blink's automation mode is what sets ``navigator.webdriver``.
PRESENTATION_ARGS = ("--disable-blink-features=AutomationControlled",)
# Playwright's own default switch that announces automation; never passed.
HIDDEN_DEFAULT_ARGS = ["--enable-automation"]
# The features Playwright (1.65) disables with its own ``--disable-features=``. Chromium reads only
# the last such switch, so ours repeats these: without them Playwright's would be switched back on.
# tests/browser/test_browser_memory_flags.py compares this list with what Playwright passes.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "ThirdPartyStoragePartitioning",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "TcpPortRandomizationWin",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
    "msForceBrowserSignIn",
    "msEdgeUpdateLaunchServicesPreferredVersion",
)
# Playwright's own ``--enable-features=`` (1.65), repeated in ours for the same reason.
PLAYWRIGHT_ENABLED_FEATURES = ("CDPScreenshotNewSurface", "SkipListAccountsWithoutGaiaCookies")
# A persistent profile's browser serves one account, so each process it starts is paid per account
# (~70-100 MiB RSS each, most of it the Chromium binary's code counted again in every process). These
# run the GPU code (software compositing: ``--disable-gpu``) and the network service inside the
# browser process, and start no zygote for unsandboxed helpers, which then has nothing to start
# (docs/benchmarks.md). None touches a sandbox that exists: on Linux the GPU process and the network
# service run unsandboxed (no seccomp, the host's namespaces, like the browser process), and the
# renderers and the storage service keep theirs, from the sandboxed zygote. What a crash there takes
# down is the account's own browser, which the pool relaunches like any crashed browser.
PERSISTENT_ARGS = ("--in-process-gpu", "--no-unsandboxed-zygote")
PERSISTENT_ENABLED_FEATURES = ("NetworkServiceInProcess2",)
_DISABLE_FEATURES = "--disable-features="
_ENABLE_FEATURES = "--enable-features="
_VERSION = re.compile(r"(\d+)\.\d+\.\d+\.\d+")


def normal_user_agent(version: str) -> str | None:
    """The user agent a headed Chromium ``version`` sends on Linux (the reduced form: only the major
    version is real); None when ``version`` names no version."""
    found = _VERSION.search(version)
    if found is None:
        return None
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{found.group(1)}.0.0.0 Safari/537.36"
    )


def sandboxed(settings: PoolSettings) -> bool:
    """Chromium's sandbox is on unless ``chromium_args`` turn it off: Playwright itself would add
    ``--no-sandbox`` to every launch unless told otherwise."""
    return "--no-sandbox" not in settings.chromium_args


def launch_args(settings: PoolSettings) -> list[str]:
    """The switches of a local launch: ``chromium_args``, the presentation switches,
    ``--process-per-site`` when asked, one ``--disable-features=`` (last) naming Playwright's
    features, any that ``chromium_args`` names and ``disabled_features``, and, when ``chromium_args``
    enables features, one ``--enable-features=`` naming Playwright's and those."""
    return _switches(settings, (), ())


def persistent_launch_args(settings: PoolSettings) -> list[str]:
    """``launch_args`` for a persistent profile's browser (one per account), with the switches that
    spare it processes (``PERSISTENT_ARGS``) unless ``persistent_fewer_processes`` is off."""
    if not settings.persistent_fewer_processes:
        return launch_args(settings)
    return _switches(settings, PERSISTENT_ARGS, PERSISTENT_ENABLED_FEATURES)


def _switches(settings: PoolSettings, extra: tuple[str, ...], enabled: tuple[str, ...]) -> list[str]:
    args: list[str] = []
    features = list(PLAYWRIGHT_DISABLED_FEATURES)
    enable: list[str] = []
    for arg in settings.chromium_args:
        if arg.startswith(_DISABLE_FEATURES):
            features += [name for name in arg.removeprefix(_DISABLE_FEATURES).split(",") if name]
        elif arg.startswith(_ENABLE_FEATURES):
            enable += [name for name in arg.removeprefix(_ENABLE_FEATURES).split(",") if name]
        else:
            args.append(arg)
    if settings.process_per_site and "--process-per-site" not in args:
        args.append("--process-per-site")
    args += [arg for arg in extra if arg not in args]
    features += settings.disabled_features
    enable += enabled
    last = [_DISABLE_FEATURES + ",".join(dict.fromkeys(features))]
    if enable:
        last.append(_ENABLE_FEATURES + ",".join(dict.fromkeys([*PLAYWRIGHT_ENABLED_FEATURES, *enable])))
    return [*args, *PRESENTATION_ARGS, *last]


_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def proxy_settings(url: str) -> ProxySettings:
    """Playwright's proxy dict from ``scheme://[user:pass@]host:port``.

    ``<-loopback>`` removes Chromium's implicit bypass so that a proxy applies to every host,
    the simulator on ``localhost`` included.
    """
    parts = urlsplit(url)
    if parts.scheme not in _PROXY_SCHEMES or not parts.hostname or not parts.port:
        raise InvalidProxy("a proxy must look like http|https|socks5://[user:pass@]host:port")
    settings: ProxySettings = {
        "server": f"{parts.scheme}://{parts.hostname}:{parts.port}",
        "bypass": "<-loopback>",
    }
    if parts.username:
        settings["username"] = unquote(parts.username)
        settings["password"] = unquote(parts.password or "")
    return settings


def proxy_host(url: str | SecretStr | None) -> str | None:
    """The proxy without credentials, for display."""
    if isinstance(url, SecretStr):
        url = url.get_secret_value()
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}"


def profile_dir(settings: PoolSettings, account_id: str) -> Path:
    """``<data_dir>/profiles/<account id>``: the account's Chromium profile (user-data) directory, in
    persistent launch mode and for a profile account (``AccountSpec.profile``)."""
    return settings.data_dir / "profiles" / _SAFE_NAME.sub("_", account_id)


def refuse_remote_profile(settings: PoolSettings, account_id: str) -> None:
    """``LaunchFailed`` in remote mode: a profile lives on this machine's disk and only a Chromium
    launched here can open it."""
    if settings.launch_mode is LaunchMode.REMOTE:
        raise LaunchFailed(
            f"account {account_id} keeps its session in a local Chromium profile, which "
            "launch_mode=remote cannot open: use launch_mode=shared or persistent"
        )


def private_profile_dir(settings: PoolSettings, account_id: str) -> Path:
    """The account's profile directory, created (or tightened) 0700 like its parent: a profile
    holds the account's cookies."""
    directory = profile_dir(settings, account_id)
    for path in (directory.parent, directory):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    return directory


async def launch_local(playwright: Playwright, settings: PoolSettings) -> Browser:
    """A local Chromium as shared mode launches it (Playwright errors are the caller's)."""
    return await playwright.chromium.launch(
        executable_path=settings.chromium_path,
        headless=settings.headless,
        args=launch_args(settings),
        ignore_default_args=HIDDEN_DEFAULT_ARGS,
        chromium_sandbox=sandboxed(settings),
        timeout=settings.launch_timeout * 1000,
    )


class Launcher:
    """Hands out one browser context per account; owns every browser it launched.

    A ``borrowed`` browser (shared mode only) serves the contexts until it disconnects, when the
    launcher launches its own; the launcher never closes a browser it did not launch."""

    def __init__(
        self, settings: PoolSettings, playwright: Playwright, borrowed: Browser | None = None
    ) -> None:
        self._settings = settings
        self._playwright = playwright
        self._browser: Browser | None = borrowed
        self._borrowed = borrowed
        self._lock = asyncio.Lock()
        self._closed = False
        self._user_agent: str | None = None
        self._version_read = False
        self._host: ProfileHost | None = None
        self._host_lock = asyncio.Lock()

    async def account_context(
        self, account_id: str, proxy: str | None, *, profile: bool = False
    ) -> AccountContext:
        """``new_context`` as the account code takes it; with ``profiles_in_one_browser``, a
        persistent profile of an account without a proxy of its own is a profile of the one shared
        Chromium (``browser._profile_host``)."""
        persistent = profile or self._settings.launch_mode is LaunchMode.PERSISTENT
        if self._settings.profiles_in_one_browser and persistent and proxy is None:
            if self._closed:
                raise LaunchFailed("the launcher is closed")
            refuse_remote_profile(self._settings, account_id)
            directory = private_profile_dir(self._settings, account_id)
            host = await self._profile_host()
            try:
                return await host.open(account_id, directory, "account-" + directory.name)
            except TargetClosed:
                # The host died before its close was seen: one relaunch, as for the shared browser.
                host = await self._profile_host()
                return await host.open(account_id, directory, "account-" + directory.name)
        return PlaywrightContext(await self.new_context(account_id, proxy, profile=profile))

    async def _profile_host(self) -> ProfileHost:
        async with self._host_lock:
            if self._host is not None and not self._host.closed:
                return self._host
            if self._host is not None:
                log.warning("the browser holding the account profiles is gone; launching a new one")
            self._host = await self._start_profile_host()
            return self._host

    async def _start_profile_host(self) -> ProfileHost:
        settings = self._settings
        directory = settings.data_dir / "profile-host"
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)  # it links to every account's profile
        default = settings.default_proxy
        proxy = proxy_settings(default.get_secret_value()) if default is not None else None
        switches = [*persistent_launch_args(settings), *([HEADLESS_PLATFORM] if settings.headless else [])]

        # Normal (headed) mode: headless Chromium refuses the hand-off that opens a profile.
        context = await self._launch_persistent(
            directory,
            "the browser of the account profiles",
            "could not start the browser of the profiles",
            headless=False,
            args=[*switches, f"--profile-directory={HOST_PROFILE}"],
            proxy=proxy,
        )
        return ProfileHost(context, directory, settings, self._playwright, proxy, switches)

    async def new_context(
        self, account_id: str, proxy: str | None, *, profile: bool = False
    ) -> BrowserContext:
        """A fresh context for ``account_id`` with its proxy (or the default one); a ``profile``
        account (its session lives in its profile directory) gets its persistent profile whatever
        the launch mode."""
        if self._closed:
            raise LaunchFailed("the launcher is closed")
        if profile:
            refuse_remote_profile(self._settings, account_id)
        default = self._settings.default_proxy
        proxy_url = proxy or (default.get_secret_value() if default is not None else None)
        proxy_opts = proxy_settings(proxy_url) if proxy_url else None
        if profile or self._settings.launch_mode is LaunchMode.PERSISTENT:
            return await self._persistent_context(account_id, proxy_opts)
        browser = await self._shared_browser()
        user_agent = None
        if self._settings.launch_mode is not LaunchMode.REMOTE and self._settings.headless:
            user_agent = normal_user_agent(browser.version)
        try:
            return await self._context_in(browser, proxy_opts, user_agent)
        except TargetClosed:
            # The browser died and its disconnect was not seen yet (a crash reported first by its
            # contexts): launch a new one now rather than fail every account until the next check.
            await self._forget(browser)
            return await self._context_in(await self._shared_browser(), proxy_opts, user_agent)

    async def _context_in(
        self, browser: Browser, proxy: ProxySettings | None, user_agent: str | None
    ) -> BrowserContext:
        with map_playwright_errors("new_context"):
            if proxy is None:
                return await browser.new_context(locale="en-US", user_agent=user_agent)
            return await browser.new_context(locale="en-US", proxy=proxy, user_agent=user_agent)

    async def _forget(self, browser: Browser) -> None:
        async with self._lock:
            if self._browser is not browser:
                return  # another account relaunched it already
            self._browser = None
        log.warning("browser gone; launching a new one")
        if browser is self._borrowed:
            return  # its owner closes it
        try:
            await browser.close()
        except Exception:  # a dead browser has nothing to close
            log.debug("closing the dead browser failed", exc_info=True)

    async def _persistent_context(self, account_id: str, proxy: ProxySettings | None) -> BrowserContext:
        directory = private_profile_dir(self._settings, account_id)
        user_agent = await self._installed_user_agent() if self._settings.headless else None
        return await self._launch_persistent(
            directory,
            f"the profile of {account_id}",
            f"could not launch a profile for {account_id}",
            headless=self._settings.headless,
            args=persistent_launch_args(self._settings),
            proxy=proxy,
            user_agent=user_agent,
        )

    async def _launch_persistent(
        self,
        directory: Path,
        what: str,
        failure: str,
        *,
        headless: bool,
        args: list[str],
        proxy: ProxySettings | None,
        user_agent: str | None = None,
    ) -> BrowserContext:
        """A persistent context on ``directory`` with the launcher's executable, sandbox and timeout
        (tried once more on a timeout); a failure is ``LaunchFailed(failure)`` naming only the type."""
        settings = self._settings

        async def launch() -> BrowserContext:
            return await self._playwright.chromium.launch_persistent_context(
                str(directory),
                executable_path=settings.chromium_path,
                headless=headless,
                args=args,
                ignore_default_args=HIDDEN_DEFAULT_ARGS,
                chromium_sandbox=sandboxed(settings),
                locale="en-US",
                proxy=proxy,
                user_agent=user_agent,
                timeout=settings.launch_timeout * 1000,
            )

        try:
            return await _twice_on_timeout(launch, what)
        except Exception as exc:
            raise LaunchFailed(f"{failure}: {type(exc).__name__}") from None

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
        timeout = settings.launch_timeout * 1000
        if settings.launch_mode is LaunchMode.REMOTE and not settings.remote_endpoint:
            raise LaunchFailed("launch_mode=remote needs remote_endpoint")

        async def start() -> Browser:
            endpoint = settings.remote_endpoint
            if settings.launch_mode is LaunchMode.REMOTE and endpoint:
                headers = dict(settings.remote_headers)
                if _is_cdp(endpoint, settings.remote_protocol):
                    return await chromium.connect_over_cdp(endpoint, timeout=timeout, headers=headers)
                return await chromium.connect(endpoint, timeout=timeout, headers=headers)
            return await launch_local(self._playwright, settings)

        try:
            return await _twice_on_timeout(start, "the browser")
        except Exception as exc:
            raise LaunchFailed(f"could not start the browser: {type(exc).__name__}") from None

    async def _installed_user_agent(self) -> str | None:
        """The headed user agent of the installed Chromium (``--version``, read once, bounded); a
        persistent profile is launched before any browser object could tell its version."""
        async with self._lock:
            if not self._version_read:
                self._version_read = True
                self._user_agent = normal_user_agent(await _chromium_version(self._settings))
            return self._user_agent

    async def close(self) -> None:
        """Close the shared browser (idempotent). Persistent contexts are closed by their owners.

        For a remote browser ``close`` only disconnects (Playwright's rule for connected browsers):
        the remote process and its other contexts live on."""
        self._closed = True
        host, self._host = self._host, None
        if host is not None:
            await host.close()
        browser, self._browser = self._browser, None
        if browser is not None and browser is not self._borrowed:
            try:
                await browser.close()
            except Exception:  # already gone is fine: closing is best effort
                log.debug("browser close failed", exc_info=True)


async def _twice_on_timeout(start: Callable[[], Awaitable[_T]], what: str) -> _T:
    """``start()``, tried once more when it timed out: a start that times out is most often a host
    too busy at that moment (Playwright has already killed the half-started process); any other
    failure (no executable, bad arguments, refused connection) would fail the same way again."""
    try:
        return await start()
    except PlaywrightTimeoutError:
        log.warning("starting %s timed out; trying once more", what)
    return await start()


async def _chromium_version(settings: PoolSettings) -> str:
    """``chromium --version`` (e.g. "Chromium 156.0.8078.114"), or "" when it cannot be read."""
    try:
        process = await asyncio.create_subprocess_exec(
            settings.chromium_path,
            "--version",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        return ""
    try:
        async with asyncio.timeout(settings.ui_timeout):
            out, _ = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        log.warning("chromium --version did not answer; the default user agent is kept")
        return ""
    return out.decode("utf-8", "replace")


def _is_cdp(endpoint: str, protocol: str) -> bool:
    if protocol != "auto":
        return protocol == "cdp"
    parts = urlsplit(endpoint)
    return parts.scheme in {"http", "https"} or "/devtools/" in parts.path
