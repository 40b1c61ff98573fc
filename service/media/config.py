"""Settings of media delivery (``GatewaySettings.media``): signed local links, or an S3-compatible
bucket when ``media.s3`` is set. Times are seconds, sizes bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["DEFAULT_MEDIA_MAX_BYTES", "MediaSettings", "S3Settings"]

GIB = 1024 * 1024 * 1024
DEFAULT_MEDIA_MAX_BYTES = 2 * GIB


def _base_url(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise ValueError("must be an http(s) URL")
    return text


class S3Settings(BaseModel):
    """An S3-compatible bucket (AWS S3, MinIO, Aliyun OSS, ...), written with boto3.

    Links are ``public_base_url`` + key for a publicly readable bucket, or presigned GET URLs
    (valid ``media.link_ttl`` seconds, at most 7 days) when ``presign`` is set. Without
    ``access_key_id``/``secret_access_key`` boto3's own credential chain applies (AWS_* variables,
    instance roles)."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    bucket: str = Field(min_length=1, description="The bucket's name.")
    endpoint_url: str | None = Field(
        default=None,
        description="The S3 API's URL for a store other than AWS (e.g. `https://minio.example.com:9000`, "
        "`https://oss-cn-hangzhou.aliyuncs.com`); unset: AWS S3.",
    )
    region: str | None = Field(default=None, description="The bucket's region (e.g. `eu-west-1`).")
    key_prefix: str = Field(
        default="",
        description="Prepended to every object key (relative: no leading `/`, no `..`), e.g. `gateway/`.",
    )
    access_key_id: SecretStr | None = Field(
        default=None,
        description="Access key id; with `secret_access_key`, or neither (then boto3's own credential "
        "chain applies: `AWS_*` variables, instance roles).",
    )
    secret_access_key: SecretStr | None = Field(
        default=None, description="Secret access key beside `access_key_id`."
    )
    public_base_url: str | None = Field(
        default=None,
        description="Base URL of a publicly readable bucket; links are this plus the key. Set this or "
        "`presign`, exactly one.",
    )
    presign: bool = Field(
        default=False,
        description="Hand out presigned GET URLs valid `media.link_ttl` (at most 7 days) instead of public "
        "links, for a private bucket.",
    )
    # Aliyun OSS answers virtual-hosted requests only; MinIO and moto are happiest with path style.
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto",
        description="How the bucket is addressed: `path` (MinIO), `virtual` (Aliyun OSS) or boto3's `auto`.",
    )
    timeout: float = Field(
        default=30.0, gt=0, description="Seconds one upload or request to the store may take."
    )

    @field_validator("endpoint_url", "public_base_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return _base_url(value)

    @field_validator("key_prefix")
    @classmethod
    def _relative_prefix(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError("must be a relative key prefix (no leading '/', no '..')")
        return value

    @model_validator(mode="after")
    def _link_source(self) -> S3Settings:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("set both access_key_id and secret_access_key, or neither")
        if (self.public_base_url is None) == (not self.presign):
            raise ValueError("set exactly one of public_base_url (a public bucket) or presign = true")
        return self


class MediaSettings(BaseModel):
    """Where ``response_format=url`` media goes and how long its links live.

    Without ``s3`` the gateway keeps the files in ``<data_dir>/media`` and serves them at
    ``GET /media/<name>?exp=&sig=`` (HMAC-signed, no API key). ``public_base_url`` is the gateway's
    address as clients see it (behind a proxy); without it links use each request's own base URL.
    ``signing_secret`` overrides the secret kept in ``<data_dir>/media.key`` (on a shared Redis: the
    one kept there, common to every replica). ``shared_dir`` keeps the files on storage every replica
    sees instead of ``<data_dir>/media``."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    public_base_url: str | None = Field(
        default=None,
        description="Base of local media links as clients see the gateway (behind a reverse proxy or CDN, "
        "e.g. `https://gw.example.com`); unset: each request's own base URL.",
    )
    link_ttl: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="Seconds a link stays valid (a local link never outlives `max_age`); past it a local "
        "link answers 410 `link_expired`.",
    )
    max_bytes: int = Field(
        default=DEFAULT_MEDIA_MAX_BYTES,
        gt=0,
        description="All locally kept media files together; before a write the oldest are evicted until "
        "the new one fits.",
    )
    max_age: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="Seconds a local file is kept; an expired file is never served (410 `media_gone`).",
    )
    purge_interval: float = Field(
        default=300.0, gt=0, description="Seconds between sweeps that delete expired local files."
    )
    signing_secret: SecretStr | None = Field(
        default=None,
        description="HMAC secret of local links (16 characters at least) instead of the one generated into "
        "`<data_dir>/media.key` (with `state.backend: redis`: generated once into Redis, the same for "
        "every replica). Changing it invalidates every issued link.",
    )
    shared_dir: Path | None = Field(
        default=None,
        description="A directory every replica of the gateway sees (a shared volume, NFS) to keep local "
        "media in instead of `<data_dir>/media`, so a link made by one replica downloads from any. With "
        "`state.backend: redis` (replicas) set this or `media.s3`; not both.",
    )
    s3: S3Settings | None = Field(
        default=None,
        description="An S3-compatible bucket (AWS S3, MinIO, Aliyun OSS, ...) to upload media to instead "
        "of keeping it locally; nothing is kept locally then. Upload failures answer 502 "
        "`media_storage_failed`.",
    )

    @field_validator("public_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _base_url(value)

    @field_validator("signing_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @model_validator(mode="after")
    def _presign_lifetime(self) -> MediaSettings:
        if self.s3 is not None and self.s3.presign and self.link_ttl > 7 * 24 * 3600:
            raise ValueError("presigned S3 links live at most 7 days: lower link_ttl")
        if self.s3 is not None and self.shared_dir is not None:
            # Nothing is kept locally with a bucket: the directory would be silently unused.
            raise ValueError(
                "set media.s3 or media.shared_dir, not both: with a bucket nothing is kept locally"
            )
        return self

    @property
    def generated_key(self) -> bool:
        """Whether local links are signed with a generated key (no bucket, no ``signing_secret``)."""
        return self.s3 is None and self.signing_secret is None

    @property
    def shared(self) -> bool:
        """Whether every replica can serve the media this one delivers (a bucket or a shared directory)."""
        return self.s3 is not None or self.shared_dir is not None
