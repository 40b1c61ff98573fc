"""Remote browsers: a Debian Chromium we start ourselves, reached over CDP, and a Playwright server;
the pool runs turns there and leaves the remote browser running when it closes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from browser import AccountSpec, AccountState, BrowserPool, LaunchFailed, LaunchMode, TurnRequest
from browser._settings import DEFAULT_ARGS
from tests.browser.conftest import cookie
from tests.browser.test_browser_pool import _settings
from tests.conftest import CHROMIUM_PATH
from tests.support.orphans import group_members
from tests.support.servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_DEVTOOLS = re.compile(r"DevTools listening on (ws://\S+)")
_LISTENING = re.compile(r"Listening on (ws://\S+)")


def _wait_for_line(log: Path, pattern: re.Pattern[str], process: subprocess.Popen[bytes]) -> str:
    """The first match of ``pattern`` in ``log`` (the process writes it once it listens), bounded."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = pattern.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode}")
        time.sleep(0.05)
    raise RuntimeError("the process did not announce its endpoint in time")


def _stop(process: subprocess.Popen[bytes], term_wait: float = 10) -> None:
    """Stop the whole process group: ``playwright run-server`` is a wrapper whose Node child (and
    Chromium's helpers) outlive a signal to the wrapper alone. Fails when a member survives."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=term_wait if sig == signal.SIGTERM else 10)
        except subprocess.TimeoutExpired:
            continue
        deadline = time.monotonic() + (term_wait if sig == signal.SIGTERM else 10)
        while group_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not group_members(process.pid):
            break
    assert not group_members(process.pid), f"processes of group {process.pid} survived"


@pytest.fixture
def remote_chromium(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Chromium with ``--remote-debugging-port=0``; yields its DevTools ws:// URL and the process."""
    log = tmp_path / "chromium.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                CHROMIUM_PATH,
                "--headless",
                "--remote-debugging-port=0",
                f"--user-data-dir={tmp_path / 'profile'}",
                *DEFAULT_ARGS,
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=sink,  # a file, not a pipe: Chromium logs a lot and a full pipe would block it
            start_new_session=True,  # its own process group, so that ``_stop`` reaches every helper
        )
    try:
        yield _wait_for_line(log, _DEVTOOLS, process), process
    finally:
        _stop(process)


async def _plain_turn(pool: BrowserPool, prompt: str) -> None:
    info = await pool.add_account(AccountSpec(name="remote", psid=cookie("paid")))
    assert info.state is AccountState.READY and info.tier == "paid"
    async with pool.turn(TurnRequest(prompt=prompt)) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and turn.final.completed and prompt in turn.final.text


async def test_cdp_remote_runs_turns_and_survives_pool_close(
    remote_chromium: tuple[str, subprocess.Popen[bytes]], simulator_url: str, tmp_path: Path
) -> None:
    endpoint, process = remote_chromium
    settings = _settings(simulator_url, tmp_path, LaunchMode.REMOTE, remote_endpoint=endpoint)
    async with BrowserPool(settings) as pool:
        await _plain_turn(pool, "over CDP")
    assert process.poll() is None, "the pool must not kill a remote browser"
    port = re.search(r":(\d+)/", endpoint)
    assert port is not None
    async with httpx.AsyncClient(timeout=5) as client:
        version = (await client.get(f"http://127.0.0.1:{port.group(1)}/json/version")).json()
    assert version["webSocketDebuggerUrl"] == endpoint


@pytest.fixture
def playwright_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``playwright run-server --unsafe`` (so that a client may name the Chromium to launch)."""
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "playwright", "run-server", "--host", "127.0.0.1"]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "--port", str(free_port()), "--unsafe"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the wrapper and its Node child in one group, stopped together
        )
    try:
        yield _wait_for_line(log, _LISTENING, process), process
    finally:
        # Once it has launched a browser for a client the server lingers on SIGTERM (an idle one
        # exits at once): a short grace, then SIGKILL.
        _stop(process, term_wait=2)


async def test_playwright_server_remote(
    playwright_server: tuple[str, subprocess.Popen[bytes]], simulator_url: str, tmp_path: Path
) -> None:
    endpoint, process = playwright_server
    launch = {"executablePath": CHROMIUM_PATH, "args": list(DEFAULT_ARGS), "headless": True}
    settings = _settings(
        simulator_url,
        tmp_path,
        LaunchMode.REMOTE,
        remote_endpoint=endpoint,
        remote_headers={"x-playwright-launch-options": json.dumps(launch)},
    )
    assert settings.remote_protocol == "auto"  # ws:// without /devtools/ → Playwright protocol
    async with BrowserPool(settings) as pool:
        await _plain_turn(pool, "over a Playwright server")
    assert process.poll() is None


async def test_unreachable_remote_fails_the_account_not_the_pool(simulator_url: str, tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    settings = _settings(simulator_url, tmp_path, LaunchMode.REMOTE, remote_endpoint=endpoint)
    async with BrowserPool(settings) as pool:
        info = await pool.add_account(AccountSpec(name="remote", psid=cookie("paid")))
        assert info.state is AccountState.FAILED and LaunchFailed.__name__ in (info.last_error or "")
