"""A real S3-protocol server for tests: moto's server mode on a loopback port, and buckets on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

REGION = "us-east-1"


@contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's S3 server on loopback; yields its endpoint URL and stops it afterwards."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def s3_client(endpoint: str, keys: dict[str, str]) -> Any:
    """A boto3 S3 client for ``endpoint`` with ``keys`` (``access_key_id``, ``secret_access_key``)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=keys["access_key_id"],
        aws_secret_access_key=keys["secret_access_key"],
    )
