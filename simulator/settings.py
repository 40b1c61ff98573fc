"""Runtime knobs of the simulator (env prefix ``SIM_``), changeable through ``POST /_sim/config``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SimulatorSettings(BaseSettings):
    """Pacing, limits, UI generation and the observed variants (docs/simulator-contract.md)."""

    model_config = SettingsConfigDict(env_prefix="SIM_", validate_assignment=True)

    # Which generation of gemini.google.com's page to render (docs/architecture/page-model.md: October 2026).
    ui: Literal["oct2026", "mid2026", "early2026"] = "oct2026"
    first_token_delay: float = 1.0
    frame_interval: float = 0.05
    snapshot_chars: int = 24
    # The page's cookie rotation period (protocol.md §1.4: the server dictates 600 s), divided by time_scale.
    rotation_interval: float = 600.0
    # A bound session's ticket (__Secure-1PSIDTS) is honoured this long after it was issued (simulated
    # seconds; peers-late-2026.md §4.1, §7: exported device-bound cookies die after ~1-2 h).
    bound_ticket_lifetime: float = Field(default=7200.0, gt=0)
    # Simulated seconds per real second: every lifetime and interval of the sign-in contract and
    # rotation_interval are divided by it (3600 runs a day in 24 s).
    time_scale: float = Field(default=1.0, gt=0)
    video_render_seconds: float = 3.0
    # A Create-music turn's final frame (the one naming the track) comes this much later (Lyria ~30 s).
    music_render_seconds: float = 2.0
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
    # How the picker offers thinking (C8): inline Low/Medium/High rows, a "Thinking level" submenu,
    # or an "Extended thinking" toggle row; auto = October 2026 levels, mid 2026 submenu.
    thinking_control: Literal["auto", "levels", "submenu", "toggle"] = "auto"
    # Picker rows show for this long with empty labels after the menu opens (C13, MSW 2026-06-28).
    label_fill_delay: float = 0.3
    # otAQ7b [14] is null for an available account (AUTO's mock; GA reads a missing code as 1000, G3).
    status_code_null: bool = False
    # Free-tier allowances per usage window (D8, FREE): beyond them a turn answers 1037.
    free_pro_turns: int = 3
    free_image_turns: int = 20
    # The tools opener's label: both forms are observed (D1: UAT/REG/TOK "and", ADM/CNV "&").
    tools_label: Literal["Upload and tools", "Upload & tools"] = "Upload and tools"
    # ZHT (unverified, D7): while a tool is selected the menu lists no other tool.
    tools_exclusive: bool = False
    # poll: the answer carries only the job chip, the video comes from kwDCne then hNvQHb (J1);
    # stream: the final frame carries the URL, which answers 206 until rendered (J4).
    video_flow: Literal["poll", "stream"] = "poll"
    # text: the research report is the delivering turn's text (K5, GA); immersive: a c[30] document.
    research_report: Literal["text", "immersive"] = "text"
    # A temporary chat (inner[45] = 1) answers follow-ups for this long after it started (simulated
    # seconds), then 1135 (peers-late-2026.md §7: "1135 temporary mode after ~30 min", quiper #4).
    temporary_chat_lifetime: float = Field(default=1800.0, gt=0)
    # The page offers the "Temporary chat" button (false: a page without it, as for an account the
    # feature is not offered to; our choice, so that a driver's refusal can be tested).
    temporary_chat_button: bool = True
