"""Media uploaded to an S3-compatible bucket with boto3 (AWS S3, MinIO, Aliyun OSS, ...).

boto3 is blocking, so every call runs in a worker thread; one client (thread-safe) serves all
uploads and is closed with the delivery. Checksums are only sent when the operation requires them:
boto3's newer default (a CRC32 trailer on every upload) is refused by several S3-compatible stores.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from service.errors import MediaStorageFailed
from service.media.config import S3Settings

__all__ = ["BucketMedia"]


class BucketMedia:
    """Uploads to one bucket and answers the object's public or presigned URL."""

    def __init__(self, settings: S3Settings, *, link_ttl: float) -> None:
        self._settings = settings
        self._link_ttl = int(link_ttl)
        config = Config(
            s3={"addressing_style": settings.addressing_style},
            signature_version="s3v4",
            connect_timeout=settings.timeout,
            read_timeout=settings.timeout,
            retries={"max_attempts": 3, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        credentials: dict[str, str] = {}
        if settings.access_key_id is not None and settings.secret_access_key is not None:
            credentials = {
                "aws_access_key_id": settings.access_key_id.get_secret_value(),
                "aws_secret_access_key": settings.secret_access_key.get_secret_value(),
            }
        session = boto3.session.Session()
        self._client: Any = session.client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            config=config,
            **credentials,
        )

    def __repr__(self) -> str:
        return f"BucketMedia(bucket={self._settings.bucket!r}, endpoint={self._settings.endpoint_url!r})"

    def key_for(self, name: str) -> str:
        return self._settings.key_prefix + name

    async def store(self, name: str, data: bytes, mime: str) -> str:
        """Upload ``data`` under the key prefix; the URL clients download it from."""
        key = self.key_for(name)
        try:
            await asyncio.to_thread(
                self._client.put_object,
                Bucket=self._settings.bucket,
                Key=key,
                Body=data,
                ContentType=mime,
            )
            return await asyncio.to_thread(self._url, key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            raise MediaStorageFailed(f"The media bucket refused the upload ({code}).") from None
        except BotoCoreError as exc:
            raise MediaStorageFailed(
                f"The media bucket could not be reached ({type(exc).__name__})."
            ) from None

    def _url(self, key: str) -> str:
        if self._settings.presign:
            url: str = self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._settings.bucket, "Key": key},
                ExpiresIn=self._link_ttl,
            )
            return url
        assert self._settings.public_base_url is not None  # S3Settings requires one of the two
        return f"{self._settings.public_base_url}/{quote(key)}"

    def close(self) -> None:
        self._client.close()
