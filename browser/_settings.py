"""Pool settings: one frozen model built by the caller and passed explicitly (no globals)."""

from __future__ import annotations

import enum
from functools import cached_property
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)

from browser._overrides import PageOverrides, apply_overrides, load_overrides
from browser._selectors import DEFAULT_TABLE, SelectorTable


class LaunchMode(enum.StrEnum):
    """How accounts get their browser contexts."""

    SHARED = "shared"  # one local Chromium, one context per account
    PERSISTENT = "persistent"  # one local Chromium profile directory per account
    REMOTE = "remote"  # contexts in a remote browser (CDP or Playwright server)


# ``--optimization-guide-performance-class=1``: Chromium rates the device for on-device AI models
# ~3 minutes after start by launching its on-device-model service (~80 MiB RSS, kept running: once
# per browser, so per account in the persistent mode). Giving the rating (1: "error", no on-device
# model) skips that launch; the Gemini page uses no on-device model.
DEFAULT_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--optimization-guide-performance-class=1",
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
# An egress as ``egress_limits`` names it: ``direct`` or a proxy's ``scheme://host:port`` (no credentials).
EgressName = Annotated[
    str, StringConstraints(pattern=r"^(?i:direct|(http|https|socks5)://[^/@:\s]+:[0-9]+)$")
]


class EgressPacing(enum.StrEnum):
    """Whether the per-egress budgets apply (``browser._egress``)."""

    AUTO = "auto"  # on when ``gemini_url`` is Google's, off for a simulator or a test server
    ON = "on"
    OFF = "off"


class EgressLimits(BaseModel):
    """One egress's own limits; a field left out takes the pool's ``egress_*`` setting."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    concurrency: int | None = Field(default=None, ge=0, description="Turns running at once; `0` = unlimited.")
    per_minute: int | None = Field(
        default=None, ge=0, description="Turns started in any 60 s; `0` = unlimited."
    )
    per_hour: int | None = Field(
        default=None, ge=0, description="Turns started in any hour; `0` = unlimited."
    )


class PoolSettings(BaseModel):
    """Everything the browser layer needs to know; times are seconds."""

    # Errors name fields, never values: a value could be a proxy password.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    gemini_url: str = Field(
        default="https://gemini.google.com",
        description="Where the app lives. The demo and the tests point it at the simulator.",
    )
    chromium_path: str = Field(
        default="/usr/bin/chromium",
        description="The Chromium binary to launch (Debian's by default; Playwright's own browsers are "
        "never installed).",
    )
    chromium_args: tuple[str, ...] = Field(
        default=DEFAULT_ARGS,
        description="Chromium's command-line switches. Chromium's sandbox is on exactly when they hold no "
        "`--no-sandbox`; the defaults hold it, as Chromium refuses a sandbox to root (the Docker image runs "
        "as a user and can leave it out).",
    )
    # Merged with Playwright's own list and any ``--disable-features=`` in ``chromium_args``.
    disabled_features: tuple[FeatureName, ...] = Field(
        default=DEFAULT_DISABLED_FEATURES,
        description="Chromium features turned off on every local launch, for memory (the omnibox popup "
        "headless Chromium preloads per context, and the spare renderer); `[]` turns off none of ours. "
        "A remote browser keeps its own switches.",
    )
    # ``--process-per-site``: 16 streams on 4 accounts x 4 tabs ran faster with it on a quiet machine
    # and slower on a loaded one (docs/benchmarks.md); off by default, as a warm account has one tab
    # either way.
    process_per_site: bool = Field(
        default=False,
        description="Let the tabs of one account share one renderer (`--process-per-site`): a further tab "
        "costs ~20 MiB RSS instead of ~135 MiB, but the tabs also share one main thread, and a renderer "
        "crash closes them all. Worth it for several tabs per account on a dedicated host.",
    )
    # The switches are ``browser._launcher.PERSISTENT_ARGS``; why each is safe is said there.
    persistent_fewer_processes: bool = Field(
        default=True,
        description="In the persistent mode (and for an account kept in its own profile), start each "
        "account's Chromium with its GPU code and network service inside the browser process and no "
        "zygote for unsandboxed helpers: ~230 MiB RSS less per account; the renderers keep their sandbox. "
        "`false` keeps Chromium's own process model.",
    )
    profiles_in_one_browser: bool = Field(
        default=False,
        description="Serve every persistent-mode account and every profile account that has no proxy of "
        "its own from ONE local Chromium, each account's profile directory opened as a profile of it "
        "(~165 MiB RSS per further account instead of ~500, docs/benchmarks.md). That Chromium runs "
        "in its normal mode on Ozone's headless platform (no display needed); its crash fails all its "
        "accounts, which the pool relaunches. Accounts with a proxy of their own keep a Chromium each "
        "(a proxy is per browser).",
    )
    headless: bool = Field(
        default=True,
        description="Run Chromium headless; `false` (under `xvfb-run` on a server) shows the pages, e.g. to "
        "watch an account that is blocked.",
    )
    launch_mode: LaunchMode = Field(
        default=LaunchMode.SHARED,
        description="`shared`: one local Chromium, one context per account; `persistent`: one profile "
        "directory (and browser) per account; `remote`: contexts in the browser at `remote_endpoint`.",
    )
    remote_endpoint: str | None = Field(
        default=None,
        description="With `launch_mode = remote`: a CDP `http(s)://` or `ws(s)://` URL, or a Playwright "
        "server's `ws://` URL.",
    )
    remote_protocol: str = Field(
        default="auto",
        pattern="^(auto|cdp|playwright)$",
        description="How to speak to `remote_endpoint`: `cdp`, `playwright`, or `auto` (http(s) or a "
        "`/devtools/` path is CDP, anything else Playwright).",
    )
    remote_headers: dict[str, str] = Field(
        default_factory=dict,
        repr=False,
        description="Headers sent when connecting to `remote_endpoint`; e.g. a Playwright server started "
        "with `--unsafe` reads `x-playwright-launch-options` (JSON: executablePath, args, headless) to "
        "launch its browser.",
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="Where the cookie store and the profiles live (the database 0600, each profile 0700). "
        "The gateway always sets its own `data_dir` here; `browser.data_dir` is refused.",
    )
    default_proxy: SecretStr | None = Field(
        default=None,
        description="An http, https or socks5 proxy URL (credentials allowed) for every account without a "
        "`proxy` of its own. Kept as a secret: never shown in a repr or an error.",
    )
    language: str = Field(
        default="en", description="The `hl=` pinned on every page, which the selectors' labels assume."
    )

    tabs_per_account: int = Field(default=1, ge=1, description="Tabs (concurrent turns) each account serves.")
    queue_size: int = Field(
        default=32,
        ge=0,
        description="Requests that may wait for a free account; when the queue is full and no account is "
        "free, 429 `no_capacity` with a `Retry-After`.",
    )
    queue_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a request waits for a free account before 429 `no_capacity`; also how long "
        "requests wait for accounts being rebuilt after Chromium died.",
    )

    # Google answers an IP that sends too much with google.com/sorry (a captcha) for about two hours:
    # peers-late-2026.md §7 (zexadev's measurements) is where every default below comes from.
    egress_pacing: EgressPacing = Field(
        default=EgressPacing.AUTO,
        description="Pace the turns leaving through each egress (one proxy, or `direct` for the machine's "
        "own address) by `egress_concurrency`, `egress_per_minute` and `egress_per_hour`: `on`, `off`, or "
        "`auto` (on when `gemini_url` is Google's, off for the simulator or another test server).",
    )
    egress_concurrency: int = Field(
        default=5,
        ge=0,
        description="Turns running at once through one egress; `0` = unlimited. The default is a peer's "
        "(zexadev) per-IP default; its blocks were measured at concurrency 10.",
    )
    egress_per_minute: int = Field(
        default=10,
        ge=0,
        description="Turns started through one egress in any 60 s; `0` = unlimited. The default is the pace "
        "a peer (zexadev) measured with no block: 10 a minute, 800 requests over 110 minutes, while 80 to "
        "180 quick requests got an IP sent to google.com/sorry for 106 to 121 minutes.",
    )
    egress_per_hour: int = Field(
        default=400,
        ge=0,
        description="Turns started through one egress in any hour; `0` = unlimited. The default stays under "
        "the ~436 an hour of the measured run without a block (800 requests over 110 minutes).",
    )
    egress_limits: dict[EgressName, EgressLimits] = Field(
        default_factory=dict,
        description="Limits of single egresses, by `direct` or the proxy's `scheme://host:port` (never its "
        'credentials), e.g. `{"socks5://10.0.0.2:1080": {"per_minute": 20}}`; a field left out takes the '
        "`egress_*` setting. Applies whenever pacing is on.",
    )

    navigation_timeout: float = Field(default=30.0, gt=0, description="Seconds one page load may take.")
    # Starting Chromium (or connecting to a remote one) is bounded apart from navigation: a loaded
    # host can take far longer to start a browser than to load a page.
    launch_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds starting Chromium (or connecting to the remote browser) may take; a start "
        "that times out is tried once more before the account fails.",
    )
    ui_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds one step in the page may take (a click, a menu, reading a label), and one side "
        "RPC sent from inside the page (deleting a chat, reading its history, a job's status).",
    )
    upload_timeout: float = Field(
        default=60.0, gt=0, description="Seconds the page may take to upload a turn's files."
    )
    first_frame_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds from sending a prompt to the first bytes of Gemini's answer, then 504 "
        "`upstream_timeout`.",
    )
    idle_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds the answer may stay silent between two pieces, then 504 `upstream_timeout`.",
    )
    turn_timeout: float = Field(
        default=600.0, gt=0, description="Seconds one whole turn may take, then 504 `upstream_timeout`."
    )
    stop_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds to stop the page's answer after a client went away. Filled from the gateway's "
        "`stop_timeout`; set that one.",
    )

    cookie_save_interval: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between saves of every account's cookies (rotated cookies are also saved as "
        "soon as the page's rotation answer arrives).",
    )
    health_interval: float = Field(
        default=15.0,
        gt=0,
        description="Seconds between looks for accounts due for a re-check; also the first backoff of a "
        "failed account, doubling each time up to `block_backoff_max`.",
    )
    gems_interval: float = Field(
        default=900.0,
        gt=0,
        description="Seconds between listings of every ready account's Gems (through its page's own gem "
        "RPC); they are also listed whenever an account starts or is re-checked.",
    )
    cooldown_default: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds a quota cools after a usage limit (Gemini code 1037) that names no reset time.",
    )
    block_backoff: float = Field(
        default=300.0,
        ge=0,
        description="First wait before a blocked (1060, captcha, consent, terms) or signed-out account is "
        "checked again; it doubles each time.",
    )
    block_backoff_max: float = Field(
        default=6 * 3600.0,
        ge=0,
        description="The longest wait between re-checks of a blocked, signed-out or failed account.",
    )
    session_check_interval: float = Field(
        default=1800.0,
        ge=0,
        description="Seconds after which an idle ready account's page is read again (its account-status "
        "answer), so that a session that ended while no turn came shows why, and the alerts webhook is "
        "called, without waiting for the next turn to fail. 0: only turns and operators re-read it.",
    )

    # Read when the settings are built; the override file is checked then (``browser._overrides``).
    page_overrides: PageOverrides | None = Field(
        default=None,
        description="Selectors and labels added to the built-in table, given inline (the same shape as "
        "the override file). When the page changes at Google, this is how an operator follows it without "
        "a release.",
    )
    page_overrides_file: Path | None = Field(
        default=None,
        description="A JSON or TOML file of page overrides, read and checked at start: an unknown key, an "
        "empty label, invalid CSS or a Playwright-only selector stops the gateway with the entry named.",
    )

    @field_validator("egress_limits", mode="after")
    @classmethod
    def _egress_names_lowercase(cls, limits: dict[str, EgressLimits]) -> dict[str, EgressLimits]:
        # Scheme and host are case-insensitive; an account's egress is named in lower case.
        return {name.lower(): value for name, value in limits.items()}

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
    def paces_egress(self) -> bool:
        """Whether the egress budgets apply (``egress_pacing``, ``auto`` resolved)."""
        if self.egress_pacing is EgressPacing.AUTO:
            host = (urlsplit(self.gemini_url).hostname or "").lower()
            return host == "google.com" or host.endswith(".google.com")
        return self.egress_pacing is EgressPacing.ON

    @property
    def base_url(self) -> str:
        return self.gemini_url.rstrip("/")
