"""Confirmed deep researches by the history that asked for them (SQLite in the data directory).

A research goes on at Google whatever happens to the request that started it: the client may go
away, the wait limit may pass, the gateway may restart. The row written when the research is
confirmed (key: the caller, the mode family and the messages, as ``service.conversations`` digests
them) lets the same history asked again collect the report from its chat instead of starting a
second research.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from service.private_sqlite import Migration, PrivateStore
from service.stores.threaded import Threaded, threaded

__all__ = ["ResearchEntry", "ResearchRegistry", "ThreadedResearchRegistry"]

_FIRST = """
CREATE TABLE IF NOT EXISTS researches (
    key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    research_id TEXT NOT NULL,
    title TEXT,
    created_at REAL NOT NULL
)
"""


@dataclass(frozen=True)
class ResearchEntry:
    key: str
    account_id: str
    chat_id: str
    research_id: str
    title: str | None
    created_at: float


class ResearchRegistry(PrivateStore):
    """Open from construction to ``close``."""

    _what = "the research registry"
    schema = (Migration(_FIRST),)

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.open()

    def record(self, key: str, account_id: str, chat_id: str, research_id: str, title: str | None) -> None:
        with self._locked() as db:
            db.execute(
                "INSERT OR REPLACE INTO researches VALUES (?, ?, ?, ?, ?, ?)",
                (key, account_id, chat_id, research_id, title, time.time()),
            )

    def find(self, key: str) -> ResearchEntry | None:
        with self._locked() as db:
            row = db.execute("SELECT * FROM researches WHERE key = ?", (key,)).fetchone()
        return ResearchEntry(*row) if row else None


class ThreadedResearchRegistry(Threaded[ResearchRegistry]):
    """``ResearchRegistry`` as the async ``ResearchLog``: each call in a worker thread."""

    open = threaded(ResearchRegistry.open)
    close = threaded(ResearchRegistry.close)
    record = threaded(ResearchRegistry.record)
    find = threaded(ResearchRegistry.find)
