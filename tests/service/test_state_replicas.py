"""Two gateways on one Redis (``state.backend: redis``) behave as replicas of one service, and
``state migrate`` copies a SQLite data directory into Redis."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis

from browser import AccountSpec
from service.cli import main
from service.conversations import ChatRef
from service.stores.backends import open_stores, reach
from service.stores.config import StateBackend, StateSettings
from service.stores.migrate import TargetNotEmpty, migrate_to_redis
from service.stores.redis_base import Sealer, StateUnavailable
from service.videos.store import VideoRecord
from tests.service.admin_pool import AdminPool
from tests.service.conftest import Served
from tests.service.scripted_pool import Script, ScriptedPool, account, growing
from tests.service.test_admin_accounts import PSID, admin, gateway
from tests.service.test_keys_api import chat
from tests.service.test_service_conversation_tips import FIRST, ask, follow_up
from tests.support.redis import RedisServer
from tests.support.state_backends import everything_in


def test_two_replicas_share_keys_limits_and_accounts(redis_url: str, tmp_path: Path) -> None:
    state = {"backend": "redis", "redis_url": redis_url, "encryption_key": "k"}
    pool_a, pool_b = AdminPool(account_list=[account("acct-1")]), AdminPool(account_list=[account("acct-1")])
    media = {"shared_dir": tmp_path / "media"}
    with gateway(tmp_path / "a", pool_a, state=state, media=media) as url_a:
        with admin(url_a) as client:
            created = client.post("/keys", json={"name": "shared", "per_minute": 3})
            assert created.status_code == 201, created.text
            assert client.post("/accounts", json={"name": "alice", "psid": PSID}).status_code == 201
        key = created.json()["key"]
        with gateway(tmp_path / "b", pool_b, state=state, media=media) as url_b:
            # One browser per account (service.cluster): A drives the account it added, B does not.
            assert pool_b.added == []
            codes = [chat(url, key).status_code for url in (url_a, url_b) * 3]
            assert sorted(codes) == [200, 200, 200, 429, 429, 429]
            with admin(url_b) as client:
                (listed,) = client.get("/keys").json()["data"]
                assert listed["requests"] == 3
                assert client.delete(f"/keys/{created.json()['id']}").status_code == 200
            assert chat(url_a, key).status_code == 401  # revoked on B, refused by A
    # A stopped and handed the account back: the next replica restores it, with its cookies (sealed).
    pool_c = AdminPool(account_list=[account("acct-1")])
    with gateway(tmp_path / "c", pool_c, state=state, media=media):
        assert [spec.name for spec in pool_c.added] == ["alice"]
        assert pool_c.added[0].psid == PSID
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    stored = everything_in(raw)
    raw.close()
    assert "alice" in stored and PSID not in stored and key not in stored


async def _fill_sqlite(data_dir: Path) -> dict[str, str]:
    stores = await open_stores(StateSettings(), data_dir)
    try:
        made = await stores.keys.create("ci", per_minute=7, scopes=["chat"])
        await stores.accounts.put("alice", "digest", AccountSpec(name="alice", psid=PSID))
        stores.conversations.advance("hist-1", "acct", "chat-1", None)
        stores.conversations.schedule_deletion("acct", "old-chat", delay=60)
        body = {"id": "resp_1", "status": "in_progress", "output": [{"id": "msg_1", "type": "message"}]}
        stores.responses.put("me", body, [{"role": "user", "content": "hi"}], input_items=[{"id": "in_1"}])
        conversation = stores.objects.create("me", {"t": "x"}, [{"id": "i1"}, {"id": "i2"}])
        stores.videos.insert(VideoRecord("video_1", "me", "veo", "p", "p", "8", "720x1280", "queued", 0, 100))
        await stores.researches.record("hist-r", "acct", "chat-r", "r-1", "Title")
    finally:
        await stores.aclose()
    return {"key": made.key, "conversation": conversation["id"]}


async def test_migration_round_trip(redis_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    made = await _fill_sqlite(data_dir)
    renewing = {thread for thread in threading.enumerate() if thread.name.startswith("runs:")}
    counts = await migrate_to_redis(data_dir, redis_url, Sealer("passphrase"))
    # The copy's stores are closed: no renewal thread of their runs outlives it.
    assert {thread for thread in threading.enumerate() if thread.name.startswith("runs:")} == renewing
    expected = {
        "keys": 1,
        "accounts": 1,
        "conversations": 1,
        "responses": 1,
        "conversation_objects": 1,
        "videos": 1,
        "researches": 1,
    }
    assert counts == expected
    with pytest.raises(TargetNotEmpty):
        await migrate_to_redis(data_dir, redis_url, Sealer("passphrase"))
    assert await migrate_to_redis(data_dir, redis_url, Sealer("passphrase"), force=True) == expected
    state = StateSettings(backend=StateBackend.REDIS, redis_url=redis_url, encryption_key="passphrase")
    stores = await open_stores(state, tmp_path / "replica")
    try:
        caller = await stores.keys.lookup(made["key"])
        assert caller is not None and caller.scopes == frozenset({"chat"})
        (record,) = await stores.keys.list()
        assert (record.name, record.per_minute) == ("ci", 7)
        (entry,) = await stores.accounts.all()
        assert (entry.id, entry.session, entry.spec.psid) == ("alice", "digest", PSID)
        assert stores.conversations.claim("hist-1") == ChatRef("acct", "chat-1", 1)
        assert [(p.chat_id, p.attempts) for p in stores.conversations.pending_deletions()] == [
            ("old-chat", 0)
        ]
        stored = stores.responses.get("me", "resp_1")
        assert stored is not None and stored.body["status"] == "failed"  # its run died with SQLite's gateway
        assert stores.responses.item("me", "msg_1") == {"id": "msg_1", "type": "message"}
        assert stores.responses.input_items("me", "resp_1") == [{"id": "in_1"}]
        assert [i["id"] for i in stores.objects.items("me", made["conversation"]) or []] == ["i1", "i2"]
        (video,) = stores.videos.running()
        assert (video.id, video.seq) == ("video_1", 1)
        assert stores.videos.insert(video.__class__(**{**video.__dict__, "id": "video_2"})).seq == 2
        found = await stores.researches.find("hist-r")
        assert found is not None and found.research_id == "r-1"
    finally:
        await stores.aclose()


async def test_the_migrate_command_reports_counts_and_refuses_a_full_target(
    redis_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_OPEN_ACCESS", "true")
    monkeypatch.setenv("GATEWAY_STATE__ENCRYPTION_KEY", "from-env")
    data_dir = tmp_path / "data"
    await _fill_sqlite(data_dir)
    argv = ["state", "migrate", "--to", "redis", "--redis-url", redis_url, "--data-dir", str(data_dir)]
    assert await asyncio.to_thread(main, argv) == 0  # the command runs its own loop
    report = json.loads(capsys.readouterr().out)
    assert report["migrated"]["keys"] == 1 and report["migrated"]["accounts"] == 1
    assert await asyncio.to_thread(main, argv) == 1
    assert "--force" in capsys.readouterr().err
    raw = redis.Redis.from_url(redis_url, decode_responses=True)
    sealed = raw.hget("gateway:accounts:added", "alice") or ""
    raw.close()
    assert PSID not in sealed and "fernet:" in sealed  # the key came from GATEWAY_STATE__ENCRYPTION_KEY


def test_a_conversation_started_on_one_replica_continues_on_the_other(
    serve_gateway: Callable[..., Served], redis_url: str, tmp_path: Path
) -> None:
    state = {"backend": "redis", "redis_url": redis_url}
    media = {"shared_dir": tmp_path / "media"}
    a = serve_gateway(ScriptedPool(), state=state, media=media, data_dir=tmp_path / "a")
    b = serve_gateway(ScriptedPool(), state=state, media=media, data_dir=tmp_path / "b")
    a.pool.queue(Script(growing("Hello!", cid="c_1")))
    assert ask(a, FIRST) == "Hello!"
    b.pool.queue(Script(growing("Then this.", cid="c_1")))
    assert ask(b, follow_up("Hello!")) == "Then this."
    (request,) = b.pool.requests
    # A continuation of A's chat (only the new turn typed), not a fold of the history (which is
    # what a replica with its own SQLite store would do: chat None, the whole history typed).
    assert (request.chat_id, request.prompt) == ("c_1", "And then?")


async def test_state_settings_are_checked_without_echoing_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from service.settings import GatewaySettings

    with pytest.raises(ValidationError, match="redis_url is not set"):
        GatewaySettings(open_access=True, state={"backend": "redis"})
    monkeypatch.setenv("GATEWAY_STATE__BACKEND", "redis")
    monkeypatch.setenv("GATEWAY_STATE__REDIS_URL", "http://user:hunter2@host")
    with pytest.raises(ValidationError) as refused:
        GatewaySettings(open_access=True)
    assert "redis://" in str(refused.value) and "hunter2" not in str(refused.value)
    monkeypatch.setenv("GATEWAY_STATE__REDIS_URL", "redis://:hunter2@127.0.0.1:1/0")
    monkeypatch.setenv("GATEWAY_MEDIA__SHARED_DIR", "/srv/gateway-media")
    settings = GatewaySettings(open_access=True)
    assert settings.state.backend is StateBackend.REDIS and "hunter2" not in repr(settings)
    with pytest.raises(StateUnavailable) as unreachable:  # nothing listens on port 1
        await reach(settings.state)  # what ``serve`` checks before it starts
    assert "127.0.0.1:1" in str(unreachable.value) and "hunter2" not in str(unreachable.value)


async def test_the_stores_reconnect_after_a_redis_restart_and_lose_nothing(
    durable_redis: RedisServer, tmp_path: Path
) -> None:
    state = StateSettings(backend=StateBackend.REDIS, redis_url=durable_redis.url)
    stores = await open_stores(state, tmp_path / "data")
    try:
        made = await stores.keys.create("survivor")
        stores.conversations.advance("hist", "acct", "chat", None)
        await asyncio.to_thread(durable_redis.stop)
        await asyncio.to_thread(durable_redis.start)  # same port, data from its append-only file
        caller = await stores.keys.lookup(made.key)  # the same clients, reconnected
        assert caller is not None and caller.key_id == made.record.id
        assert stores.conversations.lookup("hist") == ChatRef("acct", "chat", 1)
    finally:
        await stores.aclose()


def test_readyz_says_when_the_shared_state_does_not_answer(
    durable_redis: RedisServer, tmp_path: Path
) -> None:
    state = {"backend": "redis", "redis_url": durable_redis.url}
    pool = AdminPool(account_list=[account("acct-1")])
    with gateway(tmp_path / "data", pool, state=state, media={"shared_dir": tmp_path / "media"}) as url:
        assert httpx.get(url + "/readyz", timeout=15).json()["status"] == "ready"
        durable_redis.stop()
        down = httpx.get(url + "/readyz", timeout=30)
        assert down.status_code == 503 and "state.redis_url" in down.json()["reason"]
        assert "127.0.0.1" not in down.text  # nothing about where it is
        durable_redis.start()
        assert httpx.get(url + "/readyz", timeout=15).status_code == 200
