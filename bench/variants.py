"""The launch settings measured side by side for memory: Chromium's defaults, each of our switches
alone, the adopted defaults, and in both launch modes; and, where Debian's ``chromium-headless-shell``
is installed, that build with the adopted defaults, for comparison only: it is lighter, but the page
can tell it is headless (docs/benchmarks.md). One place, so the table and the JSON agree.

The persistent mode starts one browser per account, so its rows measure whole browsers: the
adopted defaults before the persistent switches (``persistent_fewer_processes`` off), each of those
switches alone on top of that, and the adopted defaults with them. ``--no-zygote`` (only possible
with the sandbox off, so never adopted) and ``--single-process`` (unsupported by Chromium: one crash
takes every part of the browser down) are comparisons only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser._launcher import PERSISTENT_ENABLED_FEATURES
from browser._settings import DEFAULT_ARGS

__all__ = [
    "ADOPTED",
    "MEMORY_VARIANTS",
    "PERSISTENT_ADOPTED",
    "PERSISTENT_BEFORE",
    "PROFILES_IN_ONE_BROWSER",
    "TRIED_VARIANTS",
]

_OMNIBOX = ["WebUIOmniboxPopup", "WebUIOmniboxFullPopup", "WebUIOmniboxAimPopup", "PreloadTopChromeWebUI"]
_BEFORE: dict[str, Any] = {"disabled_features": [], "process_per_site": False}
_PERSISTENT = {"launch_mode": "persistent"}
# The persistent mode as it was before its switches: the shared mode's adopted defaults, per browser.
_PERSISTENT_PLAIN = {**_PERSISTENT, "persistent_fewer_processes": False}


def _persistent_plus(*switches: str) -> dict[str, Any]:
    return {**_PERSISTENT_PLAIN, "chromium_args": [*DEFAULT_ARGS, *switches]}


ADOPTED = "shared: adopted defaults"
PERSISTENT_BEFORE = "persistent: adopted shared-mode defaults (before)"
PERSISTENT_ADOPTED = "persistent: adopted defaults"
PROFILES_IN_ONE_BROWSER = "persistent: adopted + profiles in one browser"
# name -> pool settings (on top of the simulator's URL); every one is measured with 1 and 3 accounts.
MEMORY_VARIANTS: dict[str, dict[str, Any]] = {
    "shared: Chromium defaults (before)": _BEFORE,
    "shared: omnibox WebUI off": {"disabled_features": _OMNIBOX, "process_per_site": False},
    "shared: spare renderer off": {
        "disabled_features": ["SpareRendererForSitePerProcess"],
        "process_per_site": False,
    },
    ADOPTED: {},
    "shared: adopted + --js-flags=--lite-mode": {"chromium_args": [*DEFAULT_ARGS, "--js-flags=--lite-mode"]},
    "persistent: Chromium defaults": {**_BEFORE, **_PERSISTENT_PLAIN},
    PERSISTENT_BEFORE: _PERSISTENT_PLAIN,
    "persistent: before + --in-process-gpu": _persistent_plus("--in-process-gpu"),
    "persistent: before + network service in process": _persistent_plus(
        "--enable-features=" + ",".join(PERSISTENT_ENABLED_FEATURES)
    ),
    "persistent: before + --no-unsandboxed-zygote": _persistent_plus("--no-unsandboxed-zygote"),
    PERSISTENT_ADOPTED: _PERSISTENT,
    # Every account a profile of ONE Chromium (normal mode on Ozone's headless platform): the
    # browser, storage service and zygote paid once, a renderer per account (browser._profile_host).
    PROFILES_IN_ONE_BROWSER: {**_PERSISTENT, "profiles_in_one_browser": True},
    "persistent: adopted + --no-zygote (sandbox off only; comparison)": {
        **_PERSISTENT,
        "chromium_args": [*DEFAULT_ARGS, "--no-zygote"],
    },
    # The floor of one browser per account: every part in one process (no zygote to fork from).
    "persistent: before + --single-process --no-zygote (comparison only, never adopted)": _persistent_plus(
        "--single-process", "--no-zygote"
    ),
}


def _adopted_plus(*switches: str) -> dict[str, Any]:
    return {**_PERSISTENT, "chromium_args": [*DEFAULT_ARGS, *switches]}


# Switches tried on the persistent mode's adopted defaults without effect (7 December 2026, within
# +-5 MiB RSS per account: docs/benchmarks.md). Measured only with ``python -m bench --tried``, so
# that ``make bench`` stays short, and kept so that the claim can be checked again on a new Chromium.
TRIED_VARIANTS: dict[str, dict[str, Any]] = {
    "persistent: adopted + --js-flags=--lite-mode (tried)": _adopted_plus("--js-flags=--lite-mode"),
    "persistent: adopted + --js-flags=--max-lazy (tried)": _adopted_plus("--js-flags=--max-lazy"),
    "persistent: adopted + --js-flags=--single-threaded-gc (tried)": _adopted_plus(
        "--js-flags=--single-threaded-gc"
    ),
    "persistent: adopted + --js-flags=--single-threaded (tried)": _adopted_plus(
        "--js-flags=--single-threaded"
    ),
    "persistent: adopted + --process-per-site (tried)": {**_PERSISTENT, "process_per_site": True},
    "persistent: adopted + --enable-low-end-device-mode (tried)": _adopted_plus(
        "--enable-low-end-device-mode"
    ),
    "persistent: adopted + BackForwardCache off (tried)": _adopted_plus(
        "--disable-features=BackForwardCache"
    ),
}
# The binary itself: /usr/bin/chromium-headless-shell is a shell script that does not exec it.
HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")
if HEADLESS_SHELL.exists():
    MEMORY_VARIANTS["shared: chromium-headless-shell (comparison only)"] = {
        "chromium_path": str(HEADLESS_SHELL)
    }
