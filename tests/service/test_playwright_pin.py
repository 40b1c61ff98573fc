"""Doctor's Playwright/Chromium report against the pin: it names the pinned Playwright and the
Chromium that release was built for (from the installed package), reads the installed Chromium's
version, and warns when the majors differ. The pin lives in pyproject.toml and the lock files
(tests/test_lock.py); docs/operations/upgrades.md says how to move it when Debian's Chromium moves."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import playwright
import pytest

from service.admin.doctor import CHROMIUM_MAJORS_BEHIND, versions
from service.settings import GatewaySettings

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_CHROMIUM = "/usr/bin/chromium"


def pinned_playwright() -> str:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    (pin,) = [str(d) for d in deps if str(d).startswith("playwright==")]
    return pin.removeprefix("playwright==")


def built_for() -> str:
    browsers = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    data = json.loads(browsers.read_text(encoding="utf-8"))["browsers"]
    return next(str(b["browserVersion"]) for b in data if b["name"] == "chromium")


def settings(tmp_path: Path, chromium: str) -> GatewaySettings:
    return GatewaySettings(data_dir=tmp_path / "d", api_keys=["k"], browser={"chromium_path": chromium})  # type: ignore[call-arg, arg-type]


def stand_in(tmp_path: Path, version: str) -> str:
    """An executable that answers ``--version`` as Debian's Chromium does, for a release we cannot
    install beside the real one."""
    path = tmp_path / f"chromium-{version}"
    path.write_text(f"#!/bin/sh\necho 'Chromium {version} built on Debian GNU/Linux 12 (bookworm)'\n")
    path.chmod(0o755)
    return str(path)


def test_doctor_names_the_pin_and_the_installed_chromium(tmp_path: Path) -> None:
    if not Path(DEBIAN_CHROMIUM).exists():
        pytest.skip("Debian's Chromium is not installed")
    real = subprocess.run([DEBIAN_CHROMIUM, "--version"], capture_output=True, text=True, timeout=30)
    found = re.search(r"\d+\.\d+\.\d+\.\d+", real.stdout)
    assert found is not None, real.stdout

    report = versions(settings(tmp_path, DEBIAN_CHROMIUM))

    assert report["playwright"] == pinned_playwright()
    assert report["playwright_expects_chromium"] == built_for()
    assert report["chromium"] == found.group(0)


def test_doctor_warns_when_the_chromium_major_differs(tmp_path: Path) -> None:
    expected_major = int(built_for().split(".")[0])
    same = versions(settings(tmp_path, stand_in(tmp_path, f"{expected_major}.0.1.2")))
    newer = versions(settings(tmp_path, stand_in(tmp_path, f"{expected_major + 1}.0.1.2")))

    assert "warning" not in same
    assert str(expected_major + 1) in newer["warning"] and str(expected_major) in newer["warning"]


def test_doctor_accepts_a_few_releases_behind_but_not_more(tmp_path: Path) -> None:
    """The tested pair itself (the pinned Playwright with Debian's older Chromium) is no warning;
    a browser further behind than the window is."""
    expected_major = int(built_for().split(".")[0])
    within = expected_major - CHROMIUM_MAJORS_BEHIND
    behind = versions(settings(tmp_path, stand_in(tmp_path, f"{within}.0.1.2")))
    too_old = versions(settings(tmp_path, stand_in(tmp_path, f"{within - 1}.0.1.2")))
    assert "warning" not in behind
    assert f"Chromium {within - 1} is more than" in too_old["warning"]
