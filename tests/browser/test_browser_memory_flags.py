"""The memory switches reach the Chromium the pool launches (read from its ``/proc/<pid>/cmdline``),
and they do what they are there for: one renderer per warm account (no omnibox popup, no spare),
and with ``process_per_site`` one per account whatever its tabs.

Structural only: process counts and switches, never a memory figure (those are in ``bench/``).
"""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Playwright
from pydantic import ValidationError

from bench.memory import chromium_processes
from browser import AccountSpec, BrowserPool, PoolSettings, TurnRequest
from browser._launcher import PLAYWRIGHT_DISABLED_FEATURES, launch_args
from browser._settings import DEFAULT_ARGS, DEFAULT_DISABLED_FEATURES
from tests.browser.conftest import cookie
from tests.conftest import CHROMIUM_PATH

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_PROC = Path("/proc")
_DISABLE = "--disable-features="


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
