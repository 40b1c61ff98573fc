"""Stored responses, per API key, in SQLite: the Response object as answered, the chat history it
ends (input and output as chat messages, without ``instructions``), which a later request with
``previous_response_id`` continues, and its items (input and output, each with its id), which later
requests reference by id (``service.responses.items``) and ``GET /responses/{id}/input_items`` lists.

A background response is stored at once (``queued``) and again as it changes; its status is a
column, so that a store opened after a crash or a kill marks what was still running as failed (its
page answer is gone with the process). A background response's stream events are kept with it for
``GET /responses/{id}?stream=true``.

Rows older than ``ttl`` (since their last write) are never read, and are purged with their items
when the store opens and then at most every ``purge_interval`` seconds, by the write that finds it
due (a store nobody writes to grows no more).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from service.private_sqlite import ExpiringStore
from service.responses.schema import RESPONSES_FILE

__all__ = ["INTERRUPTED", "ResponseStore", "StoredResponse"]

# The error of a background response whose gateway stopped (or died) before it finished.
INTERRUPTED = {"code": "server_shutdown", "message": "The gateway stopped before this response finished."}
_RUNNING = ("queued", "in_progress")


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One transaction (the connection is in autocommit mode): a response and its items together."""
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


@dataclass(frozen=True)
class StoredResponse:
    body: dict[str, Any]
    history: list[dict[str, Any]]
    events: list[dict[str, Any]] | None = None  # a background response's stream, once it ended


class ResponseStore(ExpiringStore):
    """Thread-safe; every method is quick and meant to run in a worker thread."""

    _what = "the response store"
    schema = RESPONSES_FILE

    def _opened(self, db: sqlite3.Connection) -> None:
        super()._opened(db)
        self._interrupt(db)

    def _interrupt(self, db: sqlite3.Connection) -> None:
        """Mark what was running when the last process ended as failed: nothing runs it any more."""
        placeholders = ",".join("?" for _ in _RUNNING)
        rows = db.execute(f"SELECT id, body FROM responses WHERE status IN ({placeholders})", _RUNNING)
        for response_id, text in rows.fetchall():
            body = {**json.loads(text), "status": "failed", "error": INTERRUPTED}
            db.execute(
                "UPDATE responses SET body = ?, status = 'failed' WHERE id = ?",
                (json.dumps(body), response_id),
            )

    def put(
        self,
        identity: str,
        body: dict[str, Any],
        history: list[dict[str, Any]],
        *,
        input_items: Sequence[dict[str, Any]] | None = None,
        events: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        """Store (or replace) a response; its output items are kept with it, and its input items
        when given (a rewrite without them keeps those stored before)."""
        now = time.time()
        response_id = body["id"]
        with self._locked() as db, _transaction(db):
            db.execute(
                "INSERT OR REPLACE INTO responses (id, identity, created, body, history, status, events) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    response_id,
                    identity,
                    now,
                    json.dumps(body),
                    json.dumps(history),
                    body.get("status", "completed"),
                    json.dumps(list(events)) if events is not None else None,
                ),
            )
            sides: list[tuple[str, Sequence[dict[str, Any]]]] = [("output", body.get("output") or [])]
            if input_items is not None:
                sides.append(("input", input_items))
            for side, items in sides:
                db.execute(
                    "DELETE FROM response_items WHERE response_id = ? AND side = ?", (response_id, side)
                )
                db.executemany(
                    "INSERT INTO response_items VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (response_id, identity, side, position, item["id"], json.dumps(item))
                        for position, item in enumerate(items)
                        if item.get("id")
                    ],
                )
        with self._locked() as db:
            self._purge_if_due(db, now)

    def _purge(self, db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM responses WHERE created < ?", (now - self.ttl,))
        db.execute("DELETE FROM response_items WHERE response_id NOT IN (SELECT id FROM responses)")

    def get(self, identity: str, response_id: str) -> StoredResponse | None:
        with self._locked() as db:
            row = db.execute(
                "SELECT body, history, events FROM responses WHERE id = ? AND identity = ? AND created >= ?",
                (response_id, identity, time.time() - self.ttl),
            ).fetchone()
        if row is None:
            return None
        events = json.loads(row[2]) if row[2] is not None else None
        return StoredResponse(body=json.loads(row[0]), history=json.loads(row[1]), events=events)

    def delete(self, identity: str, response_id: str) -> bool:
        with self._locked() as db:
            cursor = db.execute(
                "DELETE FROM responses WHERE id = ? AND identity = ?", (response_id, identity)
            )
            db.execute("DELETE FROM response_items WHERE response_id = ?", (response_id,))
        return cursor.rowcount > 0

    def item(self, identity: str, item_id: str) -> dict[str, Any] | None:
        """The item with this id among this key's stored responses (the latest write wins)."""
        with self._locked() as db:
            row = db.execute(
                "SELECT i.item FROM response_items i JOIN responses r ON r.id = i.response_id "
                "WHERE i.identity = ? AND i.item_id = ? AND r.created >= ? ORDER BY r.created DESC LIMIT 1",
                (identity, item_id, time.time() - self.ttl),
            ).fetchone()
        return json.loads(row[0]) if row is not None else None

    def input_items(self, identity: str, response_id: str) -> list[dict[str, Any]]:
        with self._locked() as db:
            rows = db.execute(
                "SELECT item FROM response_items WHERE response_id = ? AND identity = ? AND side = 'input' "
                "ORDER BY position",
                (response_id, identity),
            ).fetchall()
        return [json.loads(row[0]) for row in rows]
