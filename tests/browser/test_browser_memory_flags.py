"""The memory switches reach the Chromium the pool launches (read from its ``/proc/<pid>/cmdline``),
and they do what they are there for: one renderer per warm account (no omnibox popup, no spare),
and with ``process_per_site`` one per account whatever its tabs; a persistent profile's browser runs
without a GPU process, a network-service process and an unsandboxed zygote, and its profile still
keeps what a signed-in session needs across a relaunch (a cookie, an IndexedDB entry holding a
non-extractable WebCrypto key).

Structural only: process counts and switches, never a memory figure (those are in ``bench/``).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Playwright
from pydantic import ValidationError

from bench.memory import chromium_processes
from browser import AccountSpec, BrowserPool, LaunchMode, PoolSettings, TurnRequest
from browser._launcher import (
    PERSISTENT_ARGS,
    PERSISTENT_ENABLED_FEATURES,
    PLAYWRIGHT_DISABLED_FEATURES,
    PLAYWRIGHT_ENABLED_FEATURES,
    Launcher,
    launch_args,
    persistent_launch_args,
)
from browser._settings import DEFAULT_ARGS, DEFAULT_DISABLED_FEATURES
from tests.browser.conftest import cookie
from tests.conftest import CHROMIUM_PATH

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_PROC = Path("/proc")
_DISABLE = "--disable-features="
_ENABLE = "--enable-features="
_SUB_TYPE = re.compile(r"--utility-sub-type=([\w.]+)")


def _marker() -> str:
    """A switch Chromium ignores, to find this test's browser among every Chromium on the machine."""
    return f"--gateway-test-launch={uuid.uuid4().hex}"


def _browser_pid(marker: str) -> int:
    """The browser process launched with ``marker`` (its children never carry unknown switches)."""
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                switches = (entry / "cmdline").read_bytes().decode("utf-8", "replace").split("\0")
                if marker in switches and not any(s.startswith("--type=") for s in switches):
                    found.append(int(entry.name))
    # A child caught between its fork and its exec still shows the browser's command line: keep the
    # process whose parent is not one of those found.
    found = [pid for pid in found if _parent(pid) not in found]
    assert len(found) == 1, f"expected one browser process with {marker}, found {found}"
    return found[0]


def _parent(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        stat = (_PROC / str(pid) / "stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[1])  # the name in parentheses may hold spaces
    return None


def _switches(pid: int) -> list[str]:
    return (_PROC / str(pid) / "cmdline").read_bytes().decode("utf-8", "replace").split("\0")


def _disabled_features(switches: list[str]) -> list[str]:
    """What Chromium disables: it reads the last ``--disable-features=`` only."""
    last = [s for s in switches if s.startswith(_DISABLE)][-1]
    return last.removeprefix(_DISABLE).split(",")


def _enabled_features(switches: list[str]) -> list[str]:
    """What Chromium enables: the last ``--enable-features=`` only."""
    last = [s for s in switches if s.startswith(_ENABLE)][-1]
    return last.removeprefix(_ENABLE).split(",")


def _renderers(browser_pid: int) -> int:
    return sum(process.kind == "renderer" for process in chromium_processes(browser_pid))


def test_one_last_disable_features_switch_names_playwrights_features_and_ours() -> None:
    settings = PoolSettings(chromium_args=("--no-sandbox", "--disable-features=Foo,Bar", "--mute-audio"))
    args = launch_args(settings)
    assert [arg for arg in args if arg.startswith(_DISABLE)] == [args[-1]]
    names = args[-1].removeprefix(_DISABLE).split(",")
    assert names[: len(PLAYWRIGHT_DISABLED_FEATURES)] == list(PLAYWRIGHT_DISABLED_FEATURES)
    assert {"Foo", "Bar", *DEFAULT_DISABLED_FEATURES} <= set(names)
    assert len(names) == len(set(names))
    assert "--process-per-site" not in args and "--mute-audio" in args
    assert "--disable-blink-features=AutomationControlled" in args
    assert "--process-per-site" in launch_args(PoolSettings(process_per_site=True))

    opted_out = launch_args(PoolSettings(chromium_args=("--no-sandbox",), disabled_features=()))
    assert opted_out[-1] == _DISABLE + ",".join(PLAYWRIGHT_DISABLED_FEATURES)


def test_a_feature_name_cannot_smuggle_in_another_switch() -> None:
    for bad in ("A,B", "A --no-sandbox", ""):
        with pytest.raises(ValidationError):
            PoolSettings(disabled_features=(bad,))


async def test_playwright_still_disables_what_we_repeat(playwright: Playwright) -> None:
    """Ours replaces Playwright's switch; after a Playwright upgrade its list may differ from our copy."""
    marker = _marker()
    browser = await playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=["--no-sandbox", marker])
    try:
        switches = _switches(_browser_pid(marker))
    finally:
        await browser.close()
    assert sorted(_disabled_features(switches)) == sorted(PLAYWRIGHT_DISABLED_FEATURES)
    assert sorted(_enabled_features(switches)) == sorted(PLAYWRIGHT_ENABLED_FEATURES)


def test_persistent_switches_only_in_the_persistent_launch() -> None:
    shared = launch_args(PoolSettings())
    assert not set(PERSISTENT_ARGS) & set(shared)
    # Both modes: no on-device-model service started to rate the device (docs/benchmarks.md).
    assert "--optimization-guide-performance-class=1" in shared
    assert not [arg for arg in shared if arg.startswith(_ENABLE)]  # Playwright's own stands

    persistent = persistent_launch_args(PoolSettings(launch_mode=LaunchMode.PERSISTENT))
    assert set(PERSISTENT_ARGS) <= set(persistent)
    assert "--optimization-guide-performance-class=1" in persistent
    assert "--no-sandbox" in persistent and "--no-zygote" not in persistent
    # One --enable-features, last, naming Playwright's features (it would replace theirs) and ours.
    assert [arg for arg in persistent if arg.startswith(_ENABLE)] == [persistent[-1]]
    assert _enabled_features(persistent) == [*PLAYWRIGHT_ENABLED_FEATURES, *PERSISTENT_ENABLED_FEATURES]
    assert _disabled_features(persistent) == _disabled_features(shared)

    plain = PoolSettings(launch_mode=LaunchMode.PERSISTENT, persistent_fewer_processes=False)
    assert persistent_launch_args(plain) == launch_args(plain)

    # An operator's own --enable-features is merged, not left to replace Playwright's.
    own = PoolSettings(chromium_args=(*DEFAULT_ARGS, "--enable-features=Foo", "--in-process-gpu"))
    merged = persistent_launch_args(own)
    assert _enabled_features(merged) == [*PLAYWRIGHT_ENABLED_FEATURES, "Foo", *PERSISTENT_ENABLED_FEATURES]
    assert merged.count("--in-process-gpu") == 1
    assert _enabled_features(launch_args(own)) == [*PLAYWRIGHT_ENABLED_FEATURES, "Foo"]


_VARIANTS = {
    "defaults": {},
    "process-per-site": {"process_per_site": True},
    "opted-out": {"disabled_features": ()},
}


@pytest.mark.parametrize("variant", list(_VARIANTS))
async def test_two_warm_accounts_take_one_renderer_each(
    simulator_url: str, tmp_path: Path, variant: str
) -> None:
    marker = _marker()
    settings = PoolSettings.model_validate(
        {
            "gemini_url": simulator_url,
            "data_dir": tmp_path,
            "chromium_args": (*DEFAULT_ARGS, marker),
            "tabs_per_account": 2,
            "ui_timeout": 5,
            "navigation_timeout": 15,
            "queue_timeout": 10,
            **_VARIANTS[variant],
        }
    )
    async with BrowserPool(settings) as pool:
        for name in ("one", "two"):
            await pool.add_account(AccountSpec(name=name, psid=cookie("paid")))
        pid = _browser_pid(marker)
        switches = _switches(pid)
        disabled = set(_disabled_features(switches))
        assert set(PLAYWRIGHT_DISABLED_FEATURES) <= disabled
        warm = _renderers(pid)
        # Four turns held at once: both tabs of both accounts are leased, and each answers (so
        # each has loaded the app) before any lease ends.
        async with contextlib.AsyncExitStack() as stack:
            turns = [
                await stack.enter_async_context(pool.turn(TurnRequest(prompt=f"memory flags {index}")))
                for index in range(4)
            ]
            assert sum(info.active_turns for info in pool.accounts()) == 4
            for turn in turns:
                async for _ in turn:
                    pass
                assert turn.final is not None and turn.final.completed
            busy = _renderers(pid)
    if variant == "opted-out":
        assert not set(DEFAULT_DISABLED_FEATURES) & disabled
        # Chromium's own model: every tab a renderer, one more per account for the omnibox popup.
        assert warm >= 4 and busy >= 6
        return
    assert set(DEFAULT_DISABLED_FEATURES) <= disabled
    # No omnibox WebUI renderer, no spare renderer: one renderer per tab, or per account when its
    # tabs share one.
    if variant == "process-per-site":
        assert "--process-per-site" in switches and (warm, busy) == (2, 2)
    else:
        assert "--process-per-site" not in switches and (warm, busy) == (2, 4)


def _kinds(browser_pid: int) -> list[str]:
    """Each process of the browser's tree, a utility process named by its service."""
    kinds = []
    for process in chromium_processes(browser_pid):
        # A child's argv is rewritten into one space-separated string.
        sub = _SUB_TYPE.search((_PROC / str(process.pid) / "cmdline").read_text("utf-8", "replace"))
        kinds.append(sub.group(1) if process.kind == "utility" and sub else process.kind)
    return sorted(kinds)


@pytest.mark.parametrize("fewer", [True, False], ids=["adopted", "chromium-model"])
async def test_a_persistent_browser_starts_fewer_processes(
    simulator_url: str, tmp_path: Path, fewer: bool
) -> None:
    marker = _marker()
    settings = PoolSettings(
        gemini_url=simulator_url,
        data_dir=tmp_path,
        launch_mode=LaunchMode.PERSISTENT,
        persistent_fewer_processes=fewer,
        chromium_args=(*DEFAULT_ARGS, marker),
        ui_timeout=5,
        navigation_timeout=15,
        queue_timeout=10,
    )
    async with BrowserPool(settings) as pool:
        await pool.add_account(AccountSpec(name="one", psid=cookie("paid")))
        pid = _browser_pid(marker)
        switches = _switches(pid)
        kinds = _kinds(pid)
        async with pool.turn(TurnRequest(prompt="memory flags, persistent")) as turn:
            async for _ in turn:
                pass
            assert turn.final is not None and turn.final.completed
    network = "network.mojom.NetworkService"
    if not fewer:
        assert not set(PERSISTENT_ARGS) & set(switches)
        assert {"gpu-process", network} <= set(kinds) and kinds.count("zygote") == 2
        return
    assert set(PERSISTENT_ARGS) <= set(switches)
    assert set(PERSISTENT_ENABLED_FEATURES) <= set(_enabled_features(switches))
    assert set(PLAYWRIGHT_ENABLED_FEATURES) <= set(_enabled_features(switches))
    assert "gpu-process" not in kinds and network not in kinds
    assert kinds.count("zygote") == 1 and kinds.count("renderer") == 1


# A device key as a signed-in page keeps it (WebCrypto ECDSA P-256, non-extractable, in IndexedDB;
# /work/notes/signin-contract.md), a persistent cookie, and a proof that the key still signs.
_STORE = """async () => {
    document.cookie = "memory_flags=kept; max-age=86400; path=/";
    const pair = await crypto.subtle.generateKey(
        {name: "ECDSA", namedCurve: "P-256"}, false, ["sign", "verify"]);
    const pub = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const db = await new Promise((resolve, reject) => {
        const open = indexedDB.open("memory-flags", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("keys");
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
    });
    await new Promise((resolve, reject) => {
        const tx = db.transaction("keys", "readwrite");
        tx.objectStore("keys").put({privateKey: pair.privateKey, pub}, "device");
        tx.oncomplete = resolve;
        tx.onerror = () => reject(tx.error);
    });
    db.close();
    return pair.privateKey.extractable;
}"""
_CHECK = """async () => {
    const db = await new Promise((resolve, reject) => {
        const open = indexedDB.open("memory-flags", 1);
        open.onupgradeneeded = () => open.result.createObjectStore("keys");
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
    });
    const entry = await new Promise((resolve, reject) => {
        const get = db.transaction("keys").objectStore("keys").get("device");
        get.onsuccess = () => resolve(get.result);
        get.onerror = () => reject(get.error);
    });
    db.close();
    if (entry === undefined) return {cookie: document.cookie, verified: null};
    const algorithm = {name: "ECDSA", hash: "SHA-256"};
    const data = new TextEncoder().encode("memory flags");
    const signature = await crypto.subtle.sign(algorithm, entry.privateKey, data);
    const pub = await crypto.subtle.importKey(
        "jwk", entry.pub, {name: "ECDSA", namedCurve: "P-256"}, false, ["verify"]);
    return {cookie: document.cookie, verified: await crypto.subtle.verify(algorithm, pub, signature, data)};
}"""


async def test_a_persistent_profile_keeps_its_cookie_and_indexeddb_key_across_a_relaunch(
    playwright: Playwright, simulator_url: str, tmp_path: Path
) -> None:
    marker = _marker()
    settings = PoolSettings(
        gemini_url=simulator_url,
        data_dir=tmp_path,
        launch_mode=LaunchMode.PERSISTENT,
        chromium_args=(*DEFAULT_ARGS, marker),
    )
    url = f"{simulator_url}/_sim/config"  # any page of the origin: its storage is what counts
    for run in ("first", "relaunched"):
        launcher = Launcher(settings, playwright)  # a new one each time, as after a gateway restart
        context = await launcher.new_context("kept", None)
        try:
            switches = _switches(_browser_pid(marker))
            assert set(PERSISTENT_ARGS) <= set(switches), run
            assert set(PERSISTENT_ENABLED_FEATURES) <= set(_enabled_features(switches)), run
            page = await context.new_page()
            await page.goto(url)
            if run == "first":
                assert await page.evaluate(_CHECK) == {"cookie": "", "verified": None}
                assert await page.evaluate(_STORE) is False
            found = await page.evaluate(_CHECK)
            jar = {c["name"]: c["value"] for c in await context.cookies(simulator_url)}
        finally:
            await context.close()  # closes the profile's browser, as the pool does
            await launcher.close()
        assert found == {"cookie": "memory_flags=kept", "verified": True}, run
        assert jar.get("memory_flags") == "kept", run
