"""The lock files hold what pyproject.toml asks for, with hashes, at the versions this environment
runs (so a green suite here is a green suite from the lock), and Playwright exactly at its pin.
After changing a dependency in pyproject.toml: `make lock` (docs/development.md)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"
# The installer and the build backend: locked for the image and make, but a developer's venv may
# carry others without changing what the suite runs with.
BOOTSTRAP = {"pip", "setuptools"}
ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})+)", re.M)


def locked(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    entries: dict[str, str] = {canonicalize_name(m[1]): m[2] for m in ENTRY.finditer(text)}
    pins = re.findall(r"^[A-Za-z0-9]\S*==", text, re.M)
    assert len(pins) == len(entries), f"{path.name}: an entry without a hash"
    return entries


def project() -> dict[str, list[Requirement]]:
    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = [Requirement(r) for r in table["dependencies"]]
    return {
        "runtime": runtime,
        "test": runtime + [Requirement(r) for r in table["optional-dependencies"]["test"]],
    }


@pytest.mark.parametrize(
    ("extra", "lock"), [("runtime", RUNTIME_LOCK), ("test", TEST_LOCK)], ids=["runtime", "test"]
)
def test_every_dependency_is_locked_within_its_range(extra: str, lock: Path) -> None:
    pins = locked(lock)
    outside = [
        str(r)
        for r in project()[extra]
        if canonicalize_name(r.name) not in pins or not r.specifier.contains(pins[canonicalize_name(r.name)])
    ]
    assert not outside, f"not in {lock.name} or outside the range: {outside}; run `make lock`"
    assert pins.keys() >= BOOTSTRAP


def test_the_image_gets_the_tested_versions() -> None:
    runtime, test = locked(RUNTIME_LOCK), locked(TEST_LOCK)
    assert {name: test.get(name) for name in runtime} == runtime


def test_this_environment_runs_the_locked_versions() -> None:
    differ = {}
    for name, version in locked(TEST_LOCK).items():
        if name in BOOTSTRAP:
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            differ[name] = (version, installed)
    assert not differ, f"locked vs installed: {differ}; install the lock, or `make lock` what was tested"


def test_playwright_is_pinned_exactly_everywhere() -> None:
    (playwright,) = [r for r in project()["runtime"] if r.name == "playwright"]
    (spec,) = playwright.specifier
    assert spec.operator == "=="
    assert locked(RUNTIME_LOCK)["playwright"] == locked(TEST_LOCK)["playwright"] == spec.version
    assert metadata.version("playwright") == spec.version


def test_the_end_to_end_clients_have_a_lock_of_their_own() -> None:
    """LlamaIndex and instructor run in their own venv (tests/support/clients.py), from this lock."""
    folder = ROOT / "tests" / "pyclients"
    wanted = [
        Requirement(line)
        for line in (folder / "requirements.in").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    pins = locked(folder / "requirements.lock")
    assert wanted and all(canonicalize_name(r.name) in pins for r in wanted)
    assert "openai" in pins  # the version these clients were written against, not the suite's
