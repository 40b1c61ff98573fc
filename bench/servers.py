"""The systems under test, each in its own process on loopback: the simulator and the gateway.

Separate processes keep the client, the gateway and the simulator from sharing one GIL, which would
add scheduling delays of its own to the millisecond figures being measured.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

__all__ = ["API_KEY", "Server", "free_port", "gateway", "process", "simulator"]

API_KEY = "sk-bench-0123456789"
_ROOT = Path(__file__).resolve().parent.parent
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
_GATEWAYS = itertools.count(1)


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environ(extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k.lower() not in _PROXY_VARS and not k.startswith(("GATEWAY_", "SIM_"))
    }
    env["PYTHONPATH"] = str(_ROOT)
    env.update(extra)
    return env


def _wait_ready(probe: str, process: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{probe} exited early; see {log}")
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(
                probe, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=2, trust_env=False
            )
            if response.status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{probe} not ready after {timeout:.0f} s; see {log}")


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], probe: str, log: Path, timeout: float) -> Iterator[int]:
    with log.open("wb") as sink:
        process = subprocess.Popen(args, cwd=_ROOT, env=_environ(env), stdout=sink, stderr=subprocess.STDOUT)
        try:
            _wait_ready(probe, process, timeout, log)
            yield process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextlib.contextmanager
def simulator(workdir: Path, first_token_delay: float, frame_interval: float) -> Iterator[Server]:
    """``python -m simulator`` with the given pacing."""
    port = free_port()
    url = f"http://localhost:{port}"
    env = {"SIM_FIRST_TOKEN_DELAY": str(first_token_delay), "SIM_FRAME_INTERVAL": str(frame_interval)}
    args = [sys.executable, "-m", "simulator", "--port", str(port)]
    with process(args, env, f"{url}/_sim/config", workdir / f"simulator-{port}.log", 30) as pid:
        yield Server(url, pid)


@contextlib.contextmanager
def gateway(
    workdir: Path,
    sim_url: str,
    psids: list[str],
    timeout: float = 120,
    browser: dict[str, Any] | None = None,
) -> Iterator[Server]:
    """The real app (``service.app.create_app``, real ``BrowserPool``) under uvicorn, one account per
    ``__Secure-1PSID``; ready once the lifespan added (warmed) every account. ``browser`` adds pool
    settings (``tabs_per_account``, ``chromium_args``, ...) to the simulator's URL."""
    port = free_port()
    url = f"http://localhost:{port}"
    # Named by a counter too: a long run (``--repeat``) starts many gateways, and a port comes back.
    name = f"gateway-{port}-{next(_GATEWAYS)}"
    data_dir = workdir / name
    data_dir.mkdir(parents=True)
    config: dict[str, Any] = {
        "data_dir": str(data_dir),
        "api_keys": [API_KEY],
        "browser": {**(browser or {}), "gemini_url": sim_url},
        "accounts": [{"name": f"bench-{i}", "psid": psid} for i, psid in enumerate(psids, 1)],
    }
    config_path = data_dir / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    args = [sys.executable, "-m", "bench.gateway_server", "--port", str(port)]
    env = {"GATEWAY_CONFIG": str(config_path)}
    with process(args, env, f"{url}/v1/models", workdir / f"{name}.log", timeout) as pid:
        yield Server(url, pid)


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A ``redis-server`` of the benchmark's own on loopback, without persistence; its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server; `make setup` does)")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        [*args, "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while not _pings(port):  # ready when it answers (bounded)
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({process.returncode})")
            if time.monotonic() > deadline:
                raise RuntimeError("timed out after 20 s waiting until redis-server answers")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def _pings(port: int) -> bool:
    import redis

    client = redis.Redis(port=port, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
