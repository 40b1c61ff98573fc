"""kill -9 of the gateway in the middle of a chat stream, then a restart on the same data directory,
loses nothing (issue 13, item 14).

Before the kill the first gateway holds everything a running gateway accumulates: an account added
through the admin API (not in the configuration), an API key created through the admin API and
scoped to that account, a conversation (one answered turn, so a mapping exists), a video job
rendering, and cookies the page rotated away from the stale ones the account was added with. The
whole process group (the serving process and Playwright's driver; Chromium runs in a group of its
own) is then SIGKILLed while a stream is being answered. Every process of that gateway, Chromium's
included, must be gone: they are found before the kill by pid (below the gateway) and by a tag in
the gateway's environment (Chromium's crash handlers detach to init), never machine-wide, since
other workers run Chromium too. A second gateway on the same data directory must serve the added
account with the created key, on the rotated cookie, continue the conversation in the same Gemini
chat and finish the video job without generating it again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from browser._cookies import PSIDTS
from browser._store import CookieStore
from tests.e2e.conftest import FAST_PACING, marker
from tests.support.kill_stream import killed_mid_stream, slow_down
from tests.support.servers import free_port, serve

# The SDK marks its Sora helpers deprecated; they are what clients call, so they are what we test.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

ADMIN_KEY = "adm-kill-restart-key"
ACCOUNT = "runtime"
STALE = "stale-ts-from-the-admin-call"
CHAT_MODEL = "gemini-2.5-flash"
VIDEO_MODEL = "gemini-2.5-pro-video"
ASSETS = Path(__file__).resolve().parents[2] / "simulator" / "assets"
STARTUP = 90.0
WAIT = 30.0  # bound on every poll
_PROC = Path("/proc")
RUN_TAG = "KILL_RESTART_RUN"  # in the gateway's environment, inherited by all it starts
# Chromium itself (Debian's, Chrome for Testing's, the headless shell), not its crash handler.
BROWSER_EXECUTABLES = ("chromium", "chrome", "headless_shell")


def _until(predicate: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return result


def _parent(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[1]) if fields is not None else None


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (state first), or None when gone."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split(" ")


def _started(pid: int) -> int | None:
    """When the process started (clock ticks after boot): with the pid, names one process even
    after the pid is reused (pid_max may be 32768, and the other workers start Chromiums too)."""
    fields = _stat(pid)
    return int(fields[19]) if fields is not None else None  # field 22 of stat


def process_alive(pid: int, started: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z" and int(fields[19]) == started


def _exe(pid: int) -> str:
    try:
        return os.readlink(_PROC / str(pid) / "exe")
    except OSError:  # gone, or a kernel thread
        return ""


def _descends_from(pid: int, root: int) -> bool:
    parent: int | None = pid
    while parent is not None and parent > 1:
        parent = _parent(parent)
        if parent == root:
            return True
    return False


def _tagged(pid: int, tag: str) -> bool:
    try:
        return f"{RUN_TAG}={tag}".encode() in (_PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return False


def processes_of(root: int, tag: str) -> dict[int, tuple[int, str]]:
    """Every process of the gateway ``root``, as pid → (start time, executable): those below it
    (Chromium's zygotes and renderers rewrite their environment, but stay its descendants) and
    those carrying its run tag (Chromium's crash handlers detach to init, but keep the environment).
    Only a living gateway's tree says this: once it is killed, its Chromium is init's child."""
    pids = [int(entry.name) for entry in _PROC.iterdir() if entry.name.isdigit()]
    found = {pid for pid in pids if pid == root or _descends_from(pid, root) or _tagged(pid, tag)}
    return {pid: (started, _exe(pid)) for pid in found if (started := _started(pid)) is not None}


class Gateway:
    """``python -m service serve`` as the serving process itself, in its own process group, so one
    ``killpg`` is kill -9 of everything it runs (as a crash, an OOM kill or ``docker kill`` would)."""

    def __init__(self, sim_url: str, data_dir: Path) -> None:
        self.tag = uuid.uuid4().hex
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SIM_"))}
        self.env.update(
            GEMINI_GATEWAY_SUPERVISED="1",
            **{RUN_TAG: self.tag},
            GATEWAY_ADMIN_KEYS=ADMIN_KEY,  # no configured API key and no configured account
            GATEWAY_DATA_DIR=str(data_dir),
            GATEWAY_VIDEO_POLL_INTERVAL="0.2",
            GATEWAY_BROWSER=json.dumps({"gemini_url": sim_url, "cookie_save_interval": 0.2}),
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

        def up() -> bool:
            assert self.process is not None and self.process.poll() is None, "the gateway exited"
            try:
                return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _until(up, "the gateway to answer /healthz", STARTUP)

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        return httpx.request(method, f"{self.url}/admin{path}", headers=headers, timeout=60, **kwargs)

    def account(self) -> dict[str, Any] | None:
        accounts: list[dict[str, Any]] = self.admin("GET", "/accounts").json()["data"]
        return next((a for a in accounts if a["name"] == ACCOUNT), None)

    def ready(self) -> dict[str, Any]:
        ready: dict[str, Any] = _until(
            lambda: (a := self.account()) is not None and a["state"] == "ready" and a, "the account", STARTUP
        )
        return ready

    def client(self, key: str) -> openai.OpenAI:
        return openai.OpenAI(api_key=key, base_url=f"{self.url}/v1", max_retries=0, timeout=60)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture
def simulator() -> Iterator[str]:
    from simulator.app import create_app as create_simulator
    from simulator.settings import SimulatorSettings

    # Cookies rotate fast; the video renders until the test lets it finish (after the restart).
    settings = SimulatorSettings(**FAST_PACING, rotation_interval=0.3, video_render_seconds=3600.0)
    with serve(create_simulator(settings)) as url:
        yield url


@pytest.fixture
def gateways(simulator: str) -> Iterator[list[Gateway]]:
    started: list[Gateway] = []
    try:
        yield started
    finally:
        for gateway in started:
            gateway.kill()


def _sim(sim_url: str, path: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = httpx.get(f"{sim_url}/_sim/{path}", timeout=10).json()
    return entries


def _stored_psidts(store: CookieStore) -> str | None:
    stored = store.load_sync(ACCOUNT)
    return None if stored is None else {c.name: c.value for c in stored.cookies}.get(PSIDTS)


def test_nothing_is_lost_when_the_gateway_is_killed_mid_stream(
    simulator: str, tmp_path: Path, gateways: list[Gateway]
) -> None:
    data_dir = tmp_path / "data"
    store = CookieStore(data_dir)
    first = Gateway(simulator, data_dir)
    gateways.append(first)
    first.start()

    # An account and a key, both at runtime; the key may use only that account.
    psid = f"paid-kill-{uuid.uuid4().hex[:8]}"
    added = first.admin("POST", "/accounts", json={"name": ACCOUNT, "psid": psid, "psidts": STALE})
    assert added.status_code == 201, added.text
    account_id = first.ready()["id"]
    created = first.admin("POST", "/keys", json={"name": "kill-test", "accounts": [account_id]})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    client = first.client(key)

    # A conversation: one answered turn, so its mapping is stored.
    opening = f"first turn {marker()}"
    reply = client.chat.completions.create(model=CHAT_MODEL, messages=[{"role": "user", "content": opening}])
    answer = reply.choices[0].message.content or ""
    turn1 = next(e for e in _sim(simulator, "requests") if opening in e["prompt"])
    assert answer.startswith(f"Turn 1 of chat {turn1['cid']}")

    # A video job, rendering: its Create-video turn answered with the job's chip, so the job's chat
    # is stored and the gateway follows it (docs/architecture/evidence.md#j1).
    video_prompt = f"a heron at dawn {marker()}"
    video = client.videos.create(model=VIDEO_MODEL, prompt=video_prompt)

    def outcomes() -> list[str]:
        return [e.get("outcome", "") for e in _sim(simulator, "requests") if video_prompt in e["prompt"]]

    _until(lambda: "completed" in outcomes(), "the Create-video turn's answer")
    assert client.videos.retrieve(video.id).status == "in_progress"

    # Cookies rotated away from the stale ones the account was added with, and stored.
    _until(lambda: _stored_psidts(store) not in (None, STALE), "a rotated cookie in the store")

    # kill -9 of the whole group while a stream is being answered; what it runs is read just before
    # (once killed, its Chromium is init's child, and soon no process at all).
    slow_down(simulator)
    assert first.process is not None
    processes: dict[int, tuple[int, str]] = {}

    def kill() -> None:
        assert first.process is not None
        processes.update(processes_of(first.process.pid, first.tag))
        first.kill()

    events, finished = killed_mid_stream(first.url, key, CHAT_MODEL, marker(), kill)
    browsers = {pid for pid, (_, exe) in processes.items() if Path(exe).name in BROWSER_EXECUTABLES}
    assert events >= 3 and not finished and browsers, "the kill landed mid-stream, with Chromium running"
    # Killed processes need a moment to go; one still there after the bound outlived its gateway.
    _until(
        lambda: not any(process_alive(pid, started) for pid, (started, _) in processes.items()),
        "every process of the killed gateway to exit",
        15,
    )
    rotated = _stored_psidts(store)
    assert rotated not in (None, STALE)

    # No more rotation from here: the cookie in use can only be the stored one or the stale one.
    # And the video finishes rendering only now: the second gateway must find it by itself.
    httpx.post(
        f"{simulator}/_sim/config", json={**FAST_PACING, "rotation_interval": 600, "video_render_seconds": 0}
    ).raise_for_status()
    second = Gateway(simulator, data_dir)
    gateways.append(second)
    second.start()
    restored = second.ready()
    assert restored["id"] == account_id and restored["source"] == "added"
    client = second.client(key)
    assert [m.id for m in client.models.list()], "the created key still works"

    # The follow-up continues the same Gemini chat on the same account.
    follow_up = f"second turn {marker()}"
    asked_at = time.time()
    reply = client.chat.completions.create(
        model=CHAT_MODEL,
        messages=[
            {"role": "user", "content": opening},
            {"role": "assistant", "content": answer},
            {"role": "user", "content": follow_up},
        ],
    )
    turn2 = next(e for e in _sim(simulator, "requests") if follow_up in e["prompt"])
    assert turn2["sent_cid"] == turn1["cid"] and turn2["account_id"] == turn1["account_id"]
    assert opening not in turn2["prompt"], "only the new message was typed"
    assert (reply.choices[0].message.content or "").startswith(f"Turn 2 of chat {turn1['cid']}")

    # The turn stored the context's cookies again: they are the rotated ones, never the stale ones.
    _until(
        lambda: ((second.account() or {}).get("cookies_saved_at") or 0) >= asked_at,
        "the cookies stored after the turn",
    )
    assert _stored_psidts(store) == rotated

    # The video job is listed and completes from its stored chat (not generated again).
    assert video.id in [item.id for item in client.videos.list()]
    done = _until(
        lambda: (v := client.videos.retrieve(video.id)).status not in ("queued", "in_progress") and v,
        "the resumed video job",
    )
    assert done.status == "completed" and done.progress == 100, done.error
    assert client.videos.download_content(video.id).content == (ASSETS / "video.mp4").read_bytes()
    assert len([e for e in _sim(simulator, "requests") if video_prompt in e["prompt"]]) == 1
