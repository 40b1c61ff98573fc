"""Conversation affinity: which Gemini chat (account + chat id) already holds a message history.

After an answer, the request's messages plus the assistant's answer are hashed and mapped to the
chat that produced them *and to the position in it* (the chat's turn count after that answer). A
later request whose history (everything before its last user message) hashes the same continues
that chat and sends only the new turn, but only from the chat's current tip: a regenerate, an
edit-and-resend, a client retry or two parallel forks of one history would otherwise type into a
chat that already holds turns the client never sent, so the model would see attempts it should not.
Continuing claims the tip (one continuation at a time); a continuation that did not finish leaves
the chat "dead" (it may hold a turn the client never received) and it is never continued again.

Keys are digests of (API key identity, model family, normalised messages), so one key can never
reach another key's chat, and nothing readable about the conversation is stored.

The store also queues chats for deletion on the page (``delete_chats``, see ``service.janitor``):
the queue is a table, so a restart loses no pending deletion.

The store is SQLite in the data directory (WAL; each write is one transaction, so a kill -9 loses
at most the write in flight). Entries expire after a TTL.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from service.chat.inputs import message_text
from service.chat.protocol import ChatMessage
from service.chat.tools import call_signature
from service.private_sqlite import Migration, PrivateStore
from service.reasoning import strip_think

__all__ = ["DEAD", "ChatRef", "ConversationStore", "PendingDeletion", "conversation_key"]

_FIRST = """
CREATE TABLE IF NOT EXISTS conversations (
    key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_expiry ON conversations (expires_at);
CREATE TABLE IF NOT EXISTS chats (
    account_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    tip INTEGER NOT NULL,
    claimed_until REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, chat_id)
);
CREATE TABLE IF NOT EXISTS chat_deletions (
    account_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    due_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, chat_id)
);
"""
SCHEMA = (
    Migration(_FIRST),
    # Mappings written before positions were stored have turn 0, which is never a chat's tip: such a
    # history is folded into a new chat once rather than risking a continuation from the wrong place.
    Migration("ALTER TABLE conversations ADD COLUMN turn INTEGER NOT NULL DEFAULT 0", "conversations.turn"),
)
DEAD = -1  # a chat's tip when it may hold a turn its client never received
# A claimed tip is released by the turn's end; this bounds a claim left by a crashed process.
CLAIM_SECONDS = 900.0


@dataclass(frozen=True)
class ChatRef:
    """Where a history lives: a chat on one account, at turn ``turn`` (1-based; 0 = unknown)."""

    account_id: str
    chat_id: str
    turn: int = 0


@dataclass(frozen=True)
class PendingDeletion:
    account_id: str
    chat_id: str
    attempts: int


def conversation_key(identity: str, scope: str, messages: Sequence[ChatMessage]) -> str:
    """Digest of who asks, in which model family, and the normalised messages."""
    normal = [_normalise(message) for message in messages]
    text = json.dumps([identity, scope, normal], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _normalise(message: ChatMessage) -> list[object]:
    # Clients resend what they received with small whitespace changes, and "developer" is the
    # newer name of "system"; images count by a digest of their URL (data: URLs included).
    # Tool turns (service.chat.tools): calls count by name and canonical arguments, "function" is
    # the legacy "tool"; a think_tags client resends its <think> block, which Gemini never wrote.
    role = {"developer": "system", "function": "tool"}.get(message.role, message.role)
    images = [hashlib.sha256(url.encode()).hexdigest()[:16] for url in message.image_urls()]
    text = strip_think(message_text(message)) if role == "assistant" else message_text(message)
    calls = call_signature(message)
    return [role, text.strip(), images, calls] if calls else [role, text.strip(), images]


class ConversationStore(PrivateStore):
    """SQLite-backed map from conversation keys to chats, with expiry. Thread-safe."""

    _what = "the conversation store"
    schema = SCHEMA

    def __init__(self, path: Path, *, ttl: float, clock: Callable[[], float] = time.time) -> None:
        super().__init__(path)
        self.ttl = ttl
        self._clock = clock
        self.clock = clock

    def _opened(self, db: sqlite3.Connection) -> None:
        db.execute("PRAGMA synchronous=NORMAL")

    def remember(self, key: str, ref: ChatRef) -> None:
        """Map ``key`` to ``ref`` (its chat and position); the chat's tip is not changed."""
        with self._lock, self._transaction() as db:
            self._map(db, key, ref)

    def lookup(self, key: str) -> ChatRef | None:
        with self._lock:
            row = (
                self._conn()
                .execute(
                    "SELECT account_id, chat_id, turn FROM conversations WHERE key = ? AND expires_at > ?",
                    (key, self._clock()),
                )
                .fetchone()
            )
        return ChatRef(account_id=row[0], chat_id=row[1], turn=row[2]) if row else None

    # -- positions --

    def claim(self, key: str) -> ChatRef | None:
        """The chat holding history ``key``, claimed for one continuation, if the history ends at
        the chat's tip and no other continuation holds it; else None (fold into a new chat)."""
        now = self._clock()
        with self._lock, self._transaction() as db:
            row = db.execute(
                "SELECT c.account_id, c.chat_id, c.turn FROM conversations c JOIN chats t"
                " ON t.account_id = c.account_id AND t.chat_id = c.chat_id"
                " WHERE c.key = ? AND c.expires_at > ? AND c.turn > 0 AND t.tip = c.turn"
                " AND t.claimed_until <= ?",
                (key, now, now),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE chats SET claimed_until = ? WHERE account_id = ? AND chat_id = ?",
                (now + CLAIM_SECONDS, row[0], row[1]),
            )
        return ChatRef(account_id=row[0], chat_id=row[1], turn=row[2])

    def advance(self, key: str, account_id: str, chat_id: str, continued: ChatRef | None) -> ChatRef:
        """Record an answered turn: the chat's tip moves one on (a new chat starts at 1), the
        claim ends, and ``key`` (the history including the answer) maps to the new tip."""
        turn = continued.turn + 1 if continued is not None and continued.chat_id == chat_id else 1
        ref = ChatRef(account_id, chat_id, turn)
        with self._lock, self._transaction() as db:
            db.execute(
                "INSERT INTO chats (account_id, chat_id, tip, claimed_until) VALUES (?, ?, ?, 0)"
                " ON CONFLICT(account_id, chat_id) DO UPDATE SET tip = excluded.tip, claimed_until = 0",
                (account_id, chat_id, turn),
            )
            self._map(db, key, ref)
        return ref

    def release(self, ref: ChatRef, *, touched: bool) -> None:
        """End a claim without an answered turn. ``touched``: the prompt may have reached the chat,
        so it is dead (never continued again); otherwise its tip is free again."""
        with self._lock, self._transaction() as db:
            if touched:
                db.execute(
                    "UPDATE chats SET tip = ?, claimed_until = 0 WHERE account_id = ? AND chat_id = ?",
                    (DEAD, ref.account_id, ref.chat_id),
                )
            else:
                db.execute(
                    "UPDATE chats SET claimed_until = 0 WHERE account_id = ? AND chat_id = ?",
                    (ref.account_id, ref.chat_id),
                )

    def is_mapped(self, account_id: str, chat_id: str) -> bool:
        """Whether any live history still points at the chat (at its tip, so it can continue)."""
        with self._lock:
            row = (
                self._conn()
                .execute(
                    "SELECT 1 FROM conversations c JOIN chats t"
                    " ON t.account_id = c.account_id AND t.chat_id = c.chat_id"
                    " WHERE c.account_id = ? AND c.chat_id = ? AND c.expires_at > ? AND t.tip = c.turn",
                    (account_id, chat_id, self._clock()),
                )
                .fetchone()
            )
        return row is not None

    # -- deletions on the page --

    def schedule_deletion(self, account_id: str, chat_id: str, *, delay: float = 0.0) -> None:
        """Queue the chat for deletion; its mappings go at once, so it is never continued."""
        with self._lock, self._transaction() as db:
            db.execute(
                "INSERT INTO chat_deletions (account_id, chat_id, due_at) VALUES (?, ?, ?)"
                " ON CONFLICT(account_id, chat_id) DO NOTHING",
                (account_id, chat_id, self._clock() + delay),
            )
            db.execute(
                "DELETE FROM conversations WHERE account_id = ? AND chat_id = ?", (account_id, chat_id)
            )
            db.execute("DELETE FROM chats WHERE account_id = ? AND chat_id = ?", (account_id, chat_id))

    def due_deletions(self, limit: int = 20) -> list[PendingDeletion]:
        with self._lock:
            rows = (
                self._conn()
                .execute(
                    "SELECT account_id, chat_id, attempts FROM chat_deletions WHERE due_at <= ?"
                    " ORDER BY due_at LIMIT ?",
                    (self._clock(), limit),
                )
                .fetchall()
            )
        return [PendingDeletion(row[0], row[1], row[2]) for row in rows]

    def next_deletion_due(self) -> float | None:
        with self._lock:
            row = self._conn().execute("SELECT MIN(due_at) FROM chat_deletions").fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def deletion_done(self, account_id: str, chat_id: str) -> None:
        with self._lock, self._transaction() as db:
            db.execute(
                "DELETE FROM chat_deletions WHERE account_id = ? AND chat_id = ?", (account_id, chat_id)
            )

    def deletion_failed(self, account_id: str, chat_id: str, *, retry_in: float | None) -> None:
        """Try again in ``retry_in`` seconds, or give up (None)."""
        with self._lock, self._transaction() as db:
            if retry_in is None:
                db.execute(
                    "DELETE FROM chat_deletions WHERE account_id = ? AND chat_id = ?", (account_id, chat_id)
                )
            else:
                db.execute(
                    "UPDATE chat_deletions SET attempts = attempts + 1, due_at = ?"
                    " WHERE account_id = ? AND chat_id = ?",
                    (self._clock() + retry_in, account_id, chat_id),
                )

    def pending_deletions(self) -> list[PendingDeletion]:
        with self._lock:
            rows = self._conn().execute("SELECT account_id, chat_id, attempts FROM chat_deletions").fetchall()
        return [PendingDeletion(row[0], row[1], row[2]) for row in rows]

    def _map(self, db: sqlite3.Connection, key: str, ref: ChatRef) -> None:
        db.execute(
            "INSERT INTO conversations (key, account_id, chat_id, expires_at, turn) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET account_id=excluded.account_id,"
            " chat_id=excluded.chat_id, expires_at=excluded.expires_at, turn=excluded.turn",
            (key, ref.account_id, ref.chat_id, self._clock() + self.ttl, ref.turn),
        )

    def forget(self, key: str) -> None:
        with self._lock, self._transaction() as db:
            db.execute("DELETE FROM conversations WHERE key = ?", (key,))

    def expire(self) -> tuple[int, list[ChatRef]]:
        """Purge expired mappings; returns how many, and the chats no live mapping points at any
        more (their position rows are dropped: nothing can continue them)."""
        now = self._clock()
        with self._lock, self._transaction() as db:
            purged = db.execute("DELETE FROM conversations WHERE expires_at <= ?", (now,)).rowcount
            orphans = db.execute(
                "SELECT t.account_id, t.chat_id FROM chats t WHERE t.claimed_until <= ? AND NOT EXISTS"
                " (SELECT 1 FROM conversations c WHERE c.account_id = t.account_id"
                " AND c.chat_id = t.chat_id)",
                (now,),
            ).fetchall()
            for account_id, chat_id in orphans:
                db.execute("DELETE FROM chats WHERE account_id = ? AND chat_id = ?", (account_id, chat_id))
        return purged, [ChatRef(account_id, chat_id) for account_id, chat_id in orphans]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._conn())


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (or ``ROLLBACK`` on error): one atomic write."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
