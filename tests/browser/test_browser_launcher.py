"""The launcher: shared and persistent contexts, per-account proxies, relaunch after a crash."""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Playwright

from browser._cookies import for_site, from_session
from browser._driver import PageDriver, PageState
from browser._launcher import Launcher, proxy_host, proxy_settings
from browser._settings import DEFAULT_ARGS, LaunchMode, PoolSettings
from browser.errors import LaunchFailed
from tests.browser.conftest import cookie
from tests.browser.http_proxy import RecordingProxy, running_proxy

pytestmark = pytest.mark.browser


def test_proxy_settings_split_credentials() -> None:
    settings = proxy_settings("socks5://user:p%40ss@127.0.0.1:1080")
    assert settings["server"] == "socks5://127.0.0.1:1080"
    assert (settings.get("username"), settings.get("password")) == ("user", "p@ss")
    assert proxy_host("http://user:secret@10.0.0.1:3128") == "http://10.0.0.1:3128"
    with pytest.raises(ValueError):
        proxy_settings("ftp://host:21")


@pytest.fixture
async def launcher_factory(playwright: Playwright) -> AsyncIterator[list[Launcher]]:
    made: list[Launcher] = []
    yield made
    for launcher in made:
        await launcher.close()


async def _open(context: BrowserContext, url: str, psid: str) -> PageState:
    await context.add_cookies(for_site(from_session(psid), url))
    page = await context.new_page()
    settings = PoolSettings(gemini_url=url, ui_timeout=5, navigation_timeout=15)
    return await PageDriver(page, settings).open("/app")


@pytest.mark.parametrize("mode", [LaunchMode.SHARED, LaunchMode.PERSISTENT])
async def test_proxy_per_account(
    playwright: Playwright,
    launcher_factory: list[Launcher],
    simulator_url: str,
    tmp_path: Path,
    mode: LaunchMode,
) -> None:
    proxy = RecordingProxy(credentials=("alice", "wonder land"))
    with running_proxy(proxy) as proxy_url:
        settings = PoolSettings(gemini_url=simulator_url, launch_mode=mode, data_dir=tmp_path)
        launcher = Launcher(settings, playwright)
        launcher_factory.append(launcher)
        authed = proxy_url.replace("http://", "http://alice:wonder%20land@")
        proxied = await launcher.new_context("with-proxy", authed)
        direct = await launcher.new_context("direct", None)
        try:
            assert await _open(direct, simulator_url, cookie("paid")) is PageState.READY
            assert proxy.seen == []
            assert await _open(proxied, simulator_url, cookie("paid")) is PageState.READY
            port = simulator_url.rsplit(":", 1)[1]
            assert any(f"localhost:{port}/app" in target for target in proxy.seen)
        finally:
            await proxied.close()
            await direct.close()
    if mode is LaunchMode.PERSISTENT:
        assert (tmp_path / "profiles" / "with-proxy").is_dir()


async def test_shared_browser_is_relaunched_after_a_crash(
    playwright: Playwright, launcher_factory: list[Launcher], simulator_url: str, tmp_path: Path
) -> None:
    launcher = Launcher(PoolSettings(gemini_url=simulator_url, data_dir=tmp_path), playwright)
    launcher_factory.append(launcher)
    context = await launcher.new_context("a", None)
    await kill_browser_of(context)
    again = await launcher.new_context("a", None)
    assert await _open(again, simulator_url, cookie("paid")) is PageState.READY


async def kill_browser_of(context: BrowserContext) -> None:
    """SIGKILL the Chromium process behind ``context`` (found through CDP, not by name)."""
    browser = context.browser
    assert browser is not None
    session = await browser.new_browser_cdp_session()
    info = await session.send("SystemInfo.getProcessInfo")
    pid = next(int(proc["id"]) for proc in info["processInfo"] if proc["type"] == "browser")
    os.kill(pid, signal.SIGKILL)
    for _ in range(200):
        if not browser.is_connected():
            return
        import asyncio

        await asyncio.sleep(0.05)
    raise AssertionError("browser still connected after SIGKILL")


@pytest.mark.parametrize("mode", [LaunchMode.SHARED, LaunchMode.PERSISTENT])
async def test_a_start_that_times_out_is_tried_once_more(
    playwright: Playwright,
    launcher_factory: list[Launcher],
    simulator_url: str,
    tmp_path: Path,
    mode: LaunchMode,
) -> None:
    """A Chromium that hangs on its first start (a host busy at that moment) costs one timeout, not
    the account: the wrapper below hangs once, then runs the real Chromium."""
    real = PoolSettings(gemini_url=simulator_url).chromium_path
    marker = tmp_path / "started-once"
    wrapper = tmp_path / "chromium"
    # ``--version`` (read before a persistent profile starts) answers at once; the first start hangs.
    wrapper.write_text(
        f'#!/bin/sh\n[ "$1" = --version ] && exec "{real}" --version\n'
        f'if [ ! -e "{marker}" ]; then : > "{marker}"; exec sleep 60; fi\nexec "{real}" "$@"\n'
    )
    wrapper.chmod(0o700)
    settings = PoolSettings(
        gemini_url=simulator_url,
        launch_mode=mode,
        data_dir=tmp_path / "data",
        chromium_path=str(wrapper),
        launch_timeout=6,  # the hung start costs this once; the real one must fit in it under load
    )
    launcher = Launcher(settings, playwright)
    launcher_factory.append(launcher)
    context = await launcher.new_context("slow-start", None)
    try:
        assert marker.exists()  # the first start really hung
        assert await _open(context, simulator_url, cookie("paid")) is PageState.READY
    finally:
        await context.close()


async def test_a_start_that_fails_otherwise_is_not_retried(
    playwright: Playwright, launcher_factory: list[Launcher], simulator_url: str, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    wrapper = tmp_path / "chromium"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{runs}"\nexit 3\n')
    wrapper.chmod(0o700)
    settings = PoolSettings(gemini_url=simulator_url, data_dir=tmp_path, chromium_path=str(wrapper))
    launcher = Launcher(settings, playwright)
    launcher_factory.append(launcher)
    with pytest.raises(LaunchFailed, match="could not start the browser"):
        await launcher.new_context("broken", None)
    assert runs.read_text().splitlines() == ["run"]


async def test_the_sandbox_is_on_unless_the_arguments_turn_it_off(
    playwright: Playwright, launcher_factory: list[Launcher], simulator_url: str, tmp_path: Path
) -> None:
    """Playwright adds ``--no-sandbox`` to every launch unless asked not to, so a configuration
    without it (the Docker image's) would still run unsandboxed. Chromium refuses a sandbox to
    root, which makes the refusal itself the proof that the sandbox was asked for here."""
    marker = f"--gateway-test-launch={uuid.uuid4().hex}"
    args = (*(arg for arg in DEFAULT_ARGS if arg != "--no-sandbox"), marker)
    sandboxed = PoolSettings(gemini_url=simulator_url, data_dir=tmp_path, chromium_args=args)
    launcher = Launcher(sandboxed, playwright)
    launcher_factory.append(launcher)
    if os.geteuid() == 0:
        with pytest.raises(LaunchFailed, match="could not start the browser"):
            await launcher.new_context("sandboxed", None)
    else:
        context = await launcher.new_context("sandboxed", None)
        try:
            assert "--no-sandbox" not in _browser_switches(marker)
        finally:
            await context.close()
    plain = (*DEFAULT_ARGS, marker)
    unsandboxed = PoolSettings(gemini_url=simulator_url, data_dir=tmp_path, chromium_args=plain)
    launcher = Launcher(unsandboxed, playwright)
    launcher_factory.append(launcher)
    context = await launcher.new_context("unsandboxed", None)
    try:
        assert "--no-sandbox" in _browser_switches(marker)
    finally:
        await context.close()


def _browser_switches(marker: str) -> list[str]:
    """The switches of the one browser process launched with ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                switches = (entry / "cmdline").read_bytes().decode("utf-8", "replace").split("\0")
                if marker in switches and not any(s.startswith("--type=") for s in switches):
                    found.append(switches)
    assert len(found) == 1, f"expected one browser process with {marker}, found {len(found)}"
    return found[0]
