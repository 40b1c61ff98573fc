"""Schema versions (``service.private_sqlite``): every store's file carries ``PRAGMA user_version``
and opening it applies the steps it lacks, in one transaction. A data directory written before
versions existed (today's layout, and older ones) upgrades in place with its rows; a future column
is one more step; a failed step leaves the file as it was; a file newer than the code is refused."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from browser import AccountSpec
from service.admin.registry import AddedAccounts
from service.chat.longrun_registry import ResearchRegistry
from service.conversations import ChatRef, ConversationStore
from service.conversations_api.store import ConversationObjects
from service.keys import KeyStore, key_digest
from service.private_sqlite import Migration, PrivateStore, schema_version
from service.responses.schema import RESPONSES_FILE
from service.responses.store import ResponseStore
from service.videos.store import VideoStore

# The files as the gateway wrote them before schema versions (user_version 0), one row each: the
# statements are those of the stores at that time, frozen here on purpose.
TODAY = {
    "conversations.sqlite3": """
CREATE TABLE conversations (key TEXT PRIMARY KEY, account_id TEXT NOT NULL, chat_id TEXT NOT NULL,
    expires_at REAL NOT NULL);
CREATE INDEX conversations_expiry ON conversations (expires_at);
CREATE TABLE chats (account_id TEXT NOT NULL, chat_id TEXT NOT NULL, tip INTEGER NOT NULL,
    claimed_until REAL NOT NULL DEFAULT 0, PRIMARY KEY (account_id, chat_id));
CREATE TABLE chat_deletions (account_id TEXT NOT NULL, chat_id TEXT NOT NULL, due_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (account_id, chat_id));
ALTER TABLE conversations ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;
INSERT INTO conversations VALUES ('k1', 'acct-1', 'c_1', 4102444800, 3);
INSERT INTO chats VALUES ('acct-1', 'c_1', 3, 0);
""",
    "keys.sqlite3": """
CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, digest TEXT NOT NULL UNIQUE,
    shown TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL, max_concurrent INTEGER,
    per_minute INTEGER, accounts TEXT, revoked_at REAL, last_used_at REAL,
    requests INTEGER NOT NULL DEFAULT 0, scopes TEXT);
INSERT INTO api_keys (id, name, digest, shown, created_at, scopes)
    VALUES ('key_today0000', 'today', '{digest}', 'gw-tod…', 1.0, '["flash"]');
""",
    "responses.sqlite3": """
CREATE TABLE responses (id TEXT PRIMARY KEY, identity TEXT NOT NULL, created REAL NOT NULL,
    body TEXT NOT NULL, history TEXT NOT NULL);
CREATE TABLE response_items (response_id TEXT NOT NULL, identity TEXT NOT NULL, side TEXT NOT NULL,
    position INTEGER NOT NULL, item_id TEXT NOT NULL, item TEXT NOT NULL,
    PRIMARY KEY (response_id, side, position));
CREATE INDEX response_items_by_id ON response_items (identity, item_id);
ALTER TABLE responses ADD COLUMN status TEXT NOT NULL DEFAULT 'completed';
ALTER TABLE responses ADD COLUMN events TEXT;
CREATE TABLE api_conversations (id TEXT PRIMARY KEY, identity TEXT NOT NULL,
    created_at INTEGER NOT NULL, updated REAL NOT NULL, metadata TEXT NOT NULL);
CREATE TABLE api_conversation_items (conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
    item_id TEXT NOT NULL, item TEXT NOT NULL, PRIMARY KEY (conversation_id, seq));
CREATE INDEX api_conversation_items_by_id ON api_conversation_items (conversation_id, item_id);
INSERT INTO responses VALUES ('resp_1', 'who', {now}, '{{"id": "resp_1", "status": "completed"}}', '[]',
    'completed', NULL);
INSERT INTO api_conversations VALUES ('conv_1', 'who', 1, {now}, '{{"topic": "tides"}}');
""",
    "videos.sqlite3": """
CREATE TABLE videos (id TEXT PRIMARY KEY, owner TEXT NOT NULL, model TEXT NOT NULL,
    prompt TEXT NOT NULL, typed TEXT NOT NULL, seconds TEXT NOT NULL, size TEXT NOT NULL,
    status TEXT NOT NULL, progress INTEGER NOT NULL, created_at INTEGER NOT NULL,
    completed_at INTEGER, expires_at INTEGER, error_code TEXT, error_message TEXT, account_id TEXT,
    chat_id TEXT, video_url TEXT, thumbnail_url TEXT, seq INTEGER NOT NULL);
INSERT INTO videos (id, owner, model, prompt, typed, seconds, size, status, progress, created_at, seq)
    VALUES ('video_1', 'who', 'gemini-2.5-pro-video', 'a heron', 'a heron', '8', '1280x720',
    'completed', 100, 1, 1);
""",
    "researches.sqlite3": """
CREATE TABLE researches (key TEXT PRIMARY KEY, account_id TEXT NOT NULL, chat_id TEXT NOT NULL,
    research_id TEXT NOT NULL, title TEXT, created_at REAL NOT NULL);
INSERT INTO researches VALUES ('k1', 'acct-1', 'c_1', 'rid', 'Tides', 1.0);
""",
    "added_accounts.sqlite3": """
CREATE TABLE added_accounts (id TEXT PRIMARY KEY, session TEXT NOT NULL, spec TEXT NOT NULL,
    added_at REAL NOT NULL);
INSERT INTO added_accounts VALUES ('acct-x', 'digest', '{spec}', 1.0);
""",
}


def _write(path: Path, script: str) -> None:
    db = sqlite3.connect(path)
    db.executescript(script)
    db.commit()
    db.close()


def _version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return schema_version(db)
    finally:
        db.close()


def _columns(path: Path, table: str) -> list[str]:
    db = sqlite3.connect(path)
    try:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    finally:
        db.close()


def _todays_data_dir(data: Path) -> None:
    data.mkdir()
    spec = json.dumps({"name": "acct-x", "psid": "paid-x", "psidts": None, "cookies": None})
    values = {"digest": key_digest("gw-today-key"), "now": time.time(), "spec": spec.replace("'", "''")}
    for name, script in TODAY.items():
        _write(data / name, script.format(**values) if "{" in script else script)


def test_a_data_directory_of_todays_layout_upgrades_with_its_rows(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _todays_data_dir(data)
    assert {_version(data / name) for name in TODAY} == {0}
    for _ in range(2):  # the second opening finds every file current and changes nothing
        with ConversationStore(data / "conversations.sqlite3", ttl=3600) as conversations:
            assert conversations.lookup("k1") == ChatRef("acct-1", "c_1", 3)
            claimed = conversations.claim("k1")
            assert claimed == ChatRef("acct-1", "c_1", 3)  # at its chat's tip: continued
            conversations.release(claimed, touched=False)
        with KeyStore(data / "keys.sqlite3") as keys:
            caller = keys.lookup("gw-today-key")
            assert caller is not None and caller.scopes == frozenset({"flash"})
        with ResponseStore(data / "responses.sqlite3", ttl=3600, purge_interval=60) as responses:
            stored = responses.get("who", "resp_1")
            assert stored is not None and stored.body["status"] == "completed"
        with ConversationObjects(data / "responses.sqlite3", ttl=3600, purge_interval=60) as objects:
            found = objects.get("who", "conv_1")
            assert found is not None and found["metadata"] == {"topic": "tides"}
        videos = VideoStore(data)
        record = videos.get("video_1")
        videos.close()
        assert record is not None and record.status == "completed"
        registry = ResearchRegistry(data / "researches.sqlite3")
        entry = registry.find("k1")
        registry.close()
        assert entry is not None and entry.research_id == "rid"
        with AddedAccounts(data / "added_accounts.sqlite3") as added:
            assert [(a.id, a.spec) for a in added.all()] == [
                ("acct-x", AccountSpec(name="acct-x", psid="paid-x"))
            ]
        versions = {name: _version(data / name) for name in TODAY}
        assert versions == {
            "conversations.sqlite3": len(ConversationStore.schema),
            "keys.sqlite3": len(KeyStore.schema),
            "responses.sqlite3": len(RESPONSES_FILE),
            "videos.sqlite3": 1,
            "researches.sqlite3": 1,
            "added_accounts.sqlite3": 1,
        }
    # The upgrade added nothing twice: the columns are today's, in today's order.
    assert _columns(data / "conversations.sqlite3", "conversations")[-1] == "turn"
    assert _columns(data / "responses.sqlite3", "responses")[-2:] == ["status", "events"]


def test_older_layouts_gain_the_columns_they_lack(tmp_path: Path) -> None:
    conversations, responses = tmp_path / "conversations.sqlite3", tmp_path / "responses.sqlite3"
    _write(
        conversations,
        "CREATE TABLE conversations (key TEXT PRIMARY KEY, account_id TEXT NOT NULL, chat_id TEXT NOT NULL,"
        " expires_at REAL NOT NULL); INSERT INTO conversations VALUES ('k0', 'acct-1', 'c_0', 4102444800);",
    )
    now = time.time()
    _write(
        responses,
        "CREATE TABLE responses (id TEXT PRIMARY KEY, identity TEXT NOT NULL, created REAL NOT NULL,"
        " body TEXT NOT NULL, history TEXT NOT NULL);"
        f""" INSERT INTO responses VALUES ('resp_0', 'who', {now}, '{{"id": "resp_0"}}', '[]');""",
    )
    with ConversationStore(conversations, ttl=3600) as store:
        # Turn 0 is never a chat's tip: a mapping from before positions is folded, not continued.
        assert store.lookup("k0") == ChatRef("acct-1", "c_0", 0) and store.claim("k0") is None
    with ResponseStore(responses, ttl=3600, purge_interval=60) as store:
        stored = store.get("who", "resp_0")
        assert stored is not None and stored.events is None
    assert "turn" in _columns(conversations, "conversations")
    assert {"status", "events"} <= set(_columns(responses, "responses"))
    assert {"api_conversations", "api_conversation_items"} <= _tables(responses)


def _tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


class _Notes(PrivateStore):
    _what = "the notes"
    schema = (Migration("CREATE TABLE notes (id TEXT PRIMARY KEY, text TEXT NOT NULL)"),)


class _NotesWithStars(_Notes):
    # A future column: one more step, nothing else.
    schema = (*_Notes.schema, Migration("ALTER TABLE notes ADD COLUMN stars INTEGER NOT NULL DEFAULT 0"))


class _NotesBroken(_Notes):
    schema = (
        *_NotesWithStars.schema,
        Migration("CREATE TABLE tags (id TEXT); INSERT INTO nowhere VALUES (1)"),
    )


def test_a_future_column_is_one_more_step(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    with _Notes(path) as notes, notes._locked() as db:
        db.execute("INSERT INTO notes VALUES ('n1', 'kept')")
    assert _version(path) == 1
    with _NotesWithStars(path) as notes, notes._locked() as db:
        assert db.execute("SELECT id, text, stars FROM notes").fetchall() == [("n1", "kept", 0)]
    assert _version(path) == 2


def test_a_failed_step_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    with _Notes(path):
        pass
    with pytest.raises(sqlite3.OperationalError, match="nowhere"):
        _NotesBroken(path).open()
    # Neither the column of step 2 nor the table of step 3 stayed: one transaction.
    assert _version(path) == 1 and _columns(path, "notes") == ["id", "text"] and "tags" not in _tables(path)


def test_a_file_newer_than_the_gateway_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite3"
    with _NotesWithStars(path):
        pass
    with pytest.raises(RuntimeError, match=r"the notes \(notes.sqlite3\) is at schema version 2, newer"):
        _Notes(path).open()


def test_the_stores_sharing_the_responses_file_share_its_versions(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite3"
    with ConversationObjects(path, ttl=3600, purge_interval=60):
        pass
    assert _version(path) == len(RESPONSES_FILE)
    with ResponseStore(path, ttl=3600, purge_interval=60) as store:
        store.put("who", {"id": "resp_1", "status": "completed"}, [])
    assert _version(path) == len(RESPONSES_FILE)
