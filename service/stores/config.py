"""Settings of the shared state (``GatewaySettings.state``): where the stores live. ``sqlite`` (the
default) is the embedded files in the data directory; ``redis`` is one Redis (or Valkey) server that
every replica of the gateway shares."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["StateBackend", "StateSettings"]


class StateBackend(StrEnum):
    SQLITE = "sqlite"
    REDIS = "redis"


class StateSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    backend: StateBackend = Field(
        default=StateBackend.SQLITE,
        description="Where API keys, added accounts, conversation mappings, stored responses, "
        "Conversations API objects, video jobs and researches live: `sqlite` (files in the data "
        "directory, one process) or `redis` (one Redis or Valkey server shared by every replica).",
    )
    redis_url: SecretStr | None = Field(
        default=None,
        description="The Redis server of `backend: redis`, e.g. `redis://redis:6379/0` or "
        "`rediss://:password@host:6380/0` (may hold a password: never logged). Required with `redis`.",
    )
    encryption_key: SecretStr | None = Field(
        default=None,
        description="Encrypts secrets at rest in Redis (the cookies and proxies of added accounts, every "
        "account's refreshed cookies) with "
        "Fernet (AES-128-CBC + HMAC-SHA256); any passphrase (its SHA-256 is the key). Every replica "
        "needs the same. Unset: those values are stored in clear (a warning at startup).",
    )

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        # The message names the schemes only: the URL may hold a password.
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("state.redis_url must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _url_with_redis(self) -> StateSettings:
        if self.backend is StateBackend.REDIS and self.redis_url is None:
            raise ValueError("state.backend is redis but state.redis_url is not set")
        return self
