"""Every store on both state backends (``tests/support/state_backends.py``): what one replica
writes, another sees; limits hold exactly across replicas; secrets are sealed at rest in Redis."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis

from browser import AccountSpec
from service.auth import Caller
from service.conversations import ChatRef
from service.errors import RateLimited
from service.stores.backends import Stores, open_stores
from service.stores.config import StateBackend, StateSettings
from service.stores.interfaces import ApiKeyStore
from service.stores.redis_jobs import RedisVideoStore
from service.stores.redis_keys import SLOT_TTL, RedisKeyStore
from service.videos.store import VideoRecord
from tests.support.state_backends import SharedState, everything_in

PSID = "g.a000-secret-psid-value-that-must-never-be-readable"


async def caller_of(store: ApiKeyStore, key: str) -> Caller:
    caller = await store.lookup(key)
    assert caller is not None
    return caller


async def test_a_key_made_on_one_replica_works_and_is_revoked_on_the_other(
    state_backend: SharedState,
) -> None:
    a, b = await state_backend.replica("a"), await state_backend.replica("b")
    created = await a.keys.create("ci", per_minute=5, scopes=["chat"])
    caller = await b.keys.lookup(created.key)
    assert caller is not None and caller.key_id == created.record.id and caller.scopes == frozenset({"chat"})
    assert [record.name for record in await b.keys.list()] == ["ci"]
    await b.keys.revoke(created.record.id)
    assert await a.keys.lookup(created.key) is None
    assert (await a.keys.get(created.record.id)).revoked_at is not None  # type: ignore[union-attr]
    assert await b.keys.lookup("gw-unknown") is None


async def _admit_many(admitters: list[ApiKeyStore], caller: Caller, attempts: int) -> tuple[int, int]:
    """``attempts`` admissions at once, spread over ``admitters``: (admitted, refused)."""

    async def one(n: int) -> bool:
        try:
            await admitters[n % len(admitters)].admit(caller)
        except RateLimited:
            return False
        return True

    results = await asyncio.gather(*(one(n) for n in range(attempts)))
    return results.count(True), results.count(False)


@pytest.mark.parametrize("limit", ["max_concurrent", "per_minute"])
async def test_limits_are_exact_under_concurrent_use(state_backend: SharedState, limit: str) -> None:
    a, b = await state_backend.replica("a"), await state_backend.replica("b")
    created = await a.keys.create("busy", **{limit: 10})  # type: ignore[arg-type]
    caller = await caller_of(a.keys, created.key)
    # With Redis two replicas share the count; SQLite is one process, so one store takes them all.
    admitters = [a.keys, b.keys] if state_backend.kind is StateBackend.REDIS else [a.keys]
    assert await _admit_many(admitters, caller, 50) == (10, 40)
    assert (await a.keys.get(created.record.id)).requests == 10  # type: ignore[union-attr]


async def test_a_released_slot_frees_the_key_on_every_replica(state_backend: SharedState) -> None:
    a, b = await state_backend.replica("a"), await state_backend.replica("b")
    created = await a.keys.create("one", max_concurrent=1)
    caller = await caller_of(a.keys, created.key)
    release = await a.keys.admit(caller)
    admitters = [b.keys] if state_backend.kind is StateBackend.REDIS else [a.keys]
    with pytest.raises(RateLimited):
        await admitters[0].admit(caller)
    await release()
    await release()  # twice is once
    await admitters[0].admit(caller)


async def test_the_slot_of_a_dead_replica_lapses(async_redis: aioredis.Redis) -> None:
    now = [1000.0]
    dead = RedisKeyStore(async_redis, clock=lambda: now[0])
    alive = RedisKeyStore(async_redis, clock=lambda: now[0])
    await alive.open()
    try:
        created = await alive.create("one", max_concurrent=1)
        caller = await caller_of(alive, created.key)
        await dead.admit(caller)  # never released, never renewed: its replica is gone
        with pytest.raises(RateLimited):
            await alive.admit(caller)
        now[0] += SLOT_TTL / 2
        await alive.renew()  # renews only its own slots
        with pytest.raises(RateLimited):
            await alive.admit(caller)
        now[0] += SLOT_TTL / 2 + 1
        assert await alive.active(created.record.id) == 0
        await alive.admit(caller)
        assert await alive.active(created.record.id) == 1
    finally:
        await alive.close()


async def test_added_accounts_are_shared_and_sealed_at_rest(state_backend: SharedState) -> None:
    state_backend.encryption_key = "correct horse battery staple"
    a, b = await state_backend.replica("a"), await state_backend.replica("b")
    await a.accounts.put(
        "acct-1", "digest-1", AccountSpec(name="acct-1", psid=PSID, proxy="http://u:pw@proxy:3128")
    )
    (entry,) = await b.accounts.all()
    assert (entry.id, entry.session, entry.spec.psid, entry.spec.proxy) == (
        "acct-1",
        "digest-1",
        PSID,
        "http://u:pw@proxy:3128",
    )
    assert PSID not in repr(entry)
    if state_backend.kind is StateBackend.REDIS:
        stored = everything_in(state_backend.raw())
        assert "acct-1" in stored and PSID not in stored and "pw@proxy" not in stored
        state_backend.encryption_key = "another key"
        with pytest.raises(RuntimeError, match=r"another state\.encryption_key"):
            await (await state_backend.replica("c")).accounts.all()
    assert await b.accounts.delete("acct-1") and not await a.accounts.all()


async def test_conversation_tips_are_claimed_once_across_replicas(state_backend: SharedState) -> None:
    a, b = await state_backend.replica("a"), await state_backend.replica("b")
    first = a.conversations.advance("k1", "acct", "chat-1", None)
    assert first == ChatRef("acct", "chat-1", 1)
    assert b.conversations.lookup("k1") == first
    claimed = b.conversations.claim("k1")
    assert claimed == first
    assert a.conversations.claim("k1") is None  # held by b's continuation
    second = b.conversations.advance("k2", "acct", "chat-1", claimed)
    assert second.turn == 2
    assert a.conversations.claim("k1") is None  # k1 is no longer the tip
    assert a.conversations.is_mapped("acct", "chat-1")
    taken = a.conversations.claim("k2")
    assert taken == second
    a.conversations.release(taken, touched=True)  # the chat may hold a turn nobody received
    assert b.conversations.claim("k2") is None and not b.conversations.is_mapped("acct", "chat-1")


async def test_chat_deletions_are_queued_for_every_replica(state_backend: SharedState) -> None:
    a, b = await state_backend.replica("a"), await state_backend.replica("b")
    a.conversations.advance("k1", "acct", "chat-1", None)
    a.conversations.schedule_deletion("acct", "chat-1")
    assert b.conversations.lookup("k1") is None
    (due,) = b.conversations.due_deletions()
    assert (due.account_id, due.chat_id, due.attempts) == ("acct", "chat-1", 0)
    b.conversations.deletion_failed("acct", "chat-1", retry_in=3600)
    assert a.conversations.due_deletions() == []
    assert [p.attempts for p in a.conversations.pending_deletions()] == [1]
    assert a.conversations.next_deletion_due() is not None
    a.conversations.deletion_done("acct", "chat-1")
    assert b.conversations.pending_deletions() == [] and b.conversations.next_deletion_due() is None


async def test_expired_mappings_are_purged_and_their_chats_reported(state_backend: SharedState) -> None:
    now = [1000.0]
    stores = await state_backend.replica(clock=lambda: now[0])
    stores.conversations.advance("k1", "acct", "chat-1", None)
    assert stores.conversations.expire() == (0, [])
    now[0] += stores.conversations.ttl + 1
    assert stores.conversations.lookup("k1") is None
    assert stores.conversations.expire() == (1, [ChatRef("acct", "chat-1")])
    assert stores.conversations.expire() == (0, [])


async def test_stored_responses_are_shared_per_key(state_backend: SharedState) -> None:
    a, b = await state_backend.replica("a"), await state_backend.replica("b")
    body = {"id": "resp_1", "status": "completed", "output": [{"id": "msg_1", "type": "message"}]}
    a.responses.put("me", body, [{"role": "user", "content": "hi"}], input_items=[{"id": "in_1", "x": 1}])
    stored = b.responses.get("me", "resp_1")
    assert stored is not None and stored.body == body and stored.history[0]["content"] == "hi"
    assert b.responses.get("someone else", "resp_1") is None
    assert b.responses.item("me", "msg_1") == {"id": "msg_1", "type": "message"}
    assert b.responses.input_items("me", "resp_1") == [{"id": "in_1", "x": 1}]
    assert not b.responses.delete("someone else", "resp_1")
    assert b.responses.delete("me", "resp_1") and a.responses.get("me", "resp_1") is None
    assert a.responses.item("me", "msg_1") is None


async def test_conversation_objects_are_shared_per_key(state_backend: SharedState) -> None:
    a, b = await state_backend.replica("a"), await state_backend.replica("b")
    made = a.objects.create("me", {"topic": "x"}, [{"id": "i1", "n": 1}])
    cid = made["id"]
    assert b.objects.get("me", cid) == made and b.objects.get("other", cid) is None
    assert b.objects.append("me", cid, [{"id": "i2", "n": 2}, {"id": "i3", "n": 3}])
    assert [item["id"] for item in a.objects.items("me", cid) or []] == ["i1", "i2", "i3"]
    assert a.objects.item("me", cid, "i2") == {"id": "i2", "n": 2}
    assert (
        a.objects.find_item("me", "i3") == {"id": "i3", "n": 3} and a.objects.find_item("other", "i3") is None
    )
    assert b.objects.delete_item("me", cid, "i2") and a.objects.item("me", cid, "i2") is None
    assert (a.objects.update("me", cid, {"topic": "y"}) or {})["metadata"] == {"topic": "y"}
    assert b.objects.delete("me", cid) and a.objects.items("me", cid) is None


async def test_video_jobs_are_shared(state_backend: SharedState) -> None:
    a, b = await state_backend.replica("a"), await state_backend.replica("b")

    def job(n: int, owner: str = "me") -> VideoRecord:
        return VideoRecord(f"video_{n}", owner, "veo", "p", "p", "8", "720x1280", "queued", 0, 100 + n)

    made = [a.videos.insert(job(n)) for n in range(3)]
    b.videos.insert(job(9, owner="other"))
    assert [v.seq for v in made] == [1, 2, 3]
    assert b.videos.get("video_1", "me") == made[1] and b.videos.get("video_1", "other") is None
    b.videos.update("video_0", status="completed", progress=100, video_url="https://x/v.mp4")
    if state_backend.kind is StateBackend.SQLITE:  # one process: every unfinished job is its own
        assert [v.id for v in a.videos.running()] == ["video_1", "video_2", "video_9"]
    else:  # each runs on the live replica that made it: nobody else resumes it
        assert a.videos.running() == [] and (await state_backend.replica("c")).videos.running() == []
    assert a.videos.get("video_0").progress == 100  # type: ignore[union-attr]
    assert [v.id for v in a.videos.page("me", after=None, limit=2, ascending=False)] == ["video_2", "video_1"]
    assert [v.id for v in a.videos.page("me", after="video_0", limit=5, ascending=True)] == [
        "video_1",
        "video_2",
    ]
    assert b.videos.delete("video_1", "me") and a.videos.get("video_1") is None


async def test_researches_are_shared(state_backend: SharedState) -> None:
    a, b = await state_backend.replica("a"), await state_backend.replica("b")
    await a.researches.record("hist", "acct", "chat", "r-1", "Title")
    found = await b.researches.find("hist")
    assert found is not None and (found.account_id, found.research_id, found.title) == (
        "acct",
        "r-1",
        "Title",
    )
    assert await b.researches.find("other") is None


async def test_a_background_response_of_a_dead_replica_is_marked_failed(
    redis_url: str, tmp_path: Path
) -> None:
    state = StateSettings(backend=StateBackend.REDIS, redis_url=redis_url)
    a, b = await open_stores(state, tmp_path / "a"), await open_stores(state, tmp_path / "b")
    try:
        running = {"id": "resp_bg", "status": "in_progress", "output": []}
        a.responses.put("me", running, [])
        a.responses.put("me", {"id": "resp_done", "status": "in_progress", "output": []}, [])
        a.responses.put("me", {"id": "resp_done", "status": "completed", "output": []}, [])
        assert b.responses.interrupt_lapsed() == 0  # type: ignore[attr-defined]  # a is alive
        raw = redis.Redis.from_url(redis_url, decode_responses=True)
        assert raw.zrange("gateway:responses:running", 0, -1) == ["resp_bg"]
        raw.zadd("gateway:responses:running", {"resp_bg": 0})  # a stopped renewing: its run lapsed
        raw.close()
        assert b.responses.interrupt_lapsed() == 1  # type: ignore[attr-defined]
        stored = b.responses.get("me", "resp_bg")
        assert stored is not None and stored.body["status"] == "failed"
        assert stored.body["error"]["code"] == "server_shutdown"
        assert b.responses.get("me", "resp_done").body["status"] == "completed"  # type: ignore[union-attr]
    finally:
        await a.aclose()
        await b.aclose()


async def test_the_jobs_of_a_dead_replica_are_resumed_by_exactly_one_other(
    redis_url: str, tmp_path: Path
) -> None:
    state = StateSettings(backend=StateBackend.REDIS, redis_url=redis_url)
    replicas = [await open_stores(state, tmp_path / name) for name in ("a", "b", "c", "d")]
    a, *others = replicas
    try:
        for n in range(4):
            a.videos.insert(VideoRecord(f"video_{n}", "me", "veo", "p", "p", "8", "720x1280", "queued", 0, n))
        a.videos.update("video_3", status="failed")
        assert [b.videos.running() for b in others] == [[], [], []]  # a is alive and runs them
        raw = redis.Redis.from_url(redis_url, decode_responses=True)
        assert sorted(raw.zrange("gateway:videos:runs", 0, -1)) == ["video_0", "video_1", "video_2"]
        await a.aclose()  # a dies: nothing renews its runs, which lapse
        raw.zadd("gateway:videos:runs", dict.fromkeys(["video_0", "video_1", "video_2"], 0))
        raw.close()
        start = threading.Barrier(len(others))

        def resume(stores: Stores) -> list[str]:
            start.wait()
            return [record.id for record in stores.videos.running()]

        with ThreadPoolExecutor(len(others)) as pool:
            resumed = list(pool.map(resume, others))
        # Each by one replica only.
        assert sorted(ids for ids_of in resumed for ids in ids_of) == ["video_0", "video_1", "video_2"]
    finally:
        for stores in replicas:
            await stores.aclose()


async def test_each_due_deletion_is_taken_by_one_replica(redis_url: str, tmp_path: Path) -> None:
    state = StateSettings(backend=StateBackend.REDIS, redis_url=redis_url)
    replicas = [await open_stores(state, tmp_path / name) for name in ("a", "b", "c")]
    try:
        for n in range(12):
            replicas[0].conversations.schedule_deletion("acct", f"chat-{n}")
        start = threading.Barrier(len(replicas))

        def take(stores: Stores) -> list[str]:
            start.wait()
            return [item.chat_id for item in stores.conversations.due_deletions(limit=12)]

        with ThreadPoolExecutor(len(replicas)) as pool:
            taken = [chat for chats in pool.map(take, replicas) for chat in chats]
        assert sorted(taken) == sorted(f"chat-{n}" for n in range(12))  # each once
        assert len(replicas[1].conversations.pending_deletions()) == 12  # still queued until done
    finally:
        for stores in replicas:
            await stores.aclose()


async def test_an_unfinished_video_job_is_resumed_only_with_its_account(state_backend: SharedState) -> None:
    stores = await state_backend.replica("a")

    def job(n: int, account_id: str | None) -> VideoRecord:
        record = VideoRecord(f"video_{n}", "me", "veo", "p", "p", "8", "720x1280", "in_progress", 5, 100 + n)
        return replace(record, seq=n, account_id=account_id)

    for n, account_id in enumerate(["acc0", None, "acc1"], start=1):
        if isinstance(stores.videos, RedisVideoStore):
            stores.videos.insert(job(n, account_id), keep_seq=True)  # migrated: waiting for a runner
        else:
            stores.videos.insert(job(n, account_id))
    # Not started yet (no account) or on an account of the asking replica: the job follows its account.
    assert [v.id for v in stores.videos.running({"acc0"})] == ["video_1", "video_2"]
    if state_backend.kind is StateBackend.REDIS:  # adopted once: the other one is still waiting
        assert [v.id for v in (await state_backend.replica("b")).videos.running({"acc1"})] == ["video_3"]
    else:
        assert [v.id for v in stores.videos.running()] == ["video_1", "video_2", "video_3"]
