"""The stored responses are purged while the gateway runs, not only when it starts: an expired row
is deleted by the first write that finds the purge due."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from service.responses.store import ResponseStore


def _body(response_id: str) -> dict[str, object]:
    return {"id": response_id, "object": "response"}


def _ids(store: ResponseStore) -> list[str]:
    with sqlite3.connect(store.path) as db:
        return [row[0] for row in db.execute("SELECT id FROM responses ORDER BY id")]


def _age(store: ResponseStore, response_id: str) -> None:
    """Written two hours ago: aged in place rather than waited for."""
    db = sqlite3.connect(store.path, isolation_level=None)
    try:
        db.execute("UPDATE responses SET created = created - 7200 WHERE id = ?", (response_id,))
    finally:
        db.close()


def test_an_expired_response_is_purged_by_a_later_write(tmp_path: Path) -> None:
    with ResponseStore(tmp_path / "responses.sqlite3", ttl=3600, purge_interval=0) as store:
        store.put("key-a", _body("resp_old"), [])
        _age(store, "resp_old")
        assert store.get("key-a", "resp_old") is None  # expired rows are never read
        store.put("key-a", _body("resp_new"), [])
        assert _ids(store) == ["resp_new"]


def test_the_purge_waits_for_its_interval(tmp_path: Path) -> None:
    with ResponseStore(tmp_path / "responses.sqlite3", ttl=3600, purge_interval=3600) as store:
        store.put("key-a", _body("resp_old"), [])
        _age(store, "resp_old")
        store.put("key-a", _body("resp_new"), [])
        assert _ids(store) == ["resp_new", "resp_old"]  # purged at open; the next purge is not due
    with ResponseStore(tmp_path / "responses.sqlite3", ttl=3600, purge_interval=3600) as store:
        assert _ids(store) == ["resp_new"]  # opening purges
