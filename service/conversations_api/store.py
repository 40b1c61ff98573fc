"""Conversations of the Conversations API, per API key, in SQLite (the responses file): each one's
metadata and its items in order (each with an id, as ``service.responses.items`` gives them).
A conversation not written to for ``ttl`` seconds is never read, and is purged with its items when
the store opens and then at most every ``purge_interval`` seconds, by a write that finds it due.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Sequence
from typing import Any

from service.private_sqlite import ExpiringStore
from service.responses.schema import RESPONSES_FILE

__all__ = ["ConversationObjects", "new_conversation_id"]

Item = dict[str, Any]


def new_conversation_id() -> str:
    return f"conv_{uuid.uuid4().hex}"


class ConversationObjects(ExpiringStore):
    """Thread-safe; every method is quick and meant to run in a worker thread. Every read and
    write names the API key (``identity``): another key's conversation does not exist for it."""

    _what = "the conversation objects store"
    schema = RESPONSES_FILE

    def _purge(self, db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM api_conversations WHERE updated < ?", (now - self.ttl,))
        db.execute(
            "DELETE FROM api_conversation_items "
            "WHERE conversation_id NOT IN (SELECT id FROM api_conversations)"
        )

    def _owned(self, db: sqlite3.Connection, identity: str, conversation_id: str) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = db.execute(
            "SELECT id, created_at, metadata FROM api_conversations "
            "WHERE id = ? AND identity = ? AND updated >= ?",
            (conversation_id, identity, time.time() - self.ttl),
        ).fetchone()
        return row

    def create(self, identity: str, metadata: dict[str, str], items: Sequence[Item]) -> dict[str, Any]:
        now = time.time()
        conversation_id = new_conversation_id()
        with self._locked() as db:
            db.execute(
                "INSERT INTO api_conversations VALUES (?, ?, ?, ?, ?)",
                (conversation_id, identity, int(now), now, json.dumps(metadata)),
            )
            self._add(db, conversation_id, items)
            self._purge_if_due(db, now)
        return _body((conversation_id, int(now), json.dumps(metadata)))

    def get(self, identity: str, conversation_id: str) -> dict[str, Any] | None:
        with self._locked() as db:
            row = self._owned(db, identity, conversation_id)
        return _body(row) if row is not None else None

    def update(self, identity: str, conversation_id: str, metadata: dict[str, str]) -> dict[str, Any] | None:
        with self._locked() as db:
            if self._owned(db, identity, conversation_id) is None:
                return None
            db.execute(
                "UPDATE api_conversations SET metadata = ?, updated = ? WHERE id = ?",
                (json.dumps(metadata), time.time(), conversation_id),
            )
            row = self._owned(db, identity, conversation_id)
        return _body(row) if row is not None else None

    def delete(self, identity: str, conversation_id: str) -> bool:
        with self._locked() as db:
            if self._owned(db, identity, conversation_id) is None:
                return False
            db.execute("DELETE FROM api_conversations WHERE id = ?", (conversation_id,))
            db.execute("DELETE FROM api_conversation_items WHERE conversation_id = ?", (conversation_id,))
        return True

    def items(self, identity: str, conversation_id: str) -> list[Item] | None:
        """The conversation's items in order; None when this key has no such conversation."""
        with self._locked() as db:
            if self._owned(db, identity, conversation_id) is None:
                return None
            rows = db.execute(
                "SELECT item FROM api_conversation_items WHERE conversation_id = ? ORDER BY seq",
                (conversation_id,),
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def append(self, identity: str, conversation_id: str, items: Sequence[Item]) -> bool:
        """Add ``items`` at the end; False when this key has no such conversation (any more)."""
        with self._locked() as db:
            if self._owned(db, identity, conversation_id) is None:
                return False
            self._add(db, conversation_id, items)
            db.execute(
                "UPDATE api_conversations SET updated = ? WHERE id = ?", (time.time(), conversation_id)
            )
        return True

    def _add(self, db: sqlite3.Connection, conversation_id: str, items: Sequence[Item]) -> None:
        (last,) = db.execute(
            "SELECT COALESCE(MAX(seq), -1) FROM api_conversation_items WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()
        db.executemany(
            "INSERT INTO api_conversation_items VALUES (?, ?, ?, ?)",
            [(conversation_id, last + 1 + n, item["id"], json.dumps(item)) for n, item in enumerate(items)],
        )

    def item(self, identity: str, conversation_id: str, item_id: str) -> Item | None:
        with self._locked() as db:
            if self._owned(db, identity, conversation_id) is None:
                return None
            row = db.execute(
                "SELECT item FROM api_conversation_items WHERE conversation_id = ? AND item_id = ? "
                "ORDER BY seq DESC LIMIT 1",
                (conversation_id, item_id),
            ).fetchone()
        return json.loads(row[0]) if row is not None else None

    def delete_item(self, identity: str, conversation_id: str, item_id: str) -> bool:
        with self._locked() as db:
            if self._owned(db, identity, conversation_id) is None:
                return False
            cursor = db.execute(
                "DELETE FROM api_conversation_items WHERE conversation_id = ? AND item_id = ?",
                (conversation_id, item_id),
            )
        return cursor.rowcount > 0

    def find_item(self, identity: str, item_id: str) -> Item | None:
        """The item with this id in any of this key's conversations (for ``item_reference``)."""
        with self._locked() as db:
            row = db.execute(
                "SELECT i.item FROM api_conversation_items i JOIN api_conversations c "
                "ON c.id = i.conversation_id WHERE c.identity = ? AND i.item_id = ? AND c.updated >= ? "
                "ORDER BY c.updated DESC, i.seq DESC LIMIT 1",
                (identity, item_id, time.time() - self.ttl),
            ).fetchone()
        return json.loads(row[0]) if row is not None else None


def _body(row: tuple[Any, ...]) -> dict[str, Any]:
    return {"id": row[0], "object": "conversation", "created_at": row[1], "metadata": json.loads(row[2])}
