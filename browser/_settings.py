"""Pool settings: one frozen model built by the caller and passed explicitly (no globals)."""

from __future__ import annotations

import enum
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from browser._overrides import PageOverrides, apply_overrides, load_overrides
from browser._selectors import DEFAULT_TABLE, SelectorTable


class LaunchMode(enum.StrEnum):
    """How accounts get their browser contexts."""

    SHARED = "shared"  # one local Chromium, one context per account
    PERSISTENT = "persistent"  # one local Chromium profile directory per account
    REMOTE = "remote"  # contexts in a remote browser (CDP or Playwright server)


DEFAULT_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Chromium features off on every local launch (``disabled_features``), for memory. Headless Chromium
# still builds a window per context, and each window preloads its omnibox popup as a WebUI page in a
# renderer of its own: ~130 MiB RSS per account for a popup nobody sees. The spare renderer is a
# process kept warm for the next navigation that needs one (~75 MiB per browser); ours stay on one
# site, whose process they reuse.
DEFAULT_DISABLED_FEATURES: tuple[str, ...] = (
    "WebUIOmniboxPopup",
    "WebUIOmniboxFullPopup",
    "WebUIOmniboxAimPopup",
    "PreloadTopChromeWebUI",
    "SpareRendererForSitePerProcess",
)
FeatureName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+$")]


class PoolSettings(BaseModel):
    """Everything the browser layer needs to know; times are seconds."""

    # Errors name fields, never values: a value could be a proxy password.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    gemini_url: str = "https://gemini.google.com"
    chromium_path: str = "/usr/bin/chromium"
    chromium_args: tuple[str, ...] = DEFAULT_ARGS
    # Merged with Playwright's own list and any ``--disable-features=`` in ``chromium_args``; ()
    # turns off none of ours. Local launches only: a remote browser keeps its own switches.
    disabled_features: tuple[FeatureName, ...] = DEFAULT_DISABLED_FEATURES
    # ``--process-per-site``: the tabs of one account share one renderer (a further tab costs ~20 MiB
    # RSS instead of ~135 MiB), but also its main thread, and a renderer crash closes them all. 16
    # streams on 4 accounts x 4 tabs ran faster with it on a quiet machine and slower on a loaded one
    # (README, Benchmarks); off by default, as a warm account has one tab either way.
    process_per_site: bool = False
    headless: bool = True
    launch_mode: LaunchMode = LaunchMode.SHARED
    remote_endpoint: str | None = None
    remote_protocol: str = Field(default="auto", pattern="^(auto|cdp|playwright)$")
    # Sent when connecting; e.g. a Playwright server started with ``--unsafe`` reads
    # ``x-playwright-launch-options`` (JSON: executablePath, args, headless) to launch its browser.
    remote_headers: dict[str, str] = Field(default_factory=dict, repr=False)
    data_dir: Path = Path("data")
    default_proxy: SecretStr | None = None  # may carry credentials: user:pass@host
    language: str = "en"

    tabs_per_account: int = Field(default=1, ge=1)
    queue_size: int = Field(default=32, ge=0)
    queue_timeout: float = Field(default=30.0, gt=0)

    navigation_timeout: float = Field(default=30.0, gt=0)
    # Starting Chromium (or connecting to a remote one) is bounded apart from navigation: a loaded
    # host can take far longer to start a browser than to load a page, and a launch that times out
    # is tried once more before the account fails.
    launch_timeout: float = Field(default=60.0, gt=0)
    ui_timeout: float = Field(default=10.0, gt=0)
    upload_timeout: float = Field(default=60.0, gt=0)
    first_frame_timeout: float = Field(default=60.0, gt=0)
    idle_timeout: float = Field(default=60.0, gt=0)
    turn_timeout: float = Field(default=600.0, gt=0)
    stop_timeout: float = Field(default=5.0, gt=0)

    cookie_save_interval: float = Field(default=60.0, gt=0)
    health_interval: float = Field(default=15.0, gt=0)
    cooldown_default: float = Field(default=3600.0, ge=0)
    block_backoff: float = Field(default=300.0, ge=0)
    block_backoff_max: float = Field(default=6 * 3600.0, ge=0)

    # Selectors and labels an operator adds to the built-in table (``browser._overrides``): given
    # inline, or read from ``page_overrides_file`` (JSON or TOML) when the settings are built.
    page_overrides: PageOverrides | None = None
    page_overrides_file: Path | None = None

    @model_validator(mode="after")
    def _read_overrides(self) -> PoolSettings:
        if self.page_overrides_file is not None and self.page_overrides is None:
            try:
                overrides = load_overrides(self.page_overrides_file)
            except ValueError as exc:
                raise ValueError(f"page_overrides_file: {exc}") from None
            object.__setattr__(self, "page_overrides", overrides)
        return self

    @cached_property
    def selector_table(self) -> SelectorTable:
        """The built-in selector table with the operator's overrides applied."""
        return apply_overrides(DEFAULT_TABLE, self.page_overrides)

    @property
    def base_url(self) -> str:
        return self.gemini_url.rstrip("/")
