"""SQLite files only the gateway's user can read: every store in the data directory opens here."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

__all__ = ["private_sqlite"]


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
