"""``python -m service demo`` as a user runs it: it starts the simulator and the gateway, prints how
to call it and its admin key with the dashboard's URL, answers the official SDK with the demo key
and with a key from the environment (added, not replacing it), opens its dashboard and ``/metrics``
with the printed admin key, has calibrated the watermark at start (``remove_watermark`` works at
once), and Ctrl-C stops both cleanly."""

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

from tests.support.pacing import PACING
from tests.support.paths import ROOT
from tests.support.servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

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
    env["GATEWAY_API_KEYS"] = "sk-mine"
    # The demo's simulator child reads SIM_* (its settings' prefix): the suite's pacing, as every other
    # stack here, instead of a second's wait for each first token (the demo's own pacing is not what
    # this test asserts; its start calibrates on four images, then nine turns follow).
    env.update({f"SIM_{name.upper()}": str(value) for name, value in PACING.items()})
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

        assert "API key: demo (and the 1 configured one)" in output and "sk-mine" not in output
        root = f"http://127.0.0.1:{port}"
        admin = re.search(r"admin key (demo-admin-\S+)", output)
        assert admin is not None and f"dashboard: {root}/admin/ui" in output
        admin_key = admin.group(1)

        for key in ("demo", "sk-mine"):
            client = openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=60)
            for model in ("gemini-2.5-pro", "gemini-2.5-flash-free"):
                messages = [{"role": "user", "content": f"Hi from {key}"}]
                reply = client.chat.completions.create(model=model, messages=messages)  # type: ignore[arg-type]
                assert (reply.choices[0].message.content or "").startswith("Turn 1 of chat")
        log = httpx.get(f"{simulator_url}/_sim/requests").json()
        kinds = {entry["account"] for entry in log}
        assert kinds <= {"paid", "free"} and kinds

        with httpx.Client(base_url=root, timeout=30) as browser:
            signed_in = browser.post("/admin/ui/login", data={"key": admin_key}, follow_redirects=True)
            assert signed_in.status_code == 200 and "demo-paid" in signed_in.text
            metrics = browser.get("/metrics", headers={"Authorization": f"Bearer {admin_key}"})
            assert metrics.status_code == 200 and "gateway_requests_total" in metrics.text

        image = httpx.post(
            f"{base_url}/images/generations",
            headers={"Authorization": "Bearer demo"},
            json={"prompt": "a lighthouse", "model": "gemini-2.5-flash-imagen", "remove_watermark": True},
            timeout=120,
        )
        assert image.status_code == 200, image.text
        # Calibrated at start: the simulator was asked for pure black images before this request
        # (a calibration on first need would have come after the lighthouse).
        prompts = [entry["prompt"] for entry in httpx.get(f"{simulator_url}/_sim/requests").json()]
        black = [i for i, prompt in enumerate(prompts) if "pure black" in prompt]
        lighthouse = next(i for i, prompt in enumerate(prompts) if "a lighthouse" in prompt)
        assert black and black[0] < lighthouse, prompts
        assert image.headers["x-watermark"].startswith("found")

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
