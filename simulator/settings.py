"""Runtime knobs of the simulator (env prefix ``SIM_``), changeable through ``POST /_sim/config``."""

from __future__ import annotations

from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class SimulatorSettings(BaseSettings):
    """Pacing, limits and UI generation of one simulator instance (docs/simulator-contract.md)."""

    model_config = SettingsConfigDict(env_prefix="SIM_", validate_assignment=True)

    ui: Literal["mid2026", "early2026"] = "mid2026"
    first_token_delay: float = 1.0
    frame_interval: float = 0.05
    snapshot_chars: int = 24
    rotation_interval: float = 600.0
    video_render_seconds: float = 3.0
    # 0: "Start research" answers with the report; above 0 it answers with a running stub and the
    # report is ready that many seconds later (simulator/research_runs.py).
    research_seconds: float = 0.0
    max_request_bytes: int = 130_000
    upload_delay: float = 0.3
    # Seconds before a signed-out page shows its Sign-in markers (the real page renders them late).
    signin_marker_delay: float = 0.0
    # Longest a "stall" behaviour keeps a connection open, so no test can hang forever.
    max_stall_seconds: float = 120.0
    # Where the real watermark captures may live; the synthesised mark is used when absent.
    watermark_dir: str = ""
