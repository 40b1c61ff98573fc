"""Stored responses, per API key, in SQLite: the Response object as answered and the chat history
it ends (input and output as chat messages, without ``instructions``), which a later request with
``previous_response_id`` continues. Rows older than ``ttl`` are never read, and are purged when the
store opens and then at most every ``purge_interval`` seconds, by the write that finds it due (a
store nobody writes to grows no more)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from service.private_sqlite import private_sqlite

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


class ResponseStore:
    """Thread-safe; every method is quick and meant to run in a worker thread."""

    def __init__(self, path: Path, *, ttl: float, purge_interval: float) -> None:
        self.path = path
        self.ttl = ttl
        self.purge_interval = purge_interval
        self._purged_at = 0.0
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> ResponseStore:
        self._db = private_sqlite(self.path)  # conversations are private
        self._db.execute(_SCHEMA)
        with self._lock:
            self._purge(time.time())
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the response store is not open")
        return self._db

    def put(self, identity: str, body: dict[str, Any], history: list[dict[str, Any]]) -> None:
        now = time.time()
        with self._lock:
            self.db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?)",
                (body["id"], identity, now, json.dumps(body), json.dumps(history)),
            )
            if now - self._purged_at >= self.purge_interval:
                self._purge(now)

    def _purge(self, now: float) -> None:
        self.db.execute("DELETE FROM responses WHERE created < ?", (now - self.ttl,))
        self._purged_at = now

    def get(self, identity: str, response_id: str) -> StoredResponse | None:
        with self._lock:
            row = self.db.execute(
                "SELECT body, history FROM responses WHERE id = ? AND identity = ? AND created >= ?",
                (response_id, identity, time.time() - self.ttl),
            ).fetchone()
        if row is None:
            return None
        return StoredResponse(body=json.loads(row[0]), history=json.loads(row[1]))

    def delete(self, identity: str, response_id: str) -> bool:
        with self._lock:
            cursor = self.db.execute(
                "DELETE FROM responses WHERE id = ? AND identity = ?", (response_id, identity)
            )
        return cursor.rowcount > 0
