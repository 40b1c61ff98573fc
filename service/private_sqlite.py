"""SQLite files only the gateway's user can read: every store in the data directory opens here, and
the stores share one open/close/lock lifecycle (``PrivateStore``) and one schema migrator.

A store declares its schema as ``Migration`` steps, oldest first; the file's ``PRAGMA user_version``
is how many it has, and opening a file applies the ones it lacks, all in one transaction (a crash
midway leaves the file as it was). So a future column is one more step at the end of the list,
never a check of the table's columns. Files written before versions existed are at version 0; for
them each step is applied unless it is there already: a ``CREATE ... IF NOT EXISTS`` step by its
own wording, a step that adds a column by its ``marker`` (``"table.column"``). A file newer than
the gateway (a downgrade) is refused rather than used with columns this code does not know. A
store of another kind (Redis, when one comes) keeps the same discipline: a stored version and the
steps after it, applied on open.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

__all__ = ["ExpiringStore", "Migration", "PrivateStore", "migrate", "private_sqlite", "schema_version"]


def private_sqlite(path: Path) -> sqlite3.Connection:
    """A WAL SQLite connection on ``path``, the file created 0600 (tightened if looser; SQLite gives
    its ``-wal``/``-shm`` files the database's mode) in a 0700 directory it creates."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm"):
        existing = path.with_name(path.name + suffix)
        if existing.exists():
            os.chmod(existing, 0o600)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
    db.execute("PRAGMA journal_mode=WAL")
    return db


@dataclass(frozen=True)
class Migration:
    """One step of a schema: ``sql`` (statements separated by ``;``) takes a file from the version
    before to this one. ``marker`` (``"table.column"``), on a step that adds a column and predates
    schema versions, is how a file of that time shows the step is in already."""

    sql: str
    marker: str | None = None


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, steps: Sequence[Migration], what: str = "the store") -> int:
    """Bring the file to ``len(steps)``, in one transaction; returns the version it was at."""
    if schema_version(db) == len(steps):
        return len(steps)
    db.execute("BEGIN IMMEDIATE")  # one migrator at a time, also across processes
    try:
        found = schema_version(db)  # again, inside the lock: another process may have migrated
        if found > len(steps):
            raise RuntimeError(
                f"{what} is at schema version {found}, newer than this gateway's {len(steps)}: "
                "it was written by a newer version of the gateway"
            )
        numbered = list(enumerate(steps, 1))
        pending = numbered[found:] if found else [(n, s) for n, s in numbered if not _has(db, s.marker)]
        for _, step in pending:
            for statement in _statements(step.sql):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {len(steps)}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return found


def _has(db: sqlite3.Connection, marker: str | None) -> bool:
    if marker is None:
        return False
    table, column = marker.split(".")
    return column in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _statements(sql: str) -> list[str]:
    """``sql``'s statements one by one (``executescript`` would commit the migration's transaction)."""
    statements, pending = [], ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    return statements


class PrivateStore:
    """A store in one private SQLite file: ``with Store(path, ...) as store`` (or ``open``/``close``).
    Every use of the connection holds ``_lock``: the stores are called from worker threads.
    ``schema`` is the store's file's schema (``migrate``), applied when it opens."""

    # Names the store in the error raised when it is used while closed.
    _what = "the store"
    schema: ClassVar[tuple[Migration, ...]] = ()

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _opened(self, db: sqlite3.Connection) -> None:
        """What the store does on a connection whose schema is current, before it is used (nothing
        by default; a purge of expired rows, say)."""

    def open(self) -> None:
        """Open the file and migrate it (nothing when open already)."""
        if self._db is not None:
            return
        db = private_sqlite(self.path)
        try:
            migrate(db, self.schema, f"{self._what} ({self.path.name})")
            self._opened(db)
        except BaseException:
            db.close()
            raise
        self._db = db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _conn(self) -> sqlite3.Connection:
        """The open connection (the caller holds ``_lock``)."""
        if self._db is None:
            raise RuntimeError(f"{self._what} is not open")
        return self._db

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._conn()


class ExpiringStore(PrivateStore):
    """A private store whose rows expire ``ttl`` seconds after their last write: ``_purge`` deletes
    the expired ones when the store opens and then at most every
    ``purge_interval`` seconds, from the write that finds it due (``_purge_if_due``), so a store
    nobody writes to grows no more."""

    def __init__(self, path: Path, *, ttl: float, purge_interval: float) -> None:
        super().__init__(path)
        self.ttl = ttl
        self.purge_interval = purge_interval
        self._purged_at = 0.0

    def _opened(self, db: sqlite3.Connection) -> None:
        self._purge_if_due(db)

    def _purge(self, db: sqlite3.Connection, now: float) -> None:
        """Delete what expired before ``now - ttl`` (the caller holds ``_lock``)."""
        raise NotImplementedError

    def _purge_if_due(self, db: sqlite3.Connection, now: float | None = None) -> None:
        now = time.time() if now is None else now
        if now - self._purged_at >= self.purge_interval:
            self._purge(db, now)
            self._purged_at = now
