"""A gateway killed (SIGKILL, its whole process group: the pool's Chromium too) in the middle of a
video job or of a running deep research, then started again on the same data directory, still
delivers the result: the job's row in SQLite names its account, chat and video URL, the research's
row its account, chat and research id, and the new process collects them without a second
generation or research."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from openai.types import Video

from tests.e2e.conftest import FAST_PACING, KEY_A, WAIT, marker
from tests.support.servers import free_port, serve

# The SDK marks its Sora helpers deprecated; they are what clients call, so they are what we test.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

ASSETS = Path(__file__).resolve().parents[2] / "simulator" / "assets"
MODEL = "gemini-2.5-pro-video"
RESEARCH_MODEL = "gemini-2.5-pro-deepsearch"
STARTUP = 90.0


@pytest.fixture
def simulator() -> Iterator[str]:
    from simulator.app import create_app as create_simulator
    from simulator.settings import SimulatorSettings

    # Renders are held until a test releases them (``_release_renders``), so the kill always lands
    # while the video is still rendering, however slow the machine, and no test waits longer.
    with serve(create_simulator(SimulatorSettings(**FAST_PACING, video_render_seconds=3600.0))) as url:
        yield url


def _release_renders(simulator: str) -> None:
    """Every video rendering now counts as rendered (the simulator reads the setting at each look)."""
    httpx.post(f"{simulator}/_sim/config", json={"video_render_seconds": 0}, timeout=10).raise_for_status()


class Gateway:
    """``python -m service serve`` in its own process group (so a kill takes its Chromium along)."""

    def __init__(self, sim_url: str, data_dir: Path, account: str, model: str = MODEL) -> None:
        self.model = model  # ready once the pool offers it
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SIM_"))}
        self.env.update(
            GEMINI_GATEWAY_SUPERVISED="1",
            GATEWAY_API_KEYS=KEY_A,
            GATEWAY_DATA_DIR=str(data_dir),
            GATEWAY_VIDEO_POLL_INTERVAL="0.2",
            GATEWAY_BROWSER=json.dumps({"gemini_url": sim_url}),
            GATEWAY_ACCOUNTS=json.dumps([{"name": "restart", "psid": account}]),
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> openai.OpenAI:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP
        while not self._ready():
            assert self.process.poll() is None, "the gateway exited"
            assert time.monotonic() < deadline, "the gateway did not get ready"
            time.sleep(0.2)
        return openai.OpenAI(api_key=KEY_A, base_url=f"{self.url}/v1", max_retries=0, timeout=60)

    def _ready(self) -> bool:
        try:
            models = httpx.get(
                f"{self.url}/v1/models", headers={"Authorization": f"Bearer {KEY_A}"}, timeout=2
            )
        except httpx.HTTPError:
            return False
        cards = models.json().get("data", []) if models.status_code == 200 else []
        return any(card["id"] == self.model and card.get("available") for card in cards)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group we started: gateway and Chromium
            self.process.wait(10)


@pytest.fixture
def gateways(simulator: str, tmp_path: Path) -> Iterator[list[Gateway]]:
    started: list[Gateway] = []
    try:
        yield started
    finally:
        for gateway in started:
            gateway.kill()


def _restarted_until_done(
    gateway: Gateway, gateways: list[Gateway], video_id: str
) -> tuple[openai.OpenAI, Video]:
    """Start ``gateway`` (the killed one's successor, same data directory) and wait until the job
    it resumed has ended."""
    gateways.append(gateway)
    client = gateway.start()
    deadline = time.monotonic() + WAIT
    while (done := client.videos.retrieve(video_id)).status in ("queued", "in_progress"):
        assert time.monotonic() < deadline, "the resumed job never finished"
        time.sleep(0.2)
    return client, done


def test_a_video_job_survives_a_killed_gateway(
    simulator: str, tmp_path: Path, gateways: list[Gateway]
) -> None:
    account = f"paid-restart-{uuid.uuid4().hex[:8]}"
    first = Gateway(simulator, tmp_path / "data", account)
    gateways.append(first)
    client = first.start()
    prompt = f"a heron at dawn {marker()}"
    video = client.videos.create(model=MODEL, prompt=prompt)
    deadline = time.monotonic() + WAIT
    # The chat is stored from 5 on; the answer named only the job's chip (J1): the job renders now.
    while (seen := client.videos.retrieve(video.id)).progress < 5:
        assert seen.status in ("queued", "in_progress") and time.monotonic() < deadline
        time.sleep(0.1)
    assert seen.status == "in_progress"
    first.kill()
    _release_renders(simulator)

    client, done = _restarted_until_done(Gateway(simulator, tmp_path / "data", account), gateways, video.id)
    assert done.status == "completed" and done.progress == 100
    assert client.videos.download_content(video.id).content == (ASSETS / "video.mp4").read_bytes()
    log = httpx.get(f"{simulator}/_sim/requests", timeout=10).json()
    assert len([entry for entry in log if prompt in entry["prompt"]]) == 1  # generated once


def test_a_research_survives_a_killed_gateway(
    simulator: str, tmp_path: Path, gateways: list[Gateway]
) -> None:
    httpx.post(f"{simulator}/_sim/config", json={"research_seconds": 6.0}, timeout=10).raise_for_status()
    account = f"paid-restart-{uuid.uuid4().hex[:8]}"
    first = Gateway(simulator, tmp_path / "data", account, RESEARCH_MODEL)
    gateways.append(first)
    first.start()
    topic = f"river deltas {marker()}"
    body = {"model": RESEARCH_MODEL, "messages": [{"role": "user", "content": topic}], "stream": True}
    headers = {"Authorization": f"Bearer {KEY_A}"}
    with httpx.stream(
        "POST", f"{first.url}/v1/chat/completions", json=body, headers=headers, timeout=60
    ) as answer:
        for line in answer.iter_lines():
            if "Research started" in line:
                first.kill()  # confirmed, recorded, running: the gateway dies under the stream
                break

    second = Gateway(simulator, tmp_path / "data", account, RESEARCH_MODEL)
    gateways.append(second)
    client = second.start()
    chunks = client.chat.completions.create(**body)  # the same messages, streamed again
    content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert content.startswith(f"# Research report: {topic}") and "## Sources" in content
    log = httpx.get(f"{simulator}/_sim/requests", timeout=10).json()
    plans = [entry for entry in log if topic in entry["prompt"]]
    starts = [
        entry for entry in log if entry["prompt"] == "Start research" and entry["cid"] == plans[0]["cid"]
    ]
    assert len(plans) == 1 and len(starts) == 1  # re-attached by its chat, not researched again


def test_a_video_job_killed_mid_answer_is_collected_from_its_chat(
    simulator: str, tmp_path: Path, gateways: list[Gateway]
) -> None:
    """Killed after the answer named its chat but before it named the video: the restarted gateway
    re-opens the chat's history (hNvQHb) on the job's account and collects the video from there."""
    import sqlite3

    account = f"paid-restart-{uuid.uuid4().hex[:8]}"
    # The answer stalls after its first content frame: the job knows its chat, not its video.
    stall = {"account": account, "behaviours": [{"kind": "stall", "after_frames": 2}]}
    httpx.post(f"{simulator}/_sim/behaviours", json=stall, timeout=10).raise_for_status()
    first = Gateway(simulator, tmp_path / "data", account)
    gateways.append(first)
    client = first.start()
    prompt = f"a lantern on a lake {marker()}"
    video = client.videos.create(model=MODEL, prompt=prompt)
    database = tmp_path / "data" / "videos.sqlite3"

    def stored() -> tuple[str | None, str | None]:
        with sqlite3.connect(database) as db:
            row = db.execute("SELECT chat_id, video_url FROM videos WHERE id = ?", (video.id,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    deadline = time.monotonic() + WAIT
    while stored()[0] is None:
        assert time.monotonic() < deadline, "the job never learnt its chat"
        time.sleep(0.1)
    assert stored()[1] is None, "the stalled answer cannot have named the video"
    first.kill()
    _release_renders(simulator)

    client, done = _restarted_until_done(Gateway(simulator, tmp_path / "data", account), gateways, video.id)
    assert done.status == "completed", done.error
    assert client.videos.download_content(video.id).content == (ASSETS / "video.mp4").read_bytes()
    log = httpx.get(f"{simulator}/_sim/requests", timeout=10).json()
    assert len([entry for entry in log if prompt in entry["prompt"]]) == 1  # generated once
    reads = httpx.get(f"{simulator}/_sim/rpcs", timeout=10).json()
    assert any(entry["rpcid"] == "hNvQHb" and entry["payload"][0] == stored()[0] for entry in reads)
