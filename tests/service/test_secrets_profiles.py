"""Persistent browser profiles hold an account's cookies: their directories are 0700, also when an
older version left them 0755 (issue 11, item 3). Real Chromium, persistent launch mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from playwright.async_api import Playwright

from browser._launcher import Launcher, profile_dir
from browser._settings import LaunchMode, PoolSettings
from tests.conftest import CHROMIUM_ARGS, CHROMIUM_PATH

pytestmark = pytest.mark.browser


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_profiles_are_private_new_or_left_loose(playwright: Playwright, tmp_path: Path) -> None:
    settings = PoolSettings(
        launch_mode=LaunchMode.PERSISTENT,
        data_dir=tmp_path,
        chromium_path=CHROMIUM_PATH,
        chromium_args=tuple(CHROMIUM_ARGS),
    )
    loose = profile_dir(settings, "old")
    loose.mkdir(parents=True)
    os.chmod(loose.parent, 0o755)
    os.chmod(loose, 0o755)
    launcher = Launcher(settings, playwright)
    previous = os.umask(0o022)
    try:
        for account in ("new", "old"):
            context = await launcher.new_context(account, None)
            await context.close()
    finally:
        os.umask(previous)
        await launcher.close()
    assert _mode(tmp_path / "profiles") == 0o700
    assert _mode(profile_dir(settings, "new")) == 0o700
    assert _mode(loose) == 0o700
    assert any(profile_dir(settings, "new").iterdir())  # Chromium did use it
