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
from service.alerts import AlertSettings
from service.cluster.config import ClusterSettings
from service.gem_models import GemSettings
from service.janitor import DeletePolicy
from service.logs import LogFormat, LogLevel
from service.media.config import MediaSettings
from service.reasoning import ReasoningFormat
from service.stores.config import StateBackend, StateSettings

__all__ = ["CONFIG_ENV", "AccountConfig", "GatewaySettings"]

CONFIG_ENV = "GATEWAY_CONFIG"
MIB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 25 * MIB
DEFAULT_MAX_IMAGE_BYTES = 20 * MIB
# Above this many UTF-8 bytes of folded prompt (what would be typed) the prompt goes as an attached
# message.txt. Gemini's request wall is about 130 KB and it cuts the excess SILENTLY
# (docs/architecture/wire-protocol.md#streamgenerate:
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

    name: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The account's stable id (letters, digits, `_`, `.`, `-`): its refreshed cookies are "
        "stored under this name in the data directory.",
    )
    psid: SecretStr | None = Field(
        default=None,
        description="The `__Secure-1PSID` cookie of a signed-in browser. Give this or `cookie_file`, not "
        "both. A different value than the stored session's replaces that session.",
    )
    psidts: SecretStr | None = Field(
        default=None, description="The `__Secure-1PSIDTS` cookie beside `psid` (optional, recommended)."
    )
    cookie_file: Path | None = Field(
        default=None,
        description="A cookie export for `gemini.google.com` / `.google.com` instead of `psid`, format "
        "detected: Netscape `cookies.txt`, Cookie-Editor or EditThisCookie JSON, a HAR file, or Firefox's "
        "`cookies.sqlite`; only Google's cookies are kept.",
    )
    proxy: SecretStr | None = Field(
        default=None,
        description="An http, https or socks5 proxy URL (credentials allowed) for this account only, "
        "instead of `browser.default_proxy`. A malformed one is refused when the account is added.",
    )

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

    data_dir: Path = Field(
        default=Path("data"),
        description="Everything persistent: the conversation, response, key, cookie, added-account and "
        "video stores, the browser profiles, local media and the watermark maps. The stores and the media "
        "signing key are created 0600, the profile and media directories 0700 (looser modes left by older "
        "versions are tightened at startup).",
    )
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(),
        description="Accepted bearer keys of the API (`Authorization: Bearer <key>`); a list, or "
        "comma-separated in the environment. Keys created at runtime through the admin API count too.",
    )
    admin_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(),
        description="Keys of the admin API, the dashboard and `/metrics`. They are never accepted as API "
        "keys, nor API keys there. With an admin key set the gateway may start without any API key and "
        "hand keys out at runtime.",
    )
    metrics_open: bool = Field(
        default=False,
        description="Serve `/metrics` without the admin key (for a scraper on a trusted network).",
    )
    open_access: bool = Field(
        default=False,
        description="Serve the API without any key. It must be set explicitly: without API keys, admin "
        "keys or this, `serve` refuses to start.",
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        gt=0,
        description="Larger request bodies answer 413 before they are read.",
    )
    keep_alive_interval: float = Field(
        default=15.0, gt=0, description="Seconds between SSE keep-alive comments while the page is silent."
    )
    max_prompt_bytes: int = Field(
        default=DEFAULT_MAX_PROMPT_BYTES,
        gt=0,
        description="Above this many UTF-8 bytes of folded prompt the prompt is attached as `message.txt` "
        "instead of typed. Keep it under Gemini's request wall of about 130 KB, past which Gemini cuts the "
        "request silently.",
    )
    max_image_bytes: int = Field(
        default=DEFAULT_MAX_IMAGE_BYTES,
        gt=0,
        description="Largest image or file part (and image upload) a request may carry; larger ones "
        "answer 413.",
    )
    max_images: int = Field(
        default=10,
        ge=0,
        description="Most images one request may carry (400 beyond); image edits take at most 10 "
        "whatever this says.",
    )
    # Admission before image work (service/chat/admission.py).
    image_requests: int = Field(
        default=4,
        gt=0,
        description="Requests fetching or decoding images at once, in all. Checked before any image is "
        "touched; beyond it 429 `no_capacity` with `Retry-After: 1`. Text-only requests are not counted.",
    )
    image_requests_per_key: int = Field(
        default=2,
        gt=0,
        description="Requests fetching or decoding images at once per API key; beyond it 429 "
        "`rate_limit_exceeded` with `Retry-After: 1`.",
    )
    image_request_bytes: int = Field(
        default=48 * 1024 * 1024,
        gt=0,
        description="Image bytes one request may bring, all its images together (413 beyond); each "
        "fetch is capped at what is left.",
    )
    image_types: tuple[str, ...] = Field(
        default=DEFAULT_IMAGE_TYPES,
        description="Accepted image MIME types (read from the bytes, not the label).",
    )
    fetch_timeout: float = Field(default=20.0, gt=0, description="Seconds one image URL fetch may take.")
    fetch_max_redirects: int = Field(default=3, ge=0, description="Redirects one image URL fetch may follow.")
    fetch_allow_private: bool = Field(
        default=False,
        description="Let image URLs point at loopback, private, link-local and site-local hosts. Only for "
        "tests and trusted networks: it opens the gateway to SSRF.",
    )
    watermark_alpha_dir: Path | None = Field(
        default=None,
        description="A directory of `bg_<size>.png` captures of the watermark on black (e.g. the real "
        "`bg_48.png`/`bg_96.png`) to use instead of the maps calibrated under `<data_dir>/watermark`; "
        "nothing is calibrated then.",
    )
    watermark_calibrate_at_start: bool = Field(
        default=False,
        description="Calibrate every size class of the watermark at startup (in the background) instead of "
        "on first need. The demo sets it.",
    )
    conversation_ttl: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="Seconds a chat can be continued after its last turn; also how long stored responses "
        "and conversations are kept unused.",
    )
    conversation_purge_interval: float = Field(
        default=600.0,
        gt=0,
        description="Seconds between purges of expired conversation mappings (and, by `delete_chats`, of "
        "their chats).",
    )
    delete_chats: DeletePolicy = Field(
        default=DeletePolicy.NEVER,
        description="Which chats are deleted from the accounts' Gemini history: `never` keeps every chat; "
        "`on_expiry` deletes a chat once no conversation mapping points at it; `after_turn` also deletes, "
        "right after its turn, every chat that will not be continued.",
    )
    temporary_chats_by_default: bool = Field(
        default=False,
        description="Make every API chat a temporary chat (Gemini's own temporary mode: kept out of the "
        "accounts' history, never continued, nothing stored); a request may still ask for an ordinary "
        "chat with `temporary: false` (body field, `metadata`, or the `X-Gateway-Temporary` header). "
        "Deep research needs an ordinary chat and is refused (400) while this is on unless the request "
        "says so.",
    )
    delete_chats_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds one deletion through the page may take; failures are retried with backoff.",
    )
    # The pool gets the same value (its PoolSettings.stop_timeout), so both sides wait the same time.
    stop_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds to stop the page's answer and give the account back after a client goes "
        "away. The one setting for the service and the pool: `browser.stop_timeout` is filled from it, "
        "and a `browser.stop_timeout` that differs is a configuration error.",
    )
    video_inline_max_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=0,
        description="Videos up to this size go inline as `data:` URLs in chat answers; larger ones, or any "
        "with `media.s3` set, go by link.",
    )
    video_max_wait: float = Field(
        default=900.0,
        gt=0,
        description="Seconds a video may render before the answer or job fails with `video_timeout`.",
    )
    video_poll_interval: float = Field(
        default=2.0,
        gt=0,
        description="Seconds between looks at a rendering video (also the jobs' `openai-poll-after-ms`).",
    )
    research_max_wait: float = Field(
        default=600.0,
        gt=0,
        description="Seconds a non-stream deep-research request waits for the report, then 504. The "
        "research goes on at Google's; the same messages sent again collect it.",
    )
    research_stream_max_wait: float = Field(
        default=7200.0, gt=0, description="Seconds a streamed deep-research request waits for the report."
    )
    research_poll_interval: float = Field(
        default=10.0,
        gt=0,
        description="Seconds between questions about a running research's status (`kwDCne`).",
    )
    cors_origins: tuple[str, ...] = Field(
        default=("*",),
        description="Origins browser pages may call the API from; `*` is any origin, `[]` turns CORS off.",
    )
    reasoning_format: ReasoningFormat = Field(
        default=ReasoningFormat.REASONING_CONTENT,
        description="How thoughts reach clients: `reasoning_content` (a field of the message or delta), "
        "`think_tags` (`<think>…</think>` at the start of `content`) or `none` (dropped).",
    )
    log_level: LogLevel = Field(
        default=LogLevel.INFO,
        description="Lowest level of the log lines written (DEBUG, INFO, WARNING or ERROR), for the "
        "service, the browser layer and uvicorn alike.",
    )
    log_format: LogFormat = Field(
        default=LogFormat.TEXT,
        description="How log lines are written to stderr: text (time, level, logger, [request id], "
        "message) or json (one object a line: time, level, logger, message, request_id, and the "
        "fields a line adds, such as the account and the turn of the browser layer).",
    )
    browser: dict[str, Any] = Field(
        default_factory=dict,
        repr=False,  # may hold a proxy password
        description="The browser pool's settings, validated as such when the configuration loads (a "
        "misspelt name is a configuration error naming the field); `data_dir` is always the gateway's.",
    )
    media: MediaSettings = Field(
        default=MediaSettings(),
        description="Delivery of `response_format: url` media and of the imagen models' images in chat: "
        "signed local links (the default), or an S3-compatible bucket when `media.s3` is set.",
    )
    gems: GemSettings = Field(
        default=GemSettings(),
        description="Gems as models: every account's custom Gems are offered as `gem-<slug of the name>` "
        "by the accounts that have them; `gems.aliases` adds names for any Gem (docs: Gems).",
    )
    state: StateSettings = Field(
        default=StateSettings(),
        description="Where the gateway's state lives: `sqlite` files in the data directory (the "
        "default) or a Redis server shared by several replicas (`state.backend`, `state.redis_url`, "
        "`state.encryption_key`; docs: Operations, Shared state).",
    )
    cluster: ClusterSettings = Field(
        default=ClusterSettings(),
        description="Replicas on one Redis (`state.backend: redis` only): each account is driven by one "
        "replica at a time, under a lease it renews (`cluster.replica_id`, `cluster.lease_ttl`, "
        "`cluster.renew_interval`; docs: Operations, Replicas).",
    )
    alerts: AlertSettings = Field(
        default=AlertSettings(),
        description="A webhook called when an account starts needing a person (expired session, "
        '"Verify it\'s you", consent, terms, captcha, region) and when it recovers: JSON, retried with '
        "backoff, never carrying a cookie (docs: Operations, Session health).",
    )
    accounts: tuple[AccountConfig, ...] = Field(
        default=(),
        description="Google accounts added to the pool at startup. A restart resumes from the pool's "
        "stored cookies when they carry the same session as the configured ones. An account whose "
        "cookies cannot be read is logged by name and skipped.",
    )

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

    @model_validator(mode="after")
    def _cluster_needs_redis(self) -> GatewaySettings:
        # A SQLite gateway is alone: cluster settings given to it would be silently ignored.
        if self.cluster.model_fields_set and self.state.backend is not StateBackend.REDIS:
            raise ValueError("cluster settings apply with state.backend: redis only")
        return self

    @model_validator(mode="after")
    def _media_every_replica_sees(self) -> GatewaySettings:
        # Replicas behind one address: a link made by one must download from any of them.
        if self.state.backend is StateBackend.REDIS and not self.media.shared:
            raise ValueError(
                "state.backend is redis (replicas), so media must be where every replica reads it: set "
                "media.s3 (a bucket, e.g. GATEWAY_MEDIA__S3__BUCKET) or media.shared_dir (a directory every "
                "replica mounts, GATEWAY_MEDIA__SHARED_DIR)"
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
