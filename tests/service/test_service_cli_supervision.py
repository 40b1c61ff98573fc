"""``python -m service serve|demo`` as a supervisor (issue 13 item 11), with real processes: the
serving child dies with its parent even on kill -9, a busy port fails before the pool starts, and a
demo stopped with SIGTERM leaves no simulator behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.slow]

WAIT = 60.0  # bound on every wait below
KEY = "sk-cli-supervision"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


def _answers(url: str) -> bool:
    try:
        httpx.get(url, headers={"Authorization": f"Bearer {KEY}"}, timeout=2)
    except httpx.HTTPError:
        return False
    return True


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    values = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SIM_"))}
    values.update(GATEWAY_API_KEYS=KEY, GATEWAY_DATA_DIR=str(tmp_path / "data"))
    return values


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def test_the_serving_process_dies_with_its_supervisor(
    env: dict[str, str], processes: list[subprocess.Popen[bytes]]
) -> None:
    port = _free_port()
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    processes.append(supervisor)
    url = f"http://127.0.0.1:{port}/v1/models"
    _until(lambda: _answers(url), "the gateway to answer")
    (child,) = _children(supervisor.pid)
    supervisor.kill()  # SIGKILL: the supervisor cannot forward anything
    supervisor.wait(10)
    _until(lambda: not _alive(child), "the serving process to exit after its parent died")
    assert not _answers(url)


def test_a_busy_port_fails_before_the_pool_starts(
    env: dict[str, str], processes: list[subprocess.Popen[bytes]]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            env=env,
            capture_output=True,
            timeout=WAIT,
        )
    assert result.returncode == 2
    err = result.stderr.decode()
    assert f"127.0.0.1:{port} is already in use" in err
    assert "account" not in err.lower(), "nothing of the pool may have started"


@pytest.mark.browser
def test_a_demo_stopped_with_sigterm_leaves_no_simulator(
    env: dict[str, str], processes: list[subprocess.Popen[bytes]]
) -> None:
    port = _free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "service", "demo", "--port", str(port)],
        env={k: v for k, v in env.items() if k != "GATEWAY_API_KEYS"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    processes.append(demo)
    assert demo.stdout is not None
    simulator_url = ""
    for raw in demo.stdout:  # bounded by the test's timeout
        found = re.search(r"simulator of gemini.google.com at (http://\S+)", raw.decode())
        if found:
            simulator_url = found.group(1)
        if "Press Ctrl-C to stop." in raw.decode():
            break
    assert simulator_url, "the demo never announced its simulator"
    assert _answers(f"{simulator_url}/_sim/config")
    demo.send_signal(signal.SIGTERM)
    demo.wait(WAIT)
    _until(lambda: not _answers(f"{simulator_url}/_sim/config"), "the simulator to stop")
