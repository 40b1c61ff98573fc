"""SQLite files only the gateway's user can read: every store in the data directory opens here, and
the stores used with ``with`` share one open/close/lock lifecycle (``PrivateStore``)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["ExpiringStore", "PrivateStore", "private_sqlite"]


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


class PrivateStore:
    """A store in one private SQLite file: ``with Store(path, ...) as store`` (or ``open``/``close``).
    Every use of the connection holds ``_lock``: the stores are called from worker threads."""

    # Names the store in the error raised when it is used while closed.
    _what = "the store"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Create (or migrate) the schema on the new connection, before the store uses it."""
        raise NotImplementedError

    def open(self) -> None:
        """Open the file and prepare it (nothing when open already)."""
        if self._db is not None:
            return
        db = private_sqlite(self.path)
        try:
            self._prepare(db)
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
    the expired ones when the store opens (``_prepare`` calls it) and then at most every
    ``purge_interval`` seconds, from the write that finds it due (``_purge_if_due``), so a store
    nobody writes to grows no more."""

    def __init__(self, path: Path, *, ttl: float, purge_interval: float) -> None:
        super().__init__(path)
        self.ttl = ttl
        self.purge_interval = purge_interval
        self._purged_at = 0.0

    def _purge(self, db: sqlite3.Connection, now: float) -> None:
        """Delete what expired before ``now - ttl`` (the caller holds ``_lock``)."""
        raise NotImplementedError

    def _purge_if_due(self, db: sqlite3.Connection, now: float | None = None) -> None:
        now = time.time() if now is None else now
        if now - self._purged_at >= self.purge_interval:
            self._purge(db, now)
            self._purged_at = now
