"""``python -m service demo`` as a user runs it: it starts the simulator and the gateway, prints how
to call it, answers the official SDK with the demo key, and Ctrl-C stops both cleanly."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import httpx
import openai
import pytest

from tests.support.paths import ROOT
from tests.support.servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("e2e"), pytest.mark.timeout(180)]

STARTUP = 90.0
SHUTDOWN = 30.0


def _reader(stream: object, lines: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.put(line)


def _read_until(lines: queue.Queue[str], needle: str, seen: list[str]) -> None:
    deadline = time.monotonic() + STARTUP
    while not any(needle in line for line in seen):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no {needle!r} in the demo's output:\n{''.join(seen)}")
        try:
            seen.append(lines.get(timeout=remaining))
        except queue.Empty:
            continue


def test_demo_serves_the_sdk_and_stops_on_ctrl_c() -> None:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith(("GATEWAY_", "SIM_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        _read_until(lines, "Press Ctrl-C", seen)
        output = "".join(seen)
        base_url = f"http://127.0.0.1:{port}/gemini_official/v1"
        assert f'OpenAI(base_url="{base_url}", api_key="demo")' in output
        match = re.search(r"simulator of gemini\.google\.com at (http://localhost:\d+)", output)
        assert match is not None
        simulator_url = match.group(1)

        client = openai.OpenAI(base_url=base_url, api_key="demo", max_retries=0, timeout=60)
        for model in ("gemini-2.5-pro", "gemini-2.5-flash-free"):
            reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])
            assert (reply.choices[0].message.content or "").startswith("Turn 1 of chat")
        kinds = {entry["account"] for entry in httpx.get(f"{simulator_url}/_sim/requests").json()}
        assert kinds <= {"paid", "free"} and kinds

        # Ctrl-C: the terminal signals the whole foreground group (Playwright's driver included).
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=SHUTDOWN) == 0
        _read_until(lines, "demo stopped", seen)
        time.sleep(0.5)  # let the reader drain anything printed after it
        while not lines.empty():
            seen.append(lines.get_nowait())
        output = "".join(seen)
        assert "Traceback" not in output and "exception" not in output.lower(), output
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{simulator_url}/_sim/config", timeout=2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=SHUTDOWN)
