"""``python -m service state migrate --to redis``: copy a SQLite data directory into Redis.

Reads each SQLite file of the data directory as it is (ids, digests, times and counters kept) and
writes it through the Redis stores, so the result is what the gateway would have written. Run it
with the gateway stopped: a background response still marked running is stored as failed, as the
SQLite store would mark it at the next start. The target must hold no ``gateway:*`` key unless
``--force`` is given; then what is copied overwrites the same ids and nothing else is touched, so
running it twice gives the same data. Video files stay in ``<data_dir>/videos``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import redis
from pydantic import ValidationError

from service.responses.store import INTERRUPTED
from service.stores.backends import DEFAULT_TTL
from service.stores.redis_accounts import RedisAddedAccounts
from service.stores.redis_base import PREFIX, Sealer, StateUnavailable, connect, connect_async
from service.stores.redis_conversations import RedisConversationStore, chat_member
from service.stores.redis_jobs import RedisVideoStore
from service.stores.redis_keys import RedisKeyStore
from service.stores.redis_researches import RedisResearchRegistry
from service.stores.redis_responses import RedisConversationObjects, RedisResponseStore
from service.videos.store import VideoRecord

__all__ = ["TargetNotEmpty", "migrate_to_redis", "run_state"]


class TargetNotEmpty(RuntimeError):
    pass


@contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection | None]:
    """The file read-only, or None when the data directory has none."""
    if not path.exists():
        yield None
        return
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        yield db


def _tables(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


async def migrate_to_redis(
    data_dir: Path,
    url: str,
    sealer: Sealer,
    *,
    force: bool = False,
    ttl: float = DEFAULT_TTL,
) -> dict[str, int]:
    """Copy every store of ``data_dir`` into the Redis of ``url``; returns how many of each.
    ``StateUnavailable`` when it does not answer."""
    shared = await connect_async(url)
    try:
        if not force:
            async for _ in shared.scan_iter(match=f"{PREFIX}:*", count=100):
                raise TargetNotEmpty("the Redis already holds gateway data: pass --force to copy over it")
        keys = await _keys(data_dir, RedisKeyStore(shared))
        researches = await _researches(data_dir, RedisResearchRegistry(shared))
        accounts = await _accounts(data_dir, RedisAddedAccounts(shared, sealer))
        client = await asyncio.to_thread(connect, url)
        try:
            counts = await asyncio.to_thread(_blocking, data_dir, client, ttl)
        finally:
            client.close()
        return {"keys": keys, "accounts": accounts, **counts, "researches": researches}
    finally:
        await shared.aclose()


def _blocking(data_dir: Path, client: redis.Redis, ttl: float) -> dict[str, int]:
    """The stores still on the blocking client."""
    counts = {"conversations": _conversations(data_dir, RedisConversationStore(client, ttl=ttl))}
    responses, objects = _responses(data_dir, client, ttl)
    counts["responses"], counts["conversation_objects"] = responses, objects
    counts["videos"] = _videos(data_dir, RedisVideoStore(client, data_dir))
    return counts


async def _keys(data_dir: Path, store: RedisKeyStore) -> int:
    with _sqlite(data_dir / "keys.sqlite3") as db:
        if db is None or "api_keys" not in _tables(db):
            return 0
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM api_keys").fetchall()
    await store.open()
    try:
        for row in rows:
            await store.put_record(dict(row))
    finally:
        await store.close()
    return len(rows)


async def _accounts(data_dir: Path, store: RedisAddedAccounts) -> int:
    await store.open()
    with _sqlite(data_dir / "added_accounts.sqlite3") as db:
        if db is None or "added_accounts" not in _tables(db):
            return 0
        rows = db.execute("SELECT id, session, spec, added_at FROM added_accounts").fetchall()
    for account_id, session, spec, added_at in rows:
        await store.put_payload(account_id, session, spec, added_at)
    return len(rows)


def _conversations(data_dir: Path, store: RedisConversationStore) -> int:
    store.open()
    with _sqlite(data_dir / "conversations.sqlite3") as db:
        if db is None or "conversations" not in _tables(db):
            return 0
        turn = "turn" if "turn" in {row[1] for row in db.execute("PRAGMA table_info(conversations)")} else "0"
        mappings = db.execute(
            f"SELECT key, account_id, chat_id, {turn}, expires_at FROM conversations WHERE expires_at > ?",
            (time.time(),),
        ).fetchall()
        chats = db.execute("SELECT account_id, chat_id, tip, claimed_until FROM chats").fetchall()
        deletions = db.execute("SELECT account_id, chat_id, due_at, attempts FROM chat_deletions").fetchall()
    with store.redis.pipeline() as pipe:
        for key, account_id, chat_id, position, expires_at in mappings:
            store.map_until(pipe, key, account_id, chat_id, int(position), float(expires_at))
        for account_id, chat_id, tip, claimed_until in chats:
            member = chat_member(account_id, chat_id)
            pipe.hset(store.key("chat", member), mapping={"tip": tip, "claimed_until": claimed_until})
            pipe.sadd(store.key("chats"), member)
        for account_id, chat_id, due_at, attempts in deletions:
            member = chat_member(account_id, chat_id)
            pipe.zadd(store.key("deletions"), {member: due_at})
            pipe.hset(store.key("attempts"), member, attempts)
        pipe.execute()
    return len(mappings)


def _responses(data_dir: Path, client: redis.Redis, ttl: float) -> tuple[int, int]:
    responses = RedisResponseStore(client, ttl=ttl, purge_interval=ttl)
    objects = RedisConversationObjects(client, ttl=ttl, purge_interval=ttl)
    responses.open()
    objects.open()
    try:
        return _copy_responses(data_dir, responses, objects, ttl)
    finally:
        # Closed: the responses' runs renew in a thread of their own, which would outlive the copy.
        objects.close()
        responses.close()


def _copy_responses(
    data_dir: Path, responses: RedisResponseStore, objects: RedisConversationObjects, ttl: float
) -> tuple[int, int]:
    with _sqlite(data_dir / "responses.sqlite3") as db:
        if db is None or "responses" not in _tables(db):
            return 0, 0
        columns = {row[1] for row in db.execute("PRAGMA table_info(responses)")}
        status = "status" if "status" in columns else "'completed'"
        events = "events" if "events" in columns else "NULL"
        kept = db.execute(
            f"SELECT id, identity, created, body, history, {status}, {events} FROM responses "
            "WHERE created >= ?",
            (time.time() - ttl,),
        ).fetchall()
        inputs: dict[str, list[dict[str, Any]]] = {}
        for response_id, item in db.execute(
            "SELECT response_id, item FROM response_items WHERE side = 'input' ORDER BY response_id, position"
        ):
            inputs.setdefault(response_id, []).append(json.loads(item))
        conversations = []
        if "api_conversations" in _tables(db):
            for cid, identity, created_at, updated, metadata in db.execute(
                "SELECT id, identity, created_at, updated, metadata FROM api_conversations "
                "WHERE updated >= ?",
                (time.time() - ttl,),
            ).fetchall():
                items = [
                    json.loads(row[0])
                    for row in db.execute(
                        "SELECT item FROM api_conversation_items WHERE conversation_id = ? ORDER BY seq",
                        (cid,),
                    )
                ]
                conversations.append(
                    (cid, identity, int(created_at), float(updated), json.loads(metadata), items)
                )
    for response_id, identity, created, body_text, history, state, stream in kept:
        body = json.loads(body_text)
        if state in ("queued", "in_progress"):  # its run died with the gateway that ran it
            body = {**body, "status": "failed", "error": INTERRUPTED}
        responses.put(
            identity,
            body,
            json.loads(history),
            input_items=inputs.get(response_id, []),
            events=json.loads(stream) if stream is not None else None,
            created=float(created),
        )
    for cid, identity, created_at, updated, metadata, items in conversations:
        objects.create(identity, metadata, items, conversation_id=cid, created_at=created_at, updated=updated)
    return len(kept), len(conversations)


def _videos(data_dir: Path, store: RedisVideoStore) -> int:
    store.open()
    try:
        with _sqlite(data_dir / "videos.sqlite3") as db:
            if db is None or "videos" not in _tables(db):
                return 0
            rows = db.execute("SELECT * FROM videos ORDER BY seq").fetchall()
        for row in rows:
            store.insert(VideoRecord(*row), keep_seq=True)
        return len(rows)
    finally:
        store.close()  # its runs' renewal thread too


async def _researches(data_dir: Path, store: RedisResearchRegistry) -> int:
    await store.open()
    with _sqlite(data_dir / "researches.sqlite3") as db:
        if db is None or "researches" not in _tables(db):
            return 0
        rows = db.execute(
            "SELECT key, account_id, chat_id, research_id, title, created_at FROM researches"
        ).fetchall()
    for key, account_id, chat_id, research_id, title, created_at in rows:
        await store.record(key, account_id, chat_id, research_id, title, created_at=created_at)
    return len(rows)


def run_state(args: argparse.Namespace) -> int:
    """``state migrate``: settings give the defaults (data_dir, state.redis_url,
    state.encryption_key, conversation_ttl); the options override them."""
    from service.settings import GatewaySettings

    try:
        settings: GatewaySettings | None = GatewaySettings()
    except (ValidationError, ValueError):
        settings = None  # e.g. no API key configured on the machine that migrates: options suffice
    data_dir = args.data_dir or (settings.data_dir if settings is not None else Path("data"))
    state = settings.state if settings is not None else None
    url = args.redis_url or (state.redis_url.get_secret_value() if state and state.redis_url else None)
    if url is None:
        print("error: no Redis to migrate to: pass --redis-url or set state.redis_url", file=sys.stderr)
        return 2
    key = state.encryption_key.get_secret_value() if state and state.encryption_key else None
    if key is None:
        print("warning: state.encryption_key is not set: cookies are copied in clear", file=sys.stderr)
    ttl = settings.conversation_ttl if settings is not None else DEFAULT_TTL
    try:
        counts = asyncio.run(migrate_to_redis(data_dir, url, Sealer(key), force=args.force, ttl=ttl))
    except (StateUnavailable, TargetNotEmpty) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"migrated": counts, "from": str(data_dir)}, indent=2))
    return 0
