"""``python -m bench.profiles [--profiles N] [--platform headless|x11] [--check]``: what a persistent
account would cost if several profiles shared one Chromium, beside one Chromium per profile (the
persistent mode today), with the same switches (``persistent_launch_args`` of the default settings)
and the simulator's page.

The spike behind the gateway's ``browser.profiles_in_one_browser`` (``browser/_profile_host.py``;
``python -m bench --memory-only`` measures the gateway itself): the only route we found under 300 MiB
RSS per persistent account (docs/benchmarks.md). A second launch on a profile directory that a running
Chromium holds hands its ``--profile-directory`` over to that browser (Chromium's process
singleton), which opens a window in that profile: one browser, one storage service and one zygote for
every profile, and a renderer each. Headless Chromium (``--headless``) refuses the hand-off ("Failed
to create a ProcessSingleton"); a browser in its normal (headed) mode on Ozone's headless platform
(``--ozone-platform=headless``, the default ``--platform`` here) accepts it with no display at all;
``--platform x11`` draws on a display instead (run it under ``xvfb-run -a``).

``--check`` drives such a browser with Playwright the way the gateway would have to, and asserts what
a persistent account needs: each profile's page sends its own cookie (set and read through a CDP
session on that page: ``Network.setCookies``/``Network.getAllCookies`` reach the page's profile),
``window.open`` from a profile's page stays in that profile, and after a relaunch both profiles are
still signed in and an IndexedDB entry holding a non-extractable ECDSA key (a bound session's device
key) still signs. It also prints what does *not* follow a profile: Playwright's context (its
``new_page`` and ``Storage.getCookies`` without a context id go to Chromium's last-used profile)."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.async_api import BrowserContext, Page, Playwright, async_playwright

from bench import servers
from bench.memory import chromium_memory
from browser._launcher import HIDDEN_DEFAULT_ARGS, persistent_launch_args
from browser._settings import LaunchMode, PoolSettings

_MIB = 1024
_SETTLE = 3.0  # seconds after a profile's renderer appears, like bench.measure's settle
HEADLESS_PLATFORM = "--ozone-platform=headless"


def _switches(user_data_dir: Path, platform: str) -> list[str]:
    settings = PoolSettings(launch_mode=LaunchMode.PERSISTENT)
    # The sandbox stays as the defaults have it; the first-run UI would open a page of its own.
    return [
        f"--user-data-dir={user_data_dir}",
        "--no-first-run",
        "--no-default-browser-check",
        "--password-store=basic",
        *persistent_launch_args(settings),
        *([HEADLESS_PLATFORM] if platform == "headless" else []),
    ]


def _rss_kib(root: int) -> int:
    """RSS of the browser ``root`` and its children (``chromium_memory`` counts only the children)."""
    status = Path(f"/proc/{root}/status").read_text()
    own = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return own + chromium_memory(root).rss_kib


def _wait_for_renderers(root: int, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while chromium_memory(root).renderers < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} renderers did not appear")
        time.sleep(0.2)
    time.sleep(_SETTLE)


def _hand_over(chromium: str, switches: list[str], profile: str, page: str) -> None:
    """Open ``page`` in ``profile`` of the browser that holds the switches' user data directory:
    this launch hands its command line over and exits (status 0), or fails if nobody took it."""
    subprocess.run(
        [chromium, *switches, f"--profile-directory={profile}", page],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
        check=True,
    )


@contextmanager
def _chromium(args: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def one_browser(chromium: str, page: str, profiles: int, workdir: Path, platform: str) -> list[float]:
    """RSS (MiB) of one Chromium after each of ``profiles`` profiles opened ``page``."""
    switches = _switches(workdir / f"shared-browser-{platform}", platform)
    found: list[float] = []
    with _chromium([chromium, *switches, page]) as browser:
        _wait_for_renderers(browser.pid, 1)
        found.append(_rss_kib(browser.pid) / _MIB)
        for index in range(2, profiles + 1):
            _hand_over(chromium, switches, f"Profile {index}", page)
            _wait_for_renderers(browser.pid, index)
            found.append(_rss_kib(browser.pid) / _MIB)
    return found


def browser_each(chromium: str, page: str, profiles: int, workdir: Path, platform: str) -> list[float]:
    """RSS (MiB) of ``profiles`` Chromiums, one per profile directory, after each one opened ``page``."""
    found: list[float] = []
    running: list[subprocess.Popen[bytes]] = []
    try:
        for index in range(1, profiles + 1):
            switches = _switches(workdir / f"browser-{platform}-{index}", platform)
            running.append(
                subprocess.Popen(
                    [chromium, *switches, page], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            )
            _wait_for_renderers(running[-1].pid, 1)
            found.append(sum(_rss_kib(process.pid) for process in running) / _MIB)
    finally:
        for process in running:
            process.terminate()
        for process in running:
            process.wait(timeout=15)
    return found


# --check: the hand-off driven through Playwright, as an account of the gateway would use it.

_STORE_KEY = """async () => {
  const key = await crypto.subtle.generateKey({name: 'ECDSA', namedCurve: 'P-256'}, false, ['sign']);
  const db = await new Promise((ok, fail) => { const r = indexedDB.open('bench', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('keys'); r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error); });
  await new Promise((ok, fail) => { const t = db.transaction('keys', 'readwrite');
    t.objectStore('keys').put(key, 'device'); t.oncomplete = ok; t.onerror = () => fail(t.error); });
}"""
_SIGN_WITH_KEY = """async () => {
  const db = await new Promise((ok, fail) => { const r = indexedDB.open('bench', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('keys'); r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error); });
  const key = await new Promise(ok => { const q = db.transaction('keys').objectStore('keys').get('device');
    q.onsuccess = () => ok(q.result); });
  if (!key) return 0;
  const algorithm = {name: 'ECDSA', hash: 'SHA-256'};
  const signed = await crypto.subtle.sign(algorithm, key.privateKey, new Uint8Array([1]));
  return signed.byteLength;
}"""
_SESSION = "__Secure-1PSID"


async def _launch(playwright: Playwright, user_data_dir: Path) -> BrowserContext:
    settings = PoolSettings(launch_mode=LaunchMode.PERSISTENT)
    return await playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=settings.chromium_path,
        headless=False,
        # The host profile is named: Chromium would otherwise start in the last-used profile.
        args=[*persistent_launch_args(settings), HEADLESS_PLATFORM, "--profile-directory=Default"],
        ignore_default_args=HIDDEN_DEFAULT_ARGS,
    )


async def _open_profile(context: BrowserContext, user_data_dir: Path, profile: str, page: str) -> Page:
    settings = PoolSettings(launch_mode=LaunchMode.PERSISTENT)
    # Playwright files pages of a profile it did not create under the context it launched.
    async with context.expect_page(timeout=30_000) as opened:
        await asyncio.to_thread(
            _hand_over, settings.chromium_path, _switches(user_data_dir, "headless"), profile, page
        )
    new = await opened.value
    await new.wait_for_load_state()
    return new


async def _cdp(
    context: BrowserContext, page: Page, method: str, params: dict[str, object]
) -> dict[str, object]:
    session = await context.new_cdp_session(page)
    try:
        return await session.send(method, params)
    finally:
        await session.detach()


async def _session_cookie(context: BrowserContext, page: Page) -> str | None:
    found = await _cdp(context, page, "Network.getAllCookies", {})
    cookies = found["cookies"]
    assert isinstance(cookies, list)
    return next((c["value"] for c in cookies if c["name"] == _SESSION), None)


async def _sent_cookie(page: Page, url: str) -> str:
    async with page.expect_request(url) as request:
        await page.goto(url)
    return (await (await request.value).all_headers()).get("cookie", "")


async def check(sim_url: str, workdir: Path) -> None:
    page_url = f"{sim_url}/app"
    user_data_dir = workdir / "check-browser"
    async with async_playwright() as playwright:
        context = await _launch(playwright, user_data_dir)
        try:
            pages: dict[str, Page] = {"Default": context.pages[0]}
            await pages["Default"].goto(page_url)
            for profile in ("Profile 2", "Profile 3"):
                pages[profile] = await _open_profile(context, user_data_dir, profile, page_url)
            for index, page in enumerate(pages.values()):
                cookie = {"name": _SESSION, "value": f"bench-{index}", "url": sim_url, "secure": True}
                await _cdp(
                    context,
                    page,
                    "Network.setCookies",
                    {"cookies": [{**cookie, "expires": time.time() + 86_400}]},
                )
            for index, (profile, page) in enumerate(pages.items()):
                assert await _session_cookie(context, page) == f"bench-{index}", profile
                sent = await _sent_cookie(page, page_url)
                assert sent == f"{_SESSION}=bench-{index}", (profile, sent)
                print(f"{profile}: its page's request sent its own cookie (bench-{index})")
            async with context.expect_page() as popup_info:
                await pages["Profile 2"].evaluate("url => window.open(url)", page_url)
            popup = await popup_info.value
            await popup.wait_for_load_state()
            assert await popup.evaluate("document.cookie") == f"{_SESSION}=bench-1"
            await popup.close()
            print("window.open from Profile 2's page opened a page in Profile 2")
            stray = await context.new_page()
            await stray.goto(page_url)
            landed = await stray.evaluate("document.cookie")
            print(f"Playwright's context.new_page() landed in the profile whose cookie is {landed!r}")
            await stray.close()
            await pages["Profile 2"].evaluate(_STORE_KEY)
        finally:
            await context.close()
        context = await _launch(playwright, user_data_dir)
        try:
            first = context.pages[0]
            await first.goto(page_url)
            second = await _open_profile(context, user_data_dir, "Profile 2", page_url)
            assert await _sent_cookie(first, page_url) == f"{_SESSION}=bench-0"
            assert await _sent_cookie(second, page_url) == f"{_SESSION}=bench-1"
            assert await second.evaluate(_SIGN_WITH_KEY) == 64
            assert await first.evaluate(_SIGN_WITH_KEY) == 0
            print("after a relaunch: Default and Profile 2 still send their own cookies;")
            print("Profile 2's IndexedDB device key still signs, Default has none")
        finally:
            await context.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profiles", description=__doc__)
    parser.add_argument("--profiles", type=int, default=3)
    parser.add_argument("--platform", choices=("headless", "x11"), default="headless")
    parser.add_argument(
        "--check", action="store_true", help="check cookies and IndexedDB per profile instead"
    )
    args = parser.parse_args(argv)
    if args.platform == "x11" and not os.environ.get("DISPLAY"):
        parser.error("--platform x11 needs a display: run it under xvfb-run -a")
    chromium = PoolSettings().chromium_path
    with tempfile.TemporaryDirectory(prefix="gateway-bench-profiles-") as directory:
        workdir = Path(directory)
        with servers.simulator(workdir, 1.0, 0.05) as sim:
            if args.check:
                asyncio.run(check(sim.url, workdir))
                return
            page = f"{sim.url}/app"
            for name, measure in (("one browser per profile", browser_each), ("one browser", one_browser)):
                rss = measure(chromium, page, args.profiles, workdir, args.platform)
                extra = (rss[-1] - rss[0]) / (len(rss) - 1)
                steps = " -> ".join(f"{value:.1f}" for value in rss)
                print(
                    f"{name} ({args.platform}): RSS {steps} MiB for 1..{args.profiles} profiles, "
                    f"{extra:.1f} MiB per extra one"
                )


if __name__ == "__main__":
    main()
