"""The schema of the responses file (``responses.sqlite3``), which two stores share: the stored
responses (``service.responses.store``) and the Conversations API's conversations
(``service.conversations_api.store``). A file has one ``user_version``, so the file has one list of
steps, which both stores declare whole: whichever opens it first brings it up to date."""

from __future__ import annotations

from service.private_sqlite import Migration

__all__ = ["RESPONSES_FILE"]

RESPONSES_FILE = (
    Migration("""
CREATE TABLE IF NOT EXISTS responses (
    id TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    created REAL NOT NULL,
    body TEXT NOT NULL,
    history TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS response_items (
    response_id TEXT NOT NULL,
    identity TEXT NOT NULL,
    side TEXT NOT NULL,
    position INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (response_id, side, position)
);
CREATE INDEX IF NOT EXISTS response_items_by_id ON response_items (identity, item_id);
"""),
    # Background responses: an older file's rows are completed ones.
    Migration(
        "ALTER TABLE responses ADD COLUMN status TEXT NOT NULL DEFAULT 'completed'", "responses.status"
    ),
    Migration("ALTER TABLE responses ADD COLUMN events TEXT", "responses.events"),
    Migration("""
CREATE TABLE IF NOT EXISTS api_conversations (
    id TEXT PRIMARY KEY,
    identity TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated REAL NOT NULL,
    metadata TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_conversation_items (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    item_id TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX IF NOT EXISTS api_conversation_items_by_id ON api_conversation_items (conversation_id, item_id);
"""),
)
