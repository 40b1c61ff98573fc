"""Faults through the whole stack (issue 13): a continuation whose account hit its limit moves to
another account, Chromium killed mid-stream gives a typed error and the next request is answered
without a restart, and no secret (cookie value, API key, admin key, proxy password) reaches a log
line, the admin API's account listing or a file of the data directory outside the stores."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tests.browser.http_proxy import RecordingProxy, running_proxy
from tests.e2e.conftest import FAST_PACING, KEY_A, KEY_B, Stack, marker, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

WAIT = 30.0
FREE_MODEL = "gemini-2.5-flash-free"
ADMIN_KEY = "adm-faults-key-5150"
PROXY_USER = "gw-proxy-user"
PROXY_PASSWORD = f"proxy-pw-{uuid.uuid4().hex}"
# The files that hold secrets by design (cookies, added accounts with their proxies), with SQLite's
# journal files beside them; every other file under the data directory must hold none.
STORES = ("cookies.sqlite3", "added_accounts.sqlite3")
_PROC = Path("/proc")


class _Lines(logging.Handler):
    """Every log line of the process (the gateway runs in a thread of it), formatted."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _browsers() -> set[int]:
    """The Chromium main processes below this test process (renderers and helpers carry
    ``--type=``). Only our descendants: another xdist worker's Chromium, started meanwhile, must
    never be taken for this stack's and killed."""
    found: set[int] = set()
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        is_browser = (
            argv and argv[0].endswith(b"chromium") and not any(a.startswith(b"--type=") for a in argv)
        )
        if is_browser and _descends_from(int(entry.name), os.getpid()):
            found.add(int(entry.name))
    return found


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        try:
            stat = (_PROC / str(pid) / "stat").read_text()
        except OSError:
            return False
        pid = int(stat[stat.rindex(")") + 2 :].split(" ")[1])  # the parent's pid
        if pid == ancestor:
            return True
    return False


@pytest.fixture(scope="module")
def logs() -> Iterator[_Lines]:
    handler = _Lines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


@pytest.fixture(scope="module")
def proxy() -> Iterator[tuple[RecordingProxy, str]]:
    """A forwarding proxy that wants credentials, and its URL carrying them."""
    recording = RecordingProxy(credentials=(PROXY_USER, PROXY_PASSWORD))
    with running_proxy(recording) as url:
        yield recording, url.replace("http://", f"http://{PROXY_USER}:{PROXY_PASSWORD}@")


@pytest.fixture(scope="module")
def faults(
    tmp_path_factory: pytest.TempPathFactory, logs: _Lines, proxy: tuple[RecordingProxy, str]
) -> Iterator[tuple[Stack, set[int]]]:
    """A paid and a free account, and the Chromium main processes this stack started."""
    before = _browsers()
    data_dir = tmp_path_factory.mktemp("faults")
    with running_stack(data_dir, ("paid", "free"), admin_keys=(SecretStr(ADMIN_KEY),)) as stack:
        yield stack, _browsers() - before


def _ask(stack: Stack, messages: list[dict[str, Any]], model: str = FREE_MODEL) -> httpx.Response:
    return httpx.post(
        f"{stack.url}/gemini_official/v1/chat/completions",
        headers={"Authorization": f"Bearer {KEY_A}"},
        json={"model": model, "messages": messages},
        timeout=90,
    )


def _only(entries: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(entries) == 1, entries
    return entries[0]


def test_a_continuation_on_an_account_at_its_limit_moves_to_another(faults: tuple[Stack, set[int]]) -> None:
    stack, _ = faults
    first, second = f"first {marker()}", f"second {marker()}"
    # A model both accounts serve (the paid one is added first, so it serves the first turn).
    answer = _ask(stack, [{"role": "user", "content": first}], FREE_MODEL)
    assert answer.status_code == 200
    turn1 = _only(stack.requests_with(first))
    # The pinned follow-up's account answers 1037 (usage limit) once, for hours per its reset.
    httpx.post(
        f"{stack.sim_url}/_sim/behaviours",
        json={"account": "*", "behaviours": [{"kind": "usage_limit", "reset_seconds": 3600}]},
        timeout=10,
    ).raise_for_status()
    history = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": answer.json()["choices"][0]["message"]["content"]},
        {"role": "user", "content": second},
    ]
    followed = _ask(stack, history, FREE_MODEL)
    assert followed.status_code == 200, followed.text
    tried = stack.requests_with(second)
    pinned = tried[0]
    assert (pinned["account_id"], pinned.get("error_code")) == (turn1["account_id"], 1037)
    moved = tried[-1]
    assert moved["account_id"] != turn1["account_id"] and moved["outcome"] == "completed"
    assert first in moved["prompt"], "the history was folded into the new chat"
    assert followed.json()["choices"][0]["message"]["content"].startswith("Turn 1 of chat")


def test_chromium_killed_mid_stream_is_a_typed_error_then_the_next_turn_is_served(
    faults: tuple[Stack, set[int]],
) -> None:
    stack, browsers = faults
    assert browsers, "the stack runs a shared Chromium"
    stack.sim_config(frame_interval=0.4, snapshot_chars=4)  # slow enough to kill it mid-answer
    events: list[dict[str, Any]] = []
    try:
        with httpx.stream(
            "POST",
            f"{stack.url}/gemini_official/v1/chat/completions",
            headers={"Authorization": f"Bearer {KEY_A}"},
            json={
                "model": FREE_MODEL,  # the paid account cools after the test above
                "stream": True,
                "messages": [{"role": "user", "content": marker()}],
            },
            timeout=90,
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                events.append(json.loads(line.removeprefix("data: ")))
                if len(events) == 3:  # role, then content: the page is answering
                    for pid in browsers:  # the browser process (and any launcher wrapper of it)
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(pid, signal.SIGKILL)
    finally:
        stack.sim_config(**FAST_PACING)
    assert "error" in events[-1], "the stream ends with a typed error event, not a silent cut"
    assert (
        events[-1]["error"]["type"] in {"api_error", "upstream_error", "server_error"} or events[-1]["error"]
    )
    assert not any(choice.get("finish_reason") == "stop" for e in events for choice in e.get("choices", []))
    # No restart: the pool relaunches Chromium and the next request is answered.
    deadline = time.monotonic() + WAIT
    answer = _ask(stack, [{"role": "user", "content": f"after {marker()}"}])
    while answer.status_code != 200 and time.monotonic() < deadline:
        answer = _ask(stack, [{"role": "user", "content": f"after {marker()}"}])
    assert answer.status_code == 200, answer.text


def test_no_secret_in_any_log_line(faults: tuple[Stack, set[int]], logs: _Lines) -> None:
    stack, _ = faults
    assert _ask(stack, [{"role": "user", "content": marker()}]).status_code == 200
    secrets = [KEY_A, KEY_B] + [c.psid.get_secret_value() for c in stack.settings.accounts if c.psid]
    assert len(secrets) == 4 and logs.lines
    leaked = [line for line in logs.lines if any(secret in line for secret in secrets)]
    assert leaked == []


def _admin(stack: Stack, method: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    return httpx.request(method, f"{stack.url}/admin{path}", headers=headers, timeout=60, **kwargs)


def _files_holding(data_dir: Path, secrets: list[str]) -> list[str]:
    """Files under ``data_dir`` other than the stores that contain any of ``secrets``."""
    found = []
    for path in data_dir.rglob("*"):
        if not path.is_file() or path.name.startswith(STORES):
            continue
        try:
            data = path.read_bytes()
        except OSError:  # a file removed meanwhile
            continue
        found += [f"{path.relative_to(data_dir)}" for secret in secrets if secret.encode() in data]
    return found


def test_no_proxy_password_in_logs_listing_or_files(
    faults: tuple[Stack, set[int]], logs: _Lines, proxy: tuple[RecordingProxy, str]
) -> None:
    """An account with a proxy carrying credentials, added through the admin API and served
    through that proxy: its password (and every other secret) stays in the stores."""
    stack, _ = faults
    recording, proxy_url = proxy
    psid = f"paid-proxied-{uuid.uuid4().hex[:8]}"
    added = _admin(stack, "POST", "/accounts", json={"name": "proxied", "psid": psid, "proxy": proxy_url})
    assert added.status_code == 201, added.text
    account_id = added.json()["id"]
    created = _admin(stack, "POST", "/keys", json={"name": "via-proxy", "accounts": [account_id]})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    deadline = time.monotonic() + WAIT
    while (state := _admin(stack, "GET", f"/accounts/{account_id}").json()["state"]) != "ready":
        assert time.monotonic() < deadline, f"the proxied account is {state}"
        time.sleep(0.1)
    prompt = marker()
    answer = httpx.post(
        f"{stack.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": FREE_MODEL, "messages": [{"role": "user", "content": prompt}]},
        timeout=90,
    )
    assert answer.status_code == 200, answer.text
    assert any("StreamGenerate" in target for target in recording.seen), "the turn went through the proxy"
    assert _only(stack.requests_with(prompt))["outcome"] == "completed"

    listing = _admin(stack, "GET", "/accounts")
    assert listing.status_code == 200
    shown = next(a for a in listing.json()["data"] if a["id"] == account_id)
    assert (
        shown["proxy"] is not None and PROXY_USER not in listing.text and PROXY_PASSWORD not in listing.text
    )

    secrets = [PROXY_PASSWORD, ADMIN_KEY, key, psid, KEY_A, KEY_B]
    secrets += [c.psid.get_secret_value() for c in stack.settings.accounts if c.psid]
    assert logs.lines and [line for line in logs.lines if any(s in line for s in secrets)] == []
    data_dir = stack.settings.data_dir
    assert {p.name for p in data_dir.iterdir()} >= set(STORES), "the stores are where we look past"
    assert _files_holding(data_dir, secrets) == []
