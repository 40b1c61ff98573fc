"""Conversation affinity in Redis (``service.conversations`` on SQLite is the other backend, and
says what the mappings, tips and claims mean). Layout, under ``gateway:conversations:``:

- ``map:<key>``: hash account_id, chat_id, turn, expires_at (Redis expires it too, a day late, as
  garbage collection; reads compare ``expires_at`` with the store's clock);
- ``expiry``: sorted set of keys by ``expires_at``, for ``expire``;
- ``chat:<chat>``: hash tip, claimed_until; ``chats``: the set of chats; ``keys:<chat>``: the keys
  that were mapped to the chat (each checked against its ``map`` on read). ``<chat>`` is the JSON
  pair [account_id, chat_id];
- ``deletions``: sorted set of chats by due time; ``attempts``: hash chat -> failed attempts.

A claim is one Lua script: it re-reads the mapping and the tip and takes the claim only when both
still hold, so two replicas never continue one chat at once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import redis

from service.conversations import CLAIM_SECONDS, DEAD, ChatRef, PendingDeletion
from service.stores.redis_base import RedisStore, text, texts

__all__ = ["RedisConversationStore", "chat_member"]

_GC_SLACK = 24 * 3600

# KEYS: map, chat. ARGV: now, claimed_until, account_id, chat_id, turn.
_CLAIM = """
local m = redis.call('HMGET', KEYS[1], 'account_id', 'chat_id', 'turn', 'expires_at')
if m[1] ~= ARGV[3] or m[2] ~= ARGV[4] or m[3] ~= ARGV[5] then return 0 end
local now = tonumber(ARGV[1])
if tonumber(m[4]) <= now or tonumber(m[3]) <= 0 then return 0 end
local t = redis.call('HMGET', KEYS[2], 'tip', 'claimed_until')
if not t[1] or t[1] ~= m[3] or tonumber(t[2]) > now then return 0 end
redis.call('HSET', KEYS[2], 'claimed_until', ARGV[2])
return 1
"""
# KEYS: deletions. ARGV: chat, now, until. 1 when the deletion was due and is now this replica's
# until ``until`` (done, failed and rescheduled, or lapsed for another replica to retry).
_TAKE_DELETION = """
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""
# A replica that took a deletion and died: another retries it after this long.
DELETION_CLAIM_SECONDS = 300.0
# KEYS: chat. ARGV: field, value, ... : set only when the chat is known (an UPDATE, not an INSERT).
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""


def chat_member(account_id: str, chat_id: str) -> str:
    """A chat's name in keys and sets: the JSON pair [account_id, chat_id]."""
    return json.dumps([account_id, chat_id])


class RedisConversationStore(RedisStore):
    store = "conversations"
    _what = "the conversation store"

    def __init__(self, client: redis.Redis, *, ttl: float, clock: Callable[[], float] = time.time) -> None:
        super().__init__(client)
        self.ttl = ttl
        self.clock = clock
        self._claim = client.register_script(_CLAIM)
        self._update = client.register_script(_UPDATE)
        self._take_deletion = client.register_script(_TAKE_DELETION)

    def _map(self, pipe: redis.client.Pipeline, key: str, ref: ChatRef) -> None:
        self.map_until(pipe, key, ref.account_id, ref.chat_id, ref.turn, self.clock() + self.ttl)

    def map_until(
        self,
        pipe: redis.client.Pipeline,
        key: str,
        account_id: str,
        chat_id: str,
        turn: int,
        expires_at: float,
    ) -> None:
        """Queue on ``pipe`` the mapping of ``key`` to the chat's turn until ``expires_at``."""
        fields: dict[Any, Any] = {
            "account_id": account_id,
            "chat_id": chat_id,
            "turn": turn,
            "expires_at": repr(expires_at),
        }
        pipe.hset(self.key("map", key), mapping=fields)
        pipe.expire(self.key("map", key), int(self.ttl) + _GC_SLACK)
        pipe.zadd(self.key("expiry"), {key: expires_at})
        pipe.sadd(self.key("keys", chat_member(account_id, chat_id)), key)

    def remember(self, key: str, ref: ChatRef) -> None:
        with self.redis.pipeline() as pipe:
            self._map(pipe, key, ref)
            pipe.execute()

    def _read(self, key: str) -> tuple[ChatRef, float] | None:
        found = self.redis.hmget(self.key("map", key), "account_id", "chat_id", "turn", "expires_at")
        if any(value is None for value in found):
            return None
        account_id, chat_id, turn, expires_at = texts(found)
        return ChatRef(account_id, chat_id, int(turn)), float(expires_at)

    def lookup(self, key: str) -> ChatRef | None:
        found = self._read(key)
        return found[0] if found is not None and found[1] > self.clock() else None

    def claim(self, key: str) -> ChatRef | None:
        found = self._read(key)
        if found is None:
            return None
        ref = found[0]
        now = self.clock()
        taken = self._claim(
            keys=[self.key("map", key), self.key("chat", chat_member(ref.account_id, ref.chat_id))],
            args=[repr(now), repr(now + CLAIM_SECONDS), ref.account_id, ref.chat_id, str(ref.turn)],
        )
        return ref if taken else None

    def advance(self, key: str, account_id: str, chat_id: str, continued: ChatRef | None) -> ChatRef:
        turn = continued.turn + 1 if continued is not None and continued.chat_id == chat_id else 1
        ref = ChatRef(account_id, chat_id, turn)
        chat = chat_member(account_id, chat_id)
        with self.redis.pipeline() as pipe:
            pipe.hset(self.key("chat", chat), mapping={"tip": turn, "claimed_until": 0})
            pipe.sadd(self.key("chats"), chat)
            self._map(pipe, key, ref)
            pipe.execute()
        return ref

    def release(self, ref: ChatRef, *, touched: bool) -> None:
        fields = ["tip", str(DEAD), "claimed_until", "0"] if touched else ["claimed_until", "0"]
        self._update(keys=[self.key("chat", chat_member(ref.account_id, ref.chat_id))], args=fields)

    def _live_keys(self, account_id: str, chat_id: str) -> list[tuple[str, ChatRef, float]]:
        """The keys mapped to the chat now (expired ones included), each with its mapping."""
        live = []
        for key in texts(self.redis.smembers(self.key("keys", chat_member(account_id, chat_id)))):
            found = self._read(key)
            if found is not None and (found[0].account_id, found[0].chat_id) == (account_id, chat_id):
                live.append((key, *found))
        return live

    def is_mapped(self, account_id: str, chat_id: str) -> bool:
        tip = self.redis.hget(self.key("chat", chat_member(account_id, chat_id)), "tip")
        if tip is None:
            return False
        now = self.clock()
        return any(
            ref.turn == int(text(tip)) and expires > now
            for _, ref, expires in self._live_keys(account_id, chat_id)
        )

    # -- deletions on the page --

    def schedule_deletion(self, account_id: str, chat_id: str, *, delay: float = 0.0) -> None:
        chat = chat_member(account_id, chat_id)
        keys = [key for key, _, _ in self._live_keys(account_id, chat_id)]
        with self.redis.pipeline() as pipe:
            pipe.zadd(self.key("deletions"), {chat: self.clock() + delay}, nx=True)
            for key in keys:
                pipe.delete(self.key("map", key))
                pipe.zrem(self.key("expiry"), key)
            pipe.delete(self.key("keys", chat), self.key("chat", chat))
            pipe.srem(self.key("chats"), chat)
            pipe.execute()

    def _pending(self, members: list[str]) -> list[PendingDeletion]:
        attempts = self.redis.hmget(self.key("attempts"), members) if members else []
        pending = []
        for member, tries in zip(members, attempts, strict=True):
            account_id, chat_id = json.loads(member)
            pending.append(PendingDeletion(account_id, chat_id, int(tries or 0)))
        return pending

    def due_deletions(self, limit: int = 20) -> list[PendingDeletion]:
        """The due deletions, each taken by this replica alone (the janitors of two replicas never
        delete the same chat at once)."""
        now = self.clock()
        due = texts(self.redis.zrangebyscore(self.key("deletions"), "-inf", repr(now), start=0, num=limit))
        until = repr(now + DELETION_CLAIM_SECONDS)
        taken = [
            chat
            for chat in due
            if self._take_deletion(keys=[self.key("deletions")], args=[chat, repr(now), until])
        ]
        return self._pending(taken)

    def next_deletion_due(self) -> float | None:
        first = self.redis.zrange(self.key("deletions"), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def deletion_done(self, account_id: str, chat_id: str) -> None:
        chat = chat_member(account_id, chat_id)
        with self.redis.pipeline() as pipe:
            pipe.zrem(self.key("deletions"), chat)
            pipe.hdel(self.key("attempts"), chat)
            pipe.execute()

    def deletion_failed(self, account_id: str, chat_id: str, *, retry_in: float | None) -> None:
        if retry_in is None:
            self.deletion_done(account_id, chat_id)
            return
        chat = chat_member(account_id, chat_id)
        if self.redis.zadd(self.key("deletions"), {chat: self.clock() + retry_in}, xx=True, ch=True):
            self.redis.hincrby(self.key("attempts"), chat, 1)

    def pending_deletions(self) -> list[PendingDeletion]:
        return self._pending(texts(self.redis.zrange(self.key("deletions"), 0, -1)))

    def forget(self, key: str) -> None:
        found = self._read(key)
        with self.redis.pipeline() as pipe:
            pipe.delete(self.key("map", key))
            pipe.zrem(self.key("expiry"), key)
            if found is not None:
                pipe.srem(self.key("keys", chat_member(found[0].account_id, found[0].chat_id)), key)
            pipe.execute()

    def expire(self) -> tuple[int, list[ChatRef]]:
        now = self.clock()
        purged = 0
        for key in texts(self.redis.zrangebyscore(self.key("expiry"), "-inf", repr(now))):
            found = self._read(key)
            if found is not None and found[1] > now:  # written again meanwhile
                continue
            self.forget(key)
            purged += found is not None
        orphans = []
        for chat in texts(self.redis.smembers(self.key("chats"))):
            account_id, chat_id = json.loads(chat)
            claimed = self.redis.hget(self.key("chat", chat), "claimed_until")
            if claimed is not None and float(claimed) > now:
                continue
            if self._live_keys(account_id, chat_id):
                continue
            with self.redis.pipeline() as pipe:
                pipe.delete(self.key("chat", chat), self.key("keys", chat))
                pipe.srem(self.key("chats"), chat)
                pipe.execute()
            orphans.append(ChatRef(account_id, chat_id))
        return purged, orphans
