"""Media delivered as bucket URLs (issue 8 point 4, issue 9 point 1): with an S3-compatible bucket
configured, the openai SDK's ``images.generate(response_format="url")`` gets a URL in that bucket
(moto's S3 server on loopback, real boto3 uploads) that downloads the image without credentials,
and a video answer links to the bucket instead of inlining the video."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.e2e.conftest import Stack, marker, running_stack
from tests.support.s3 import moto_server, s3_client

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KEYS = {"access_key_id": "AKIAMOTOE2EKEY", "secret_access_key": "moto-e2e-secret"}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def bucket_stack(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    bucket = f"images-{uuid.uuid4().hex[:8]}"
    client = s3_client(moto_url, KEYS)
    client.create_bucket(Bucket=bucket)
    client.close()
    s3 = {
        "bucket": bucket,
        "endpoint_url": moto_url,
        "region": "us-east-1",
        "addressing_style": "path",
        "presign": True,
        "key_prefix": "gateway/",
        **KEYS,
    }
    with running_stack(tmp_path_factory.mktemp("e2e-bucket"), ("paid",), media={"s3": s3}) as stack:
        yield stack, bucket


def test_generated_images_come_as_bucket_urls_that_download(
    bucket_stack: tuple[Stack, str], moto_url: str
) -> None:
    stack, bucket = bucket_stack
    result = stack.client().images.generate(
        model="gemini-2.5-flash-imagen", prompt=f"A lighthouse {marker()}", response_format="url"
    )
    assert result.data and result.data[0].url
    url = result.data[0].url
    assert url.startswith(f"{moto_url}/{bucket}/gateway/"), url
    downloaded = httpx.get(url, timeout=20)  # no credentials: the presigned URL is the credential
    assert downloaded.status_code == 200
    with Image.open(io.BytesIO(downloaded.content)) as image:
        assert image.format == "PNG" and min(image.size) > 0
    # The object really is in the bucket, under the configured prefix.
    client = s3_client(moto_url, KEYS)
    try:
        keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    finally:
        client.close()
    assert any(key.startswith("gateway/") and key.split("/")[-1] in url for key in keys), keys


def test_a_video_answer_links_to_the_bucket_when_one_is_configured(
    bucket_stack: tuple[Stack, str], moto_url: str
) -> None:
    """The seed's video delivery: base64 by default, a bucket URL when object storage is configured."""
    stack, bucket = bucket_stack
    answer = stack.client().chat.completions.create(
        model="gemini-2.5-pro-video", messages=[{"role": "user", "content": f"waves {marker()}"}]
    )
    content = answer.choices[0].message.content or ""
    links = re.findall(r"\[video\]\((\S+?)\)", content)
    assert links and links[0].startswith(f"{moto_url}/{bucket}/gateway/"), content[:300]
    assets = Path(__file__).resolve().parents[2] / "simulator" / "assets"
    assert httpx.get(links[0], timeout=20).content == (assets / "video.mp4").read_bytes()
