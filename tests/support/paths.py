"""Where the shared real data lives (beside the checkout, as in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
REALDATA = SHARED / "realdata"


def realdata(*parts: str) -> Path:
    """Path to a file under ../shared/realdata, skipping the test cleanly when it is absent."""
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared real data not present: {path}")
    return path
