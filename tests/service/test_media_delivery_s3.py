"""Media delivery (I5), bucket target: uploads with boto3 to moto's S3 server on loopback, then the
returned URL is downloaded with httpx and compared byte for byte."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from service.errors import MediaLinkExpired, MediaStorageFailed
from service.media import MediaDelivery, MediaSettings
from service.settings import GatewaySettings
from tests.service.test_service_inputs import png_bytes
from tests.support.s3 import moto_server, s3_client

PNG = png_bytes(12)
KEYS = {"access_key_id": "AKIAMOTOTESTKEY", "secret_access_key": "moto-secret-do-not-print"}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def bucket(moto_url: str) -> str:
    name = f"media-{uuid.uuid4().hex[:10]}"
    client = s3_client(moto_url, KEYS)
    client.create_bucket(Bucket=name)
    # Public read, as a deployment with public_base_url would configure its bucket.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{name}/*",
            }
        ],
    }
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    client.close()
    return name


async def _download(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:  # no credentials: what a client would do
        return await client.get(url)


def _delivery(tmp_path: Path, moto_url: str, bucket: str, **s3: Any) -> MediaDelivery:
    values: dict[str, Any] = {
        "bucket": bucket,
        "endpoint_url": moto_url,
        "region": "us-east-1",
        "addressing_style": "path",
        **KEYS,
    }
    values.update(s3)
    return MediaDelivery(MediaSettings(s3=values, link_ttl=600), tmp_path)


async def test_upload_then_download_the_public_url(tmp_path: Path, moto_url: str, bucket: str) -> None:
    async with _delivery(
        tmp_path, moto_url, bucket, public_base_url=f"{moto_url}/{bucket}", key_prefix="gateway/images/"
    ) as delivery:
        url = await delivery.url_for(PNG, "image/png", suffix=".png")
        assert url.startswith(f"{moto_url}/{bucket}/gateway/images/") and url.endswith(".png")
        response = await _download(url)
        assert response.status_code == 200
        assert response.content == PNG
        assert response.headers["content-type"] == "image/png"
        # Nothing was written locally: the bucket is the only copy.
        assert not (tmp_path / "media").exists()
        assert delivery.local is None
        with pytest.raises(MediaLinkExpired):
            await delivery.open_signed("0" * 32 + ".png", "1", "00")


async def test_presigned_urls_download_without_a_public_bucket(
    tmp_path: Path, moto_url: str, bucket: str
) -> None:
    async with _delivery(tmp_path, moto_url, bucket, presign=True) as delivery:
        data = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4
        url = await delivery.url_for(data, "video/mp4", suffix=".mp4")
        assert "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
        assert KEYS["secret_access_key"] not in url
        response = await _download(url)
        assert response.status_code == 200 and response.content == data
        assert response.headers["content-type"] == "video/mp4"


async def test_a_missing_bucket_is_a_storage_error(tmp_path: Path, moto_url: str) -> None:
    async with _delivery(tmp_path, moto_url, "no-such-bucket", presign=True) as delivery:
        with pytest.raises(MediaStorageFailed, match="NoSuchBucket"):
            await delivery.url_for(PNG, "image/png", suffix=".png")


async def test_an_unreachable_endpoint_is_a_storage_error(tmp_path: Path) -> None:
    from tests.support.servers import free_port

    closed = f"http://127.0.0.1:{free_port()}"
    async with _delivery(tmp_path, closed, "b", presign=True, timeout=2) as delivery:
        with pytest.raises(MediaStorageFailed, match="could not be reached"):
            await delivery.url_for(PNG, "image/png", suffix=".png")


def test_bucket_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GATEWAY_OPEN_ACCESS", "true")
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GATEWAY_MEDIA__S3__BUCKET", "images")
    monkeypatch.setenv("GATEWAY_MEDIA__S3__ENDPOINT_URL", "https://oss-cn-hangzhou.aliyuncs.com")
    monkeypatch.setenv("GATEWAY_MEDIA__S3__PUBLIC_BASE_URL", "https://images.oss-cn-hangzhou.aliyuncs.com/")
    monkeypatch.setenv("GATEWAY_MEDIA__S3__ACCESS_KEY_ID", "LTAI-id")
    monkeypatch.setenv("GATEWAY_MEDIA__S3__SECRET_ACCESS_KEY", "oss-secret-value")
    settings = GatewaySettings()
    s3 = settings.media.s3
    assert s3 is not None and s3.bucket == "images"
    assert s3.public_base_url == "https://images.oss-cn-hangzhou.aliyuncs.com"
    assert "oss-secret-value" not in repr(settings)
    assert s3.secret_access_key is not None and s3.secret_access_key.get_secret_value() == "oss-secret-value"


@pytest.mark.parametrize(
    ("s3", "message"),
    [
        ({"bucket": "b"}, "exactly one of public_base_url"),
        ({"bucket": "b", "presign": True, "public_base_url": "https://x"}, "exactly one of public_base_url"),
        ({"bucket": "b", "presign": True, "secret_access_key": "only-the-secret"}, "both access_key_id"),
        ({"bucket": "b", "presign": True, "key_prefix": "/abs"}, "relative key prefix"),
        ({"bucket": "b", "public_base_url": "ftp://x"}, "http"),
    ],
)
def test_bad_bucket_settings_are_named_without_values(s3: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        GatewaySettings(open_access=True, media={"s3": s3})
    assert message in str(info.value)
    assert "only-the-secret" not in str(info.value)
