"""Replicas that fail (issue 20 item 6): gateways as separate processes (``python -m service serve``)
on one real Redis, the simulator as Google, real Chromium.

- kill -9 of a replica while it streams an answer: the client's stream breaks off; the dead
  replica's account is adopted and serves again from another replica (the wait is bounded by the
  lease TTL, a health interval and a page load; no time is asserted); nothing in Redis is lost; and
  the simulator's request log shows no account ever driven by two browsers at once.
- Redis stopped (longer than a lease lasts) and started again on the same port with its data: the
  replicas come back, nothing is lost, each account is owned by exactly one replica, the one that
  drove it before (its lease taken back with the same fencing token), never by two browsers at once.
- Redis unreachable at start: ``python -m service serve`` exits with status 2 naming host:port,
  never the URL's password.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.support import polling
from tests.support.kill_stream import killed_mid_stream, slow_down
from tests.support.pacing import PACING
from tests.support.redis import RedisServer
from tests.support.replicas import Replica, Replicas, overlaps, redis_content
from tests.support.servers import free_port, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

MODEL = "gemini-2.5-flash"
VIDEO_MODEL = "gemini-2.5-pro-video"
LEASE_TTL = 3.0
RENEW = 0.5
WAIT = 90.0  # bound of every wait on a condition (page loads in three Chromiums on a shared machine)
ROOT = Path(__file__).resolve().parents[2]


def until(condition: Any, what: str, bound: float = WAIT) -> None:
    polling.until(condition, what, bound=bound, interval=0.2)


@pytest.fixture
def sim_url() -> Iterator[str]:
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    with serve(create_app(SimulatorSettings(**PACING, video_render_seconds=3600.0))) as url:
        yield url


def sim_requests(sim_url: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = httpx.get(f"{sim_url}/_sim/requests", timeout=10).json()
    return entries


def accounts_for(count: int) -> list[dict[str, str]]:
    run = uuid.uuid4().hex[:8]
    return [{"name": f"f{i}", "psid": f"paid-failover-{run}-{i}"} for i in range(count)]


def chat(url: str, key: str, messages: list[dict[str, str]]) -> httpx.Response:
    body = {"model": MODEL, "messages": messages}
    return httpx.post(
        f"{url}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=90
    )


def balanced(replicas: list[Replica], accounts: int) -> bool:
    """Every account ready on exactly one replica, each replica with its fair share."""
    held = [replica.ready_accounts() for replica in replicas]
    every = set().union(*held)
    share = math.ceil(accounts / len(replicas))
    return len(every) == accounts and sum(map(len, held)) == accounts and all(len(h) <= share for h in held)


def lease_tokens(client: redis.Redis, account_ids: set[str]) -> dict[str, tuple[bytes, bytes]]:
    """Each account's lease as (owner, fencing token): a new token is a new acquisition."""
    return {
        account_id: tuple(client.hmget(f"gateway:cluster:lease:{account_id}", "owner", "token"))  # type: ignore[misc]
        for account_id in account_ids
    }


def owned_once(replicas: list[Replica], client: redis.Redis, ids: set[str]) -> bool:
    """``balanced``, and each account's lease in Redis held by the replica that drives it: what a
    replica's pool says alone may be stale until its next round finds a lease lost."""
    if not balanced(replicas, len(ids)):
        return False
    owners = lease_owners(client, ids)
    return all(owners[account_id] == r.name for r in replicas for account_id in r.ready_accounts())


def scoped_key(replica: Replica, account_id: str) -> str:
    created = replica.admin("POST", "/keys", json={"name": f"only-{account_id}", "accounts": [account_id]})
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    return key


def lease_owners(client: redis.Redis, account_ids: set[str]) -> dict[str, str | None]:
    owners: dict[str, str | None] = {}
    for account_id in account_ids:
        owner = client.hget(f"gateway:cluster:lease:{account_id}", "owner")
        owners[account_id] = owner.decode() if isinstance(owner, bytes) else owner
    return owners


# What changes by design as requests come: a key's request counts and its last use, and an
# account's cookies (the page rotates them; storing the new ones is the point).
_MOVING = ("gateway:keys:rate:", "gateway:keys:active:", "gateway:videos:running", "gateway:videos:runs")
_MOVING_FIELDS = (b"requests", b"last_used_at")
# A video job's progress, as whichever replica follows it (re-opened by an adopter) finds it.
_VIDEO = "gateway:videos:v:"
_VIDEO_PROGRESS = (b"status", b"progress", b"completed_at", b"expires_at", b"video_url", b"thumbnail_url")


def _kept(key: str, before: Any, after: Any) -> bool:
    """``after`` still holds ``before``: a collection (set, sorted set, list: new conversations add
    members) keeps every member; a hash or string is the same but for what requests change."""
    if isinstance(before, list):
        return isinstance(after, list) and all(member in after for member in before)
    if isinstance(before, dict):
        moving = _MOVING_FIELDS + (_VIDEO_PROGRESS if key.startswith(_VIDEO) else ())
        steady = {field: value for field, value in before.items() if field not in moving}
        return isinstance(after, dict) and steady.items() <= after.items()
    return bool(before == after)


def slots_released(client: redis.Redis) -> bool:
    """No API key holds a concurrency slot (no request of a key is being answered)."""
    return next(iter(client.scan_iter(match="gateway:keys:active:*", count=500)), None) is None


def assert_nothing_lost(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Every key there before is there after, holding what it held, but for what requests and
    cookie rotation change by design."""
    missing = sorted(set(before) - set(after))
    assert not missing, f"lost from Redis: {missing}"
    compared = [k for k in before if not k.startswith(_MOVING) and ":cookies" not in k]
    changed = sorted(k for k in compared if not _kept(k, before[k], after[k]))
    assert not changed, f"changed in Redis: {[(k, before[k], after[k]) for k in changed]}"
    assert any(k.startswith("gateway:keys:record:") for k in compared), "the comparison saw the keys"


def test_a_replica_killed_mid_stream_hands_its_account_over_and_nothing_is_lost(
    sim_url: str, redis_url: str, tmp_path: Path
) -> None:
    accounts = accounts_for(3)
    group = Replicas(tmp_path, sim_url, redis_url, accounts, lease_ttl=LEASE_TTL, renew_interval=RENEW)
    client = redis.Redis.from_url(redis_url)
    try:
        a, b, c = group.start("a", "b", "c")
        until(lambda: balanced([a, b, c], 3), "each replica drives one ready account")
        (victim,) = a.ready_accounts()

        # Shared state made through A: an API key limited to A's account, and a conversation on it.
        key = scoped_key(a, victim)
        opening = f"first turn {uuid.uuid4().hex[:10]}"
        first = chat(a.url, key, [{"role": "user", "content": opening}])
        assert first.status_code == 200, first.text
        answer = first.json()["choices"][0]["message"]["content"]
        turn1 = next(e for e in sim_requests(sim_url) if opening in e.get("prompt", ""))
        assert turn1["client_uuid"], "the simulator tells the pages apart"
        # A video job, rendering (the simulator renders for an hour): its row is in Redis.
        video = httpx.post(
            f"{a.url}/v1/videos",
            json={"model": VIDEO_MODEL, "prompt": f"a heron at dawn {uuid.uuid4().hex[:10]}"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=90,
        )
        assert video.status_code == 200, video.text
        job = f"{_VIDEO}{video.json()['id']}"
        until(lambda: any(":cookies" in k for k in redis_content(client)), "the account's cookies in Redis")
        until(lambda: client.hget(job, "chat_id") not in (None, b"null"), "the video job's chat is stored")
        until(lambda: slots_released(client), "the key's slots released after the answers")
        before = redis_content(client)
        assert job in before

        # kill -9 of A while its page streams an answer (slowed so the kill lands in the middle).
        slow_down(sim_url)
        events, finished = killed_mid_stream(a.url, key, MODEL, "a long one", a.kill)
        assert events >= 3 and not finished, "the stream broke off mid-answer"
        httpx.post(f"{sim_url}/_sim/config", json=PACING).raise_for_status()

        # The lease lapses (lease TTL), a live replica adopts the account and signs it in.
        survivors = [b, c]
        until(lambda: any(victim in r.ready_accounts() for r in survivors), "B or C adopts A's account")
        heir = next(r for r in survivors if victim in r.ready_accounts())
        assert lease_owners(client, {victim}) == {victim: heir.name}
        assert_nothing_lost(before, redis_content(client))

        # The key made on A works on the heir, and the conversation goes on in the same Gemini chat.
        follow_up = f"second turn {uuid.uuid4().hex[:10]}"
        second = chat(
            heir.url,
            key,
            [
                {"role": "user", "content": opening},
                {"role": "assistant", "content": answer},
                {"role": "user", "content": follow_up},
            ],
        )
        assert second.status_code == 200, second.text
        turn2 = next(e for e in sim_requests(sim_url) if follow_up in e.get("prompt", ""))
        assert turn2["account_id"] == turn1["account_id"] and turn2["sent_cid"] == turn1["cid"]
        assert turn2["client_uuid"] != turn1["client_uuid"], "another browser drives the account now"

        # Never two browsers on one account at once, from Google's side of the wire.
        entries = sim_requests(sim_url)
        killed = next(e for e in entries if e.get("prompt") == "a long one")
        assert killed["outcome"] == "client_disconnected" and "ended" in killed
        assert not overlaps(entries), overlaps(entries)
    finally:
        group.close()
        client.close()


def test_the_replicas_come_back_after_a_redis_restart_and_nothing_is_lost(
    sim_url: str, durable_redis: RedisServer, tmp_path: Path
) -> None:
    accounts = accounts_for(2)
    ids = {account["name"] for account in accounts}
    group = Replicas(
        tmp_path, sim_url, durable_redis.url, accounts, lease_ttl=LEASE_TTL, renew_interval=RENEW
    )
    client = redis.Redis.from_url(durable_redis.url)
    try:
        replicas = group.start("a", "b")
        until(lambda: owned_once(replicas, client, ids), "each replica drives one ready account")
        created = replicas[0].admin("POST", "/keys", json={"name": "survivor"})
        assert created.status_code == 201, created.text
        key = created.json()["key"]
        for replica in replicas:
            answered = chat(replica.url, key, [{"role": "user", "content": f"before, {replica.name}"}])
            assert answered.status_code == 200, answered.text
        # A key's concurrency slot is released just after its answer has gone out: the snapshot
        # waits for that, or it would hold a slot that is meant to go.
        until(lambda: slots_released(client), "the key's slots released after the answers")
        before = redis_content(client)
        leases = lease_tokens(client, ids)

        durable_redis.stop()
        until(lambda: not any(r.ready() for r in replicas), "the replicas say the shared state is gone")
        # Down longer than a lease lasts, counted in the replicas' failed rounds (no sleep): their
        # leases expired when Redis comes back, so each replica must take its accounts again.
        rounds = math.ceil(LEASE_TTL / RENEW) + 2
        until(
            lambda: all(r.failed_rounds() >= rounds for r in replicas),
            "the ownership rounds go on (failing) past a lease",
        )
        durable_redis.start()  # same port, the data of its append-only file

        until(lambda: all(r.ready() for r in replicas), "the replicas are ready again")
        until(lambda: owned_once(replicas, client, ids), "each account owned by exactly one replica again")
        # Each replica took its own leases back as they were (nobody held them meanwhile): no
        # account was handed around, nor its page signed in again.
        assert lease_tokens(client, ids) == leases
        # Both replicas answer again, several requests at once each (their accounts busy together:
        # two browsers on one account would show as overlapping turns in the simulator's log).
        asked = [(r.url, f"after, {r.name} {n}") for r in replicas for n in range(3)]
        with ThreadPoolExecutor(len(asked)) as pool:
            answers = list(pool.map(lambda a: chat(a[0], key, [{"role": "user", "content": a[1]}]), asked))
        assert [answer.status_code for answer in answers] == [200] * len(asked), [a.text for a in answers]
        assert_nothing_lost(before, redis_content(client))
        assert not overlaps(sim_requests(sim_url)), overlaps(sim_requests(sim_url))
    finally:
        group.close()
        client.close()


def test_serve_exits_with_a_clear_message_when_redis_is_unreachable(tmp_path: Path) -> None:
    dead = free_port()  # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SIM_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        GATEWAY_DATA_DIR=str(tmp_path / "data"),
        GATEWAY_API_KEYS="sk-unreachable",
        GATEWAY_STATE__BACKEND="redis",
        GATEWAY_STATE__REDIS_URL=f"redis://:hunter2-secret@127.0.0.1:{dead}/0",
        GATEWAY_MEDIA__SHARED_DIR=str(tmp_path / "media"),
    )
    # The command an operator runs (through its supervisor), not the app built in-process.
    done = subprocess.run(
        [sys.executable, "-m", "service", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "gateway not started" in done.stderr and "state.redis_url" in done.stderr, done.stderr
    assert f"127.0.0.1:{dead}" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
