"""Media across replicas (issue 20 item 4): two real gateways (uvicorn on loopback) on one real Redis.

With a shared directory, a link one replica made downloads through the other (they sign with one key,
made once in Redis), and a tampered link is refused by both; with a bucket (moto's S3 server), a link
outlives the replica that made it. A Redis gateway with neither is refused at start, by the settings
and by the CLI, naming the fix."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis
from pydantic import ValidationError

from service.cli import main
from service.settings import GatewaySettings
from service.stores.redis_base import Sealer
from tests.service.test_media_delivery import PNG, _app, deliver, error_code, with_query
from tests.support.s3 import moto_server, s3_client
from tests.support.servers import serve

MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8
KEYS = {"access_key_id": "AKIAMOTOREPLICAS", "secret_access_key": "moto-replicas-secret"}
SECRET_KEY = "gateway:secrets:media_links"


@pytest.fixture
def replicas(redis_url: str, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """``start(name, **overrides)``: a replica on the test's Redis, its own data directory."""
    with ExitStack() as stack:

        def start(name: str, **overrides: Any) -> str:
            values: dict[str, Any] = {
                "data_dir": tmp_path / name,
                "state": {"backend": "redis", "redis_url": redis_url},
                "cluster": {"replica_id": name},
                **overrides,
            }
            return stack.enter_context(_served(tmp_path, values))

        yield start


def _served(tmp_path: Path, values: dict[str, Any]) -> AbstractContextManager[str]:
    return serve(_app(tmp_path, **values))


def _on(base: str, url: str) -> str:
    """The same link, asked of the replica at ``base``."""
    parts = urlsplit(url)
    return base + parts.path + "?" + parts.query


def test_a_link_made_on_one_replica_downloads_through_the_other(
    replicas: Callable[..., str], redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shared = tmp_path / "shared-media"
    state = {"backend": "redis", "redis_url": redis_url, "encryption_key": "replicas passphrase"}
    a = replicas("a", media={"shared_dir": shared}, state=state)
    b = replicas("b", media={"shared_dir": shared}, state=state)
    for data, mime, suffix in ((PNG, "image/png", ".png"), (MP4, "video/mp4", ".mp4")):
        url = deliver(a, data, mime, suffix)
        assert url.startswith(f"{a}/media/")
        for base in (a, b):
            response = httpx.get(_on(base, url), timeout=10)
            assert response.status_code == 200, (base, response.text)
            assert response.content == data and response.headers["content-type"] == mime
        name = urlsplit(url).path.rsplit("/", 1)[1]
        assert (shared / name).read_bytes() == data  # kept once, where both replicas read it
        # Tampered: another signature, or a later expiry under the old signature; both refuse.
        sig = parse_qs(urlsplit(url).query)["sig"][0]
        exp = parse_qs(urlsplit(url).query)["exp"][0]
        forged = with_query(url, sig=("0" if sig[0] != "0" else "1") + sig[1:])
        stretched = with_query(url, exp=str(int(exp) + 3600))
        for base in (a, b):
            for bad in (forged, stretched):
                refused = httpx.get(_on(base, bad), timeout=10)
                assert refused.status_code == 403 and error_code(refused) == "invalid_signature", base
    # A link B made downloads through A as well: one key, not the first replica's.
    url = deliver(b)
    assert httpx.get(_on(a, url), timeout=10).content == PNG
    # The key was made once in Redis (sealed with state.encryption_key), never in a data directory,
    # and never logged.
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    stored = client.get(SECRET_KEY)
    client.close()
    assert stored is not None and stored.startswith("fernet:")
    assert not (tmp_path / "a" / "media.key").exists() and not (tmp_path / "b" / "media.key").exists()
    key = Sealer("replicas passphrase").open(stored)
    assert len(key) == 64 and key not in caplog.text and stored not in caplog.text


def test_a_configured_signing_secret_wins_over_the_shared_key(
    replicas: Callable[..., str], redis_url: str, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-media"
    media = {"shared_dir": shared, "signing_secret": "a-configured-signing-secret-on-all"}
    a, b = replicas("a", media=media), replicas("b", media=media)
    url = deliver(a)
    assert httpx.get(_on(b, url), timeout=10).content == PNG
    client = redis.Redis.from_url(redis_url)
    assert client.get(SECRET_KEY) is None  # nothing generated when the operator gave one
    client.close()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


def test_bucket_links_outlive_the_replica_that_made_them(
    redis_url: str, tmp_path: Path, moto_url: str
) -> None:
    bucket = f"replicas-{uuid.uuid4().hex[:10]}"
    client = s3_client(moto_url, KEYS)
    client.create_bucket(Bucket=bucket)
    s3 = {
        "bucket": bucket,
        "endpoint_url": moto_url,
        "region": "us-east-1",
        "addressing_style": "path",
        "presign": True,
        **KEYS,
    }
    values: dict[str, Any] = {
        "state": {"backend": "redis", "redis_url": redis_url},
        "media": {"s3": s3, "link_ttl": 600},
    }
    with ExitStack() as stack:
        b = stack.enter_context(_served(tmp_path, {**values, "data_dir": tmp_path / "b"}))
        with _served(tmp_path, {**values, "data_dir": tmp_path / "a"}) as a:
            made_on_a = deliver(a, MP4, "video/mp4", ".mp4")
        # A is gone: its link is the bucket's, and downloads all the same.
        response = httpx.get(made_on_a, timeout=10)
        assert response.status_code == 200 and response.content == MP4
        made_on_b = deliver(b)
        assert httpx.get(made_on_b, timeout=10).content == PNG
    listed = client.list_objects_v2(Bucket=bucket)
    client.close()
    assert len(listed["Contents"]) == 2  # one bucket for both replicas
    assert not (tmp_path / "a" / "media").exists() and not (tmp_path / "b" / "media").exists()


REDIS_STATE = {"backend": "redis", "redis_url": "redis://127.0.0.1:1/0"}


def test_redis_without_shared_media_is_refused_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        GatewaySettings(open_access=True, data_dir=tmp_path, state=REDIS_STATE)
    message = str(refused.value)
    assert "media.s3" in message and "media.shared_dir" in message and "GATEWAY_MEDIA__SHARED_DIR" in message
    with pytest.raises(ValidationError, match="not both"):
        GatewaySettings(
            open_access=True,
            data_dir=tmp_path,
            state=REDIS_STATE,
            media={"shared_dir": tmp_path / "m", "s3": {"bucket": "b", "presign": True}},
        )
    # Either one is enough; a shared directory is allowed on SQLite too (one gateway, another disk).
    GatewaySettings(open_access=True, data_dir=tmp_path, state=REDIS_STATE, media={"shared_dir": tmp_path})
    bucket = {"s3": {"bucket": "b", "presign": True}}
    GatewaySettings(open_access=True, data_dir=tmp_path, state=REDIS_STATE, media=bucket)
    GatewaySettings(open_access=True, data_dir=tmp_path, media={"shared_dir": tmp_path})


def test_the_cli_exits_non_zero_naming_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_OPEN_ACCESS", "true")
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GATEWAY_STATE__BACKEND", "redis")
    monkeypatch.setenv("GATEWAY_STATE__REDIS_URL", "redis://:hunter2@127.0.0.1:1/0")
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "gateway not started" in err and "media.s3" in err and "media.shared_dir" in err
    assert "hunter2" not in err
