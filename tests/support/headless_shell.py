"""Debian's ``chromium-headless-shell``, for the tests that show what the page can tell about it.

Its path is the one the memory benchmark measures (``bench.variants``). CI installs only
``chromium``, so these tests skip there.
"""

from __future__ import annotations

import pytest

from bench.variants import HEADLESS_SHELL

__all__ = ["HEADLESS_SHELL", "needs_headless_shell"]

needs_headless_shell = pytest.mark.skipif(
    not HEADLESS_SHELL.exists(),
    reason=f"{HEADLESS_SHELL} is absent: chromium-headless-shell is not installed (CI has only chromium)",
)
