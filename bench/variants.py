"""The launch settings measured side by side for memory: Chromium's defaults, each of our switches
alone, the adopted defaults, and in both launch modes; and, where Debian's ``chromium-headless-shell``
is installed, that build with the adopted defaults, for comparison only: it is lighter, but the page
can tell it is headless (docs/benchmarks.md). One place, so the table and the JSON agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser._settings import DEFAULT_ARGS

__all__ = ["ADOPTED", "MEMORY_VARIANTS"]

_OMNIBOX = ["WebUIOmniboxPopup", "WebUIOmniboxFullPopup", "WebUIOmniboxAimPopup", "PreloadTopChromeWebUI"]
_BEFORE: dict[str, Any] = {"disabled_features": [], "process_per_site": False}

ADOPTED = "shared: adopted defaults"
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
    "persistent: Chromium defaults (before)": {**_BEFORE, "launch_mode": "persistent"},
    "persistent: adopted defaults": {"launch_mode": "persistent"},
}
# The binary itself: /usr/bin/chromium-headless-shell is a shell script that does not exec it.
HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")
if HEADLESS_SHELL.exists():
    MEMORY_VARIANTS["shared: chromium-headless-shell (comparison only)"] = {
        "chromium_path": str(HEADLESS_SHELL)
    }
