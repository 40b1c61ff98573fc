"""Debian's ``chromium-headless-shell``, for the tests that show what the page can tell about it.

The binary itself: ``/usr/bin/chromium-headless-shell`` is a shell script that does not exec it. CI
installs only ``chromium``, so these tests skip there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HEADLESS_SHELL = Path("/usr/lib/chromium/chromium-headless-shell")

needs_headless_shell = pytest.mark.skipif(
    not HEADLESS_SHELL.exists(),
    reason=f"{HEADLESS_SHELL} is absent: chromium-headless-shell is not installed (CI has only chromium)",
)
