"""A real ``redis-server`` for the shared-state tests: one per test session (per xdist worker), on
a free loopback port, in a temporary directory, without persistence (``--save "" --appendonly
no``), stopped at the end. ``redis_url`` gives each test an empty database; ``async_redis`` a
redis-py asyncio client on it (text replies), made on the test's loop as the gateway makes its own. Without
``redis-server`` on the machine (``make setup`` installs it) the tests that use it skip, saying so.

The fixture names are in ``tests/support/tiers.py``'s ``SUBPROCESS_FIXTURES``: their tests are in
the subprocess tier."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pytest
import redis
import redis.asyncio as aioredis

from tests.support.servers import free_port

__all__ = ["RedisServer", "async_redis", "durable_redis", "on_redis", "redis_server", "redis_url"]

T = TypeVar("T")

_START_TIMEOUT = 20.0


class RedisServer:
    """One ``redis-server`` process; ``url`` reaches its database 0."""

    def __init__(self, directory: Path, *, durable: bool = False) -> None:
        """``durable``: an append-only file in ``directory``, so a restart keeps the data."""
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server; `make setup` does)")
        self.binary, self.directory, self.durable = binary, directory, durable
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        """Start (again, after ``stop``) on the same port."""
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes" if self.durable else "no",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        deadline = time.monotonic() + _START_TIMEOUT
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited at start ({self.process.returncode})")
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)  # polls readiness; nothing is timed
        finally:
            client.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory(prefix="gateway-redis-") as directory:
        server = RedisServer(Path(directory))
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    yield redis_server.url


@pytest.fixture
async def async_redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


def on_redis(url: str, work: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
    """``work`` on an asyncio client of ``url``, from a synchronous test: on a loop of its own in a
    thread of its own (the test session's loop stays untouched)."""

    async def run() -> T:
        client = aioredis.Redis.from_url(url, decode_responses=True)
        try:
            return await work(client)
        finally:
            await client.aclose()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, run()).result(timeout=30)


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A server of the test's own, with an append-only file: it can be restarted keeping its data."""
    server = RedisServer(tmp_path / "redis", durable=True)
    try:
        yield server
    finally:
        server.stop()
