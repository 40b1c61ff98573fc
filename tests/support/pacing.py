"""The simulator's pacing in tests: as fast as the page can follow, but never zero where a wait is
the behaviour (labels filled late, uploads taking time), so the driver's waits still run.

A test about one of these delays sets its own value through ``/_sim/config`` (or its own
settings); tests that must see streaming or stop a stream slow it down themselves."""

from __future__ import annotations

from typing import Any

PACING: dict[str, Any] = {
    "first_token_delay": 0.01,
    "frame_interval": 0.005,
    "snapshot_chars": 24,
    "label_fill_delay": 0.05,
    "upload_delay": 0.02,
}
