"""Gateway settings: one frozen object built once (``GatewaySettings()``) and passed explicitly.

Sources, strongest first: constructor arguments, ``GATEWAY_*`` environment variables, the optional
config file named by ``GATEWAY_CONFIG`` (``.toml`` or ``.json``), then the defaults below. The data
directory holds everything persistent (the conversation store; the browser layer keeps its cookies
and profiles there too). A deployment without API keys refuses to start unless ``open_access`` is
set explicitly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    JsonConfigSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from browser import PoolSettings
from service.janitor import DeletePolicy
from service.logs import LogFormat, LogLevel
from service.media.config import MediaSettings
from service.reasoning import ReasoningFormat

__all__ = ["CONFIG_ENV", "AccountConfig", "GatewaySettings"]

CONFIG_ENV = "GATEWAY_CONFIG"
MIB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 25 * MIB
DEFAULT_MAX_IMAGE_BYTES = 20 * MIB
# Above this many UTF-8 bytes of folded prompt (what would be typed) the prompt goes as an attached
# message.txt. Gemini's request wall is about 130 KB and it cuts the excess SILENTLY (research:
# ~129,950 B measured to pass, ~136 KB fails), so the default keeps a ~10 KB margin below it for
# the rest of the request and for measurement drift rather than sitting on the edge.
DEFAULT_MAX_PROMPT_BYTES = 120_000
DEFAULT_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif", "image/heic", "image/heif")


class AccountConfig(BaseModel):
    """One Google account to add to the pool at startup: the ``__Secure-1PSID`` cookie (optionally
    ``__Secure-1PSIDTS``), or a cookie export file (a JSON list as browser extensions export it, or
    Netscape cookies.txt). ``name`` is the account's stable id, under which the pool stores its
    refreshed cookies; ``proxy`` overrides the browser's ``default_proxy``."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    psid: SecretStr | None = None
    psidts: SecretStr | None = None
    cookie_file: Path | None = None
    proxy: SecretStr | None = None

    @model_validator(mode="after")
    def _one_source(self) -> AccountConfig:
        if (self.psid is None) == (self.cookie_file is None):
            raise ValueError(f"account {self.name!r} needs exactly one of psid or cookie_file")
        return self


class GatewaySettings(BaseSettings):
    """Everything the HTTP service needs; times are seconds, sizes bytes."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
        # Errors name fields, never their values: a value could be a key, a cookie or a proxy password.
        hide_input_in_errors=True,
    )

    data_dir: Path = Path("data")
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    # Keys of the admin API and dashboard (/admin); never accepted as API keys, nor API keys there.
    admin_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    # /metrics without the admin key (for a scraper on a trusted network).
    metrics_open: bool = False
    open_access: bool = False
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, gt=0)
    keep_alive_interval: float = Field(15.0, gt=0)
    max_prompt_bytes: int = Field(DEFAULT_MAX_PROMPT_BYTES, gt=0)
    max_image_bytes: int = Field(DEFAULT_MAX_IMAGE_BYTES, gt=0)
    max_images: int = Field(10, ge=0)
    # Admission before image work (service/chat/admission.py): requests fetching or decoding
    # images at once, in all and per API key (429 beyond), and image bytes per request (413 beyond).
    image_requests: int = Field(4, gt=0)
    image_requests_per_key: int = Field(2, gt=0)
    image_request_bytes: int = Field(48 * 1024 * 1024, gt=0)
    image_types: tuple[str, ...] = DEFAULT_IMAGE_TYPES
    fetch_timeout: float = Field(20.0, gt=0)
    fetch_max_redirects: int = Field(3, ge=0)
    # Lets image URLs point at loopback/private hosts; only for tests and trusted LANs (SSRF risk).
    fetch_allow_private: bool = False
    # A directory of bg_<size>.png captures of the watermark on black (e.g. the real bg_48/bg_96);
    # unset: the maps calibrated under data_dir/watermark, on first need of each size class.
    watermark_alpha_dir: Path | None = None
    # Calibrate every size class at startup instead of on first need (the demo sets it).
    watermark_calibrate_at_start: bool = False
    conversation_ttl: float = Field(7 * 24 * 3600.0, gt=0)
    # Expired conversation mappings are purged this often (and their chats deleted by policy).
    conversation_purge_interval: float = Field(600.0, gt=0)
    # Chat hygiene on the page (service/janitor.py): never | after_turn | on_expiry.
    delete_chats: DeletePolicy = DeletePolicy.NEVER
    # Bound on one deletion through the page; failures are retried with backoff.
    delete_chats_timeout: float = Field(30.0, gt=0)
    # Bound on stopping the page's answer and returning the lease after a client goes away; the
    # pool gets the same value (its PoolSettings.stop_timeout), so both sides wait the same time.
    stop_timeout: float = Field(10.0, gt=0)
    # Videos (service.chat.longrun): inline data: URLs up to this size (larger ones, or any with a
    # bucket configured, go by URL); how long to wait for a render, and how often to look.
    video_inline_max_bytes: int = Field(32 * 1024 * 1024, ge=0)
    video_max_wait: float = Field(900.0, gt=0)
    video_poll_interval: float = Field(2.0, gt=0)
    # Deep research (service.chat.longrun_research): how long a non-stream request waits for the
    # report (the research goes on; the same messages again collect it), a stream likewise, and how
    # often the research's status is asked.
    research_max_wait: float = Field(600.0, gt=0)
    research_stream_max_wait: float = Field(7200.0, gt=0)
    research_poll_interval: float = Field(10.0, gt=0)
    # Origins browsers may call the API from (CORS); "*" is any origin, () turns CORS off.
    cors_origins: tuple[str, ...] = ("*",)
    # How thoughts reach clients: reasoning_content (a field) | think_tags (<think>…</think> at the
    # start of content) | none (dropped).
    reasoning_format: ReasoningFormat = ReasoningFormat.REASONING_CONTENT
    log_level: LogLevel = Field(
        LogLevel.INFO,
        description="Lowest level of the log lines written (DEBUG, INFO, WARNING or ERROR), for the "
        "service, the browser layer and uvicorn alike.",
    )
    log_format: LogFormat = Field(
        LogFormat.TEXT,
        description="How log lines are written to stderr: text (time, level, logger, [request id], "
        "message) or json (one object a line: time, level, logger, message, request_id, and the "
        "fields a line adds, such as the account and the turn of the browser layer).",
    )
    # Passed to the browser layer's PoolSettings (e.g. GATEWAY_BROWSER__HEADLESS=false), and
    # validated as such when the configuration loads; data_dir is always the gateway's.
    browser: dict[str, Any] = Field(default_factory=dict, repr=False)  # may hold a proxy password
    # Delivery of response_format=url media: signed local links, or an S3-compatible bucket.
    media: MediaSettings = MediaSettings()
    # Added to the pool at startup (GATEWAY_ACCOUNTS takes a JSON list). A restart resumes from the
    # pool's stored cookies when they carry the same session as the configured ones.
    accounts: tuple[AccountConfig, ...] = ()

    @field_validator("accounts")
    @classmethod
    def _unique_names(cls, value: tuple[AccountConfig, ...]) -> tuple[AccountConfig, ...]:
        names = [account.name for account in value]
        if len(names) != len(set(names)):
            raise ValueError("account names must be unique")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_any_case(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("browser")
    @classmethod
    def _pool_settings(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Validated as the pool's settings now, so a typo is a configuration error, not a crash at
        startup; the message names fields only (pydantic's input_value could carry a proxy password)."""
        if "data_dir" in value:
            raise ValueError("browser.data_dir is not a setting: the pool uses the gateway's data_dir")
        try:
            PoolSettings.model_validate(value)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(['browser', *(str(part) for part in error['loc'])])}: {error['msg']}"
                for error in exc.errors(include_input=False, include_url=False)
            )
            raise ValueError(problems) from None
        return value

    @model_validator(mode="after")
    def _one_stop_timeout(self) -> GatewaySettings:
        # One bound for the service and the pool: browser.stop_timeout may only repeat it.
        if "stop_timeout" in self.browser:
            pool = PoolSettings.model_validate(self.browser).stop_timeout
            if pool != self.stop_timeout:
                raise ValueError(
                    f"browser.stop_timeout ({pool:g} s) differs from stop_timeout ({self.stop_timeout:g} s): "
                    "set stop_timeout only; the pool uses the gateway's"
                )
        return self

    def pool_settings(self, **overrides: Any) -> PoolSettings:
        """The browser pool's settings: ``browser`` with the gateway's ``data_dir`` and
        ``stop_timeout``, then ``overrides`` (e.g. a scratch data_dir)."""
        values = {**self.browser, "data_dir": self.data_dir, "stop_timeout": self.stop_timeout}
        return PoolSettings(**{**values, **overrides})

    @field_validator("api_keys", "admin_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: Any) -> Any:
        """Accept a JSON list or a comma-separated string (the natural shape of an env var)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return tuple(json.loads(text))
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _require_keys(self) -> GatewaySettings:
        # With an admin key, keys can be handed out at runtime (service/keys.py).
        if not self.api_keys and not self.admin_keys and not self.open_access:
            raise ValueError(
                "no API key configured: set GATEWAY_API_KEYS (or GATEWAY_ADMIN_KEYS to create keys "
                "at runtime), or GATEWAY_OPEN_ACCESS=true to run open"
            )
        return self

    @property
    def conversations_path(self) -> Path:
        return self.data_dir / "conversations.sqlite3"

    @property
    def responses_path(self) -> Path:
        return self.data_dir / "responses.sqlite3"  # /v1/responses, per API key

    @property
    def keys_path(self) -> Path:
        return self.data_dir / "keys.sqlite3"

    @property
    def added_accounts_path(self) -> Path:
        """Accounts added through the admin API (their cookies: 0600), restored at startup."""
        return self.data_dir / "added_accounts.sqlite3"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_path = os.environ.get(CONFIG_ENV)
        if config_path:
            sources.append(_file_source(settings_cls, Path(config_path)))
        return tuple(sources)


def _file_source(settings_cls: type[BaseSettings], path: Path) -> PydanticBaseSettingsSource:
    if not path.is_file():
        raise ValueError(f"{CONFIG_ENV} names {path}, which is not a file")
    if path.suffix == ".toml":
        return TomlConfigSettingsSource(settings_cls, toml_file=path)
    if path.suffix == ".json":
        return JsonConfigSettingsSource(settings_cls, json_file=path)
    raise ValueError(f"{CONFIG_ENV} must name a .toml or .json file, not {path.name}")
