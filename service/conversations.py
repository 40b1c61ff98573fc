"""Conversation affinity: which Gemini chat (account + chat id) already holds a message history.

After an answer, the request's messages plus the assistant's answer are hashed and mapped to the
chat that produced them. A later request whose history (everything before its last user message)
hashes the same continues that chat and sends only the new turn. Keys are digests of
(API key identity, model family, normalised messages), so one key can never reach another key's
chat, and nothing readable about the conversation is stored.

The store is SQLite in the data directory (WAL; each write is one transaction, so a kill -9 loses
at most the write in flight). Entries expire after a TTL.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from service.chat.inputs import message_text
from service.chat.protocol import ChatMessage

__all__ = ["ChatRef", "ConversationStore", "conversation_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_expiry ON conversations (expires_at);
"""


@dataclass(frozen=True)
class ChatRef:
    """Where a history lives: a chat on one account."""

    account_id: str
    chat_id: str


def conversation_key(identity: str, scope: str, messages: Sequence[ChatMessage]) -> str:
    """Digest of who asks, in which model family, and the normalised messages."""
    normal = [_normalise(message) for message in messages]
    text = json.dumps([identity, scope, normal], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _normalise(message: ChatMessage) -> list[object]:
    # Clients resend what they received with small whitespace changes, and "developer" is the
    # newer name of "system"; images count by a digest of their URL (data: URLs included).
    role = "system" if message.role == "developer" else message.role
    images = [hashlib.sha256(url.encode()).hexdigest()[:16] for url in message.image_urls()]
    return [role, message_text(message).strip(), images]


class ConversationStore:
    """SQLite-backed map from conversation keys to chats, with expiry. Thread-safe."""

    def __init__(self, path: Path, *, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> ConversationStore:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5.0)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        self._db = db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def remember(self, key: str, ref: ChatRef) -> None:
        expires = self._clock() + self.ttl
        with self._lock, self._transaction() as db:
            db.execute(
                "INSERT INTO conversations (key, account_id, chat_id, expires_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(key) DO UPDATE SET account_id=excluded.account_id,"
                " chat_id=excluded.chat_id, expires_at=excluded.expires_at",
                (key, ref.account_id, ref.chat_id, expires),
            )

    def lookup(self, key: str) -> ChatRef | None:
        with self._lock:
            row = (
                self._conn()
                .execute(
                    "SELECT account_id, chat_id FROM conversations WHERE key = ? AND expires_at > ?",
                    (key, self._clock()),
                )
                .fetchone()
            )
        return ChatRef(account_id=row[0], chat_id=row[1]) if row else None

    def forget(self, key: str) -> None:
        with self._lock, self._transaction() as db:
            db.execute("DELETE FROM conversations WHERE key = ?", (key,))

    def purge_expired(self) -> int:
        with self._lock, self._transaction() as db:
            cursor = db.execute("DELETE FROM conversations WHERE expires_at <= ?", (self._clock(),))
        return cursor.rowcount

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the conversation store is not open")
        return self._db

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
