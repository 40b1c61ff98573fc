"""Two real gateways (real ``BrowserPool`` on Chromium, uvicorn on loopback) on one real Redis, with
the simulator as Google and three configured accounts: each account is signed in on exactly one
replica, both replicas answer, and a replica that stops hands its account to the other, which
signs it in and serves with it; the stopped replica kept its stored cookies. With
``cluster.internal_url`` and ``cluster.secret``, a conversation started through one replica continues
through the other in the same Gemini chat (the simulator's request log says so)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from service.app import create_app
from service.settings import AccountConfig, GatewaySettings
from tests.support import polling
from tests.support.servers import free_port, serve

API_KEY = "sk-cluster-e2e-key"
ADMIN_KEY = "adm-cluster-e2e-key"
SECRET = "cluster-e2e-forwarding-secret"
WAIT = 60.0  # bound of every wait on a condition (three page loads in Chromium)


until = partial(polling.until, bound=WAIT, interval=0.1)


def listed(url: str) -> dict[str, dict[str, Any]]:
    response = httpx.get(
        url + "/admin/accounts", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=15
    )
    assert response.status_code == 200, response.text
    # The accounts this replica drives (the others' it lists too are reported: reported_at set).
    return {row["id"]: row for row in response.json()["data"] if row["reported_at"] is None}


def ask(
    url: str, text: str, key: str = API_KEY, history: list[dict[str, str]] | None = None
) -> httpx.Response:
    messages = [*(history or []), {"role": "user", "content": text}]
    body = {"model": "gemini-2.5-flash", "messages": messages}
    return httpx.post(
        url + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=90
    )


Start = Callable[..., tuple[str, ExitStack]]


@pytest.fixture
def start(simulator_url: str, redis_url: str, tmp_path: Path) -> Iterator[Start]:
    run = uuid.uuid4().hex[:8]
    accounts = tuple(AccountConfig(name=f"r{i}", psid=SecretStr(f"paid-cluster-{run}-{i}")) for i in range(3))
    stacks: list[ExitStack] = []

    def replica(name: str, *, forwarding: bool = False) -> tuple[str, ExitStack]:
        port = free_port()
        forward = {"internal_url": f"http://127.0.0.1:{port}", "secret": SECRET} if forwarding else {}
        settings = GatewaySettings(
            data_dir=tmp_path / name,
            api_keys=(SecretStr(API_KEY),),
            admin_keys=(SecretStr(ADMIN_KEY),),
            browser={"gemini_url": simulator_url, "queue_timeout": 60.0},
            accounts=accounts,
            state={"backend": "redis", "redis_url": redis_url},
            media={"shared_dir": tmp_path / "media"},
            cluster={"replica_id": name, "lease_ttl": 5.0, "renew_interval": 0.25, **forward},
        )
        stack = ExitStack()
        stacks.append(stack)
        url = stack.enter_context(serve(create_app(settings), port=port, startup_timeout=90))
        return url, stack

    yield replica
    for stack in reversed(stacks):
        stack.close()


def test_each_account_is_signed_in_on_one_replica_and_moves_when_its_replica_stops(
    start: Start, tmp_path: Path
) -> None:
    url_a, _ = start("a")
    assert set(listed(url_a)) == {"r0", "r1", "r2"}  # alone: all three, signed in before it served
    url_b, stack_b = start("b")

    def split() -> bool:
        on_a, on_b = listed(url_a), listed(url_b)
        return set(on_a) | set(on_b) == {"r0", "r1", "r2"} and not set(on_a) & set(on_b) and len(on_a) == 2

    until(split, "the replicas split the accounts two and one")
    on_a, on_b = listed(url_a), listed(url_b)
    assert {row["owner"] for row in on_a.values()} == {"a"} and {row["owner"] for row in on_b.values()} == {
        "b"
    }
    until(lambda: all(row["state"] == "ready" for row in listed(url_b).values()), "B's account is signed in")
    for url in (url_a, url_b):
        answered = ask(url, f"hello from {url}")
        assert answered.status_code == 200, answered.text
        assert answered.json()["choices"][0]["message"]["content"]

    (moved,) = on_b
    stack_b.close()
    until(lambda: set(listed(url_a)) == {"r0", "r1", "r2"}, "A adopts B's account")
    until(lambda: listed(url_a)[moved]["state"] == "ready", "the adopted account is signed in on A")
    assert listed(url_a)[moved]["owner"] == "a"
    # The adopted account serves on A: a key limited to it is answered, and the account counts the turn.
    created = httpx.post(
        url_a + "/admin/keys",
        json={"name": "moved-only", "accounts": [moved]},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=15,
    )
    assert created.status_code == 201, created.text
    answered = ask(url_a, "after the hand-over", key=created.json()["key"])
    assert answered.status_code == 200, answered.text
    assert listed(url_a)[moved]["turns_served"] == 1
    # B stopped its account without forgetting it: its stored cookies are still in B's data directory.
    with sqlite3.connect(tmp_path / "b" / "cookies.sqlite3") as db:
        kept = {row[0] for row in db.execute("SELECT account_id FROM account_cookies")}
    assert moved in kept


def test_a_conversation_started_through_a_continues_through_b_in_the_same_gemini_chat(
    start: Start, simulator_url: str
) -> None:
    url_a, _ = start("a", forwarding=True)
    url_b, _ = start("b", forwarding=True)
    until(lambda: len(listed(url_b)) == 1, "B drives one account")
    until(lambda: all(row["state"] == "ready" for row in listed(url_b).values()), "B's account is signed in")
    marker = uuid.uuid4().hex[:8]
    first = ask(url_a, f"name a river {marker}")
    assert first.status_code == 200, first.text
    said = first.json()["choices"][0]["message"]["content"]
    history = [{"role": "user", "content": f"name a river {marker}"}, {"role": "assistant", "content": said}]

    follow_up = ask(url_b, f"and its delta {marker}", history=history)

    assert follow_up.status_code == 200, follow_up.text
    assert follow_up.json()["choices"][0]["message"]["content"]
    log = httpx.get(f"{simulator_url}/_sim/requests", timeout=10).json()
    (continued,) = [entry for entry in log if f"and its delta {marker}" in entry.get("prompt", "")]
    (started,) = [
        entry
        for entry in log
        if f"name a river {marker}" in entry.get("prompt", "") and entry is not continued
    ]
    # A continuation, not a fold: the first turn's account, its chat, only the new turn typed.
    assert not started["sent_cid"] and continued["sent_cid"]
    assert continued["account_id"] == started["account_id"]
    assert continued["prompt"] == f"and its delta {marker}"
