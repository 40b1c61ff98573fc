"""Stored responses and the Conversations API's conversations, in Redis (``service.responses.store``
and ``service.conversations_api.store`` on SQLite are the other backend). Everything expires
``ttl`` seconds after its last write (Redis's own expiry; reads also check the time, as the SQLite
stores do).

Responses, under ``gateway:responses:``: ``r:<id>`` (hash: identity, created, status, body, history,
events), ``items:<id>:input`` and ``items:<id>:output`` (lists of items), and ``item:<identity>:<item
id>`` (the latest response holding that item, and the item). Conversations, under
``gateway:conversation_objects:``: ``c:<id>`` (hash: identity, created_at, updated, metadata),
``items:<id>`` (list of items in order) and ``by_identity:<identity>`` (sorted set by last write).

A background response still running is also in ``running`` (``service.stores.redis_runs``): the
replica running it renews it. A run that lapsed belongs to a replica that died: any replica marks
it failed (``server_shutdown``), at its start and at each renewal, as the SQLite store does for its
own process at the next start.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import redis

from service.conversations_api.store import new_conversation_id
from service.responses.store import INTERRUPTED, StoredResponse
from service.stores.redis_base import RedisStore, text, text_map, texts
from service.stores.redis_runs import Runs

__all__ = ["RedisConversationObjects", "RedisResponseStore"]

_RUNNING = ("queued", "in_progress")

Item = dict[str, Any]


class RedisResponseStore(RedisStore):
    store = "responses"
    _what = "the response store"

    def __init__(self, client: redis.Redis, *, ttl: float, purge_interval: float) -> None:
        super().__init__(client)
        self.ttl = ttl
        self.purge_interval = purge_interval  # Redis expires keys itself: kept for the interface
        self.runs = Runs(client, self.key("running"), on_tick=self.interrupt_lapsed)

    def _ttl(self) -> int:
        return max(1, int(self.ttl))

    def open(self) -> None:
        super().open()
        self.interrupt_lapsed()
        self.runs.open()

    def close(self) -> None:
        self.runs.close()

    def interrupt_lapsed(self) -> int:
        """Mark failed the running responses whose replica stopped renewing them; how many."""
        marked = 0
        for response_id in self.runs.lapsed():
            if not self.runs.forget(response_id):
                continue  # another replica took it first
            fields = text_map(self.redis.hgetall(self.key("r", response_id)))
            if fields.get("status") in _RUNNING:
                body = {**json.loads(fields["body"]), "status": "failed", "error": INTERRUPTED}
                self.redis.hset(
                    self.key("r", response_id), mapping={"body": json.dumps(body), "status": "failed"}
                )
                marked += 1
        return marked

    def put(
        self,
        identity: str,
        body: dict[str, Any],
        history: list[dict[str, Any]],
        *,
        input_items: Sequence[dict[str, Any]] | None = None,
        events: Sequence[dict[str, Any]] | None = None,
        created: float | None = None,
    ) -> None:
        response_id = body["id"]
        record: dict[Any, Any] = {
            "identity": identity,
            "created": repr(created if created is not None else time.time()),
            "status": str(body.get("status", "completed")),
            "body": json.dumps(body),
            "history": json.dumps(history),
        }
        sides: list[tuple[str, Sequence[dict[str, Any]]]] = [("output", body.get("output") or [])]
        if input_items is not None:
            sides.append(("input", input_items))
        main = self.key("r", response_id)
        with self.redis.pipeline() as pipe:  # one MULTI/EXEC: a response and its items together
            pipe.delete(main)
            pipe.hset(main, mapping=record)
            if events is not None:
                pipe.hset(main, "events", json.dumps(list(events)))
            pipe.expire(main, self._ttl())
            for side, items in sides:
                listed = self.key("items", response_id, side)
                kept = [item for item in items if item.get("id")]
                pipe.delete(listed)
                if kept:
                    pipe.rpush(listed, *(json.dumps(item) for item in kept))
                for item in kept:
                    pointer = json.dumps({"response_id": response_id, "item": item})
                    pipe.set(self.key("item", identity, item["id"]), pointer, ex=self._ttl())
            pipe.expire(self.key("items", response_id, "input"), self._ttl())
            pipe.expire(self.key("items", response_id, "output"), self._ttl())
            running = record["status"] in _RUNNING
            (self.runs.start if running else self.runs.end)(pipe, response_id)
            pipe.execute()
        self.runs.mine(response_id, running)

    def _fields(self, identity: str, response_id: str) -> dict[str, str] | None:
        fields = text_map(self.redis.hgetall(self.key("r", response_id)))
        if not fields or fields["identity"] != identity or float(fields["created"]) < time.time() - self.ttl:
            return None
        return fields

    def get(self, identity: str, response_id: str) -> StoredResponse | None:
        fields = self._fields(identity, response_id)
        if fields is None:
            return None
        events = json.loads(fields["events"]) if "events" in fields else None
        return StoredResponse(
            body=json.loads(fields["body"]), history=json.loads(fields["history"]), events=events
        )

    def delete(self, identity: str, response_id: str) -> bool:
        if self.redis.hget(self.key("r", response_id), "identity") != identity:
            return False
        gone = self.redis.delete(
            self.key("r", response_id),
            self.key("items", response_id, "input"),
            self.key("items", response_id, "output"),
        )
        return gone > 0

    def item(self, identity: str, item_id: str) -> dict[str, Any] | None:
        pointer = self.redis.get(self.key("item", identity, item_id))
        if pointer is None:
            return None
        found = json.loads(text(pointer))
        if self._fields(identity, found["response_id"]) is None:
            return None
        item: dict[str, Any] = found["item"]
        return item

    def input_items(self, identity: str, response_id: str) -> list[dict[str, Any]]:
        if self.redis.hget(self.key("r", response_id), "identity") != identity:
            return []
        return [
            json.loads(stored)
            for stored in texts(self.redis.lrange(self.key("items", response_id, "input"), 0, -1))
        ]


class RedisConversationObjects(RedisStore):
    store = "conversation_objects"
    _what = "the conversation objects store"

    def __init__(self, client: redis.Redis, *, ttl: float, purge_interval: float) -> None:
        super().__init__(client)
        self.ttl = ttl
        self.purge_interval = purge_interval

    def _ttl(self) -> int:
        return max(1, int(self.ttl))

    def _owned(self, identity: str, conversation_id: str) -> dict[str, str] | None:
        fields = text_map(self.redis.hgetall(self.key("c", conversation_id)))
        if not fields or fields["identity"] != identity or float(fields["updated"]) < time.time() - self.ttl:
            return None
        return fields

    def _touch(self, pipe: redis.client.Pipeline, identity: str, conversation_id: str, now: float) -> None:
        pipe.hset(self.key("c", conversation_id), "updated", repr(now))
        pipe.expire(self.key("c", conversation_id), self._ttl())
        pipe.expire(self.key("items", conversation_id), self._ttl())
        pipe.zadd(self.key("by_identity", identity), {conversation_id: now})
        pipe.expire(self.key("by_identity", identity), self._ttl())

    def create(
        self,
        identity: str,
        metadata: dict[str, str],
        items: Sequence[Item],
        *,
        conversation_id: str | None = None,
        created_at: int | None = None,
        updated: float | None = None,
    ) -> dict[str, Any]:
        now = updated if updated is not None else time.time()
        conversation_id = conversation_id or new_conversation_id()
        created = created_at if created_at is not None else int(now)
        with self.redis.pipeline() as pipe:
            # A given id is written whole (the migration, run again, writes the same).
            pipe.delete(self.key("c", conversation_id), self.key("items", conversation_id))
            pipe.hset(
                self.key("c", conversation_id),
                mapping={"identity": identity, "created_at": created, "metadata": json.dumps(metadata)},
            )
            if items:
                pipe.rpush(self.key("items", conversation_id), *(json.dumps(item) for item in items))
            self._touch(pipe, identity, conversation_id, now)
            pipe.execute()
        return _body(conversation_id, created, metadata)

    def get(self, identity: str, conversation_id: str) -> dict[str, Any] | None:
        fields = self._owned(identity, conversation_id)
        return (
            _body(conversation_id, int(fields["created_at"]), json.loads(fields["metadata"]))
            if fields
            else None
        )

    def update(self, identity: str, conversation_id: str, metadata: dict[str, str]) -> dict[str, Any] | None:
        if self._owned(identity, conversation_id) is None:
            return None
        with self.redis.pipeline() as pipe:
            pipe.hset(self.key("c", conversation_id), "metadata", json.dumps(metadata))
            self._touch(pipe, identity, conversation_id, time.time())
            pipe.execute()
        return self.get(identity, conversation_id)

    def delete(self, identity: str, conversation_id: str) -> bool:
        if self._owned(identity, conversation_id) is None:
            return False
        with self.redis.pipeline() as pipe:
            pipe.delete(self.key("c", conversation_id), self.key("items", conversation_id))
            pipe.zrem(self.key("by_identity", identity), conversation_id)
            pipe.execute()
        return True

    def items(self, identity: str, conversation_id: str) -> list[Item] | None:
        if self._owned(identity, conversation_id) is None:
            return None
        return [
            json.loads(stored)
            for stored in texts(self.redis.lrange(self.key("items", conversation_id), 0, -1))
        ]

    def append(self, identity: str, conversation_id: str, items: Sequence[Item]) -> bool:
        if self._owned(identity, conversation_id) is None:
            return False
        with self.redis.pipeline() as pipe:
            if items:
                pipe.rpush(self.key("items", conversation_id), *(json.dumps(item) for item in items))
            self._touch(pipe, identity, conversation_id, time.time())
            pipe.execute()
        return True

    def item(self, identity: str, conversation_id: str, item_id: str) -> Item | None:
        for item in reversed(self.items(identity, conversation_id) or []):
            if item.get("id") == item_id:
                return item
        return None

    def delete_item(self, identity: str, conversation_id: str, item_id: str) -> bool:
        if self._owned(identity, conversation_id) is None:
            return False
        listed = self.key("items", conversation_id)
        removed = 0
        for stored in texts(self.redis.lrange(listed, 0, -1)):
            if json.loads(stored).get("id") == item_id:
                removed += int(self.redis.lrem(listed, 0, stored))
        return removed > 0

    def find_item(self, identity: str, item_id: str) -> Item | None:
        for conversation_id in texts(self.redis.zrevrange(self.key("by_identity", identity), 0, -1)):
            found = self.item(identity, conversation_id, item_id)
            if found is not None:
                return found
        return None


def _body(conversation_id: str, created_at: int, metadata: dict[str, str]) -> dict[str, Any]:
    return {"id": conversation_id, "object": "conversation", "created_at": created_at, "metadata": metadata}
