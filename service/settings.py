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

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    JsonConfigSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

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

    model_config = ConfigDict(frozen=True, extra="forbid")

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
        env_prefix="GATEWAY_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    data_dir: Path = Path("data")
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    open_access: bool = False
    max_body_bytes: int = Field(DEFAULT_MAX_BODY_BYTES, gt=0)
    keep_alive_interval: float = Field(15.0, gt=0)
    max_prompt_bytes: int = Field(DEFAULT_MAX_PROMPT_BYTES, gt=0)
    max_image_bytes: int = Field(DEFAULT_MAX_IMAGE_BYTES, gt=0)
    max_images: int = Field(10, ge=0)
    image_types: tuple[str, ...] = DEFAULT_IMAGE_TYPES
    fetch_timeout: float = Field(20.0, gt=0)
    fetch_max_redirects: int = Field(3, ge=0)
    # Lets image URLs point at loopback/private hosts; only for tests and trusted LANs (SSRF risk).
    fetch_allow_private: bool = False
    conversation_ttl: float = Field(7 * 24 * 3600.0, gt=0)
    # Bound on stopping the page's answer and returning the lease after a client goes away.
    stop_timeout: float = Field(10.0, gt=0)
    # Passed to the browser layer's PoolSettings (e.g. GATEWAY_BROWSER__HEADLESS=false); data_dir
    # is always the gateway's.
    browser: dict[str, Any] = Field(default_factory=dict)
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

    @field_validator("api_keys", mode="before")
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
        if not self.api_keys and not self.open_access:
            raise ValueError(
                "no API key configured: set GATEWAY_API_KEYS, or GATEWAY_OPEN_ACCESS=true to run open"
            )
        return self

    @property
    def conversations_path(self) -> Path:
        return self.data_dir / "conversations.sqlite3"

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
