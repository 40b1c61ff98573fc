"""Stored responses, per API key, in SQLite: the Response object as answered and the chat history
it ends (input and output as chat messages, without ``instructions``), which a later request with
``previous_response_id`` continues. Rows older than ``ttl`` are never read, and are purged when the
store opens and then at most every ``purge_interval`` seconds, by the write that finds it due (a
store nobody writes to grows no more)."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.private_sqlite import PrivateStore

__all__ = ["RESPONSES_KEY", "ResponseStore", "StoredResponse"]

# Where the lifespan leaves the store in the request state.
RESPONSES_KEY = "responses"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    id TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    created REAL NOT NULL,
    body TEXT NOT NULL,
    history TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class StoredResponse:
    body: dict[str, Any]
    history: list[dict[str, Any]]


class ResponseStore(PrivateStore):
    """Thread-safe; every method is quick and meant to run in a worker thread."""

    _what = "the response store"

    def __init__(self, path: Path, *, ttl: float, purge_interval: float) -> None:
        super().__init__(path)
        self.ttl = ttl
        self.purge_interval = purge_interval
        self._purged_at = 0.0

    def _prepare(self, db: sqlite3.Connection) -> None:
        db.execute(_SCHEMA)
        self._purge(db, time.time())

    def put(self, identity: str, body: dict[str, Any], history: list[dict[str, Any]]) -> None:
        now = time.time()
        with self._locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)",
                (body["id"], identity, now, json.dumps(body), json.dumps(history)),
            )
            if now - self._purged_at >= self.purge_interval:
                self._purge(db, now)

    def _purge(self, db: sqlite3.Connection, now: float) -> None:
        db.execute("DELETE FROM responses WHERE created < ?", (now - self.ttl,))
        self._purged_at = now

    def get(self, identity: str, response_id: str) -> StoredResponse | None:
        with self._locked() as db:
            row = db.execute(
                "SELECT body, history FROM responses WHERE id = ? AND identity = ? AND created >= ?",
                (response_id, identity, time.time() - self.ttl),
            ).fetchone()
        if row is None:
            return None
        return StoredResponse(body=json.loads(row[0]), history=json.loads(row[1]))

    def delete(self, identity: str, response_id: str) -> bool:
        with self._locked() as db:
            cursor = db.execute(
                "DELETE FROM responses WHERE id = ? AND identity = ?", (response_id, identity)
            )
        return cursor.rowcount > 0
