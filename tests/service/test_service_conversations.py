"""The conversation store: a real SQLite file, TTL expiry, key isolation, normalisation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from service.chat.protocol import ChatMessage
from service.conversations import ChatRef, ConversationStore, conversation_key
from tests.support.state_backends import SharedState


def msg(role: str, content: str) -> ChatMessage:
    return ChatMessage.model_validate({"role": role, "content": content})


HISTORY = [msg("system", "Be brief."), msg("user", "Hi"), msg("assistant", "Hello!")]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_remember_lookup_and_persistence(tmp_path: Path) -> None:
    path = tmp_path / "data" / "conversations.sqlite3"
    key = conversation_key("caller-a", "flash", HISTORY)
    with ConversationStore(path, ttl=60) as store:
        assert store.lookup(key) is None
        store.remember(key, ChatRef("acct-1", "c_1"))
        store.remember(key, ChatRef("acct-2", "c_2"))  # an upsert, not a duplicate
        assert store.lookup(key) == ChatRef("acct-2", "c_2")
    with ConversationStore(path, ttl=60) as reopened:
        assert reopened.lookup(key) == ChatRef("acct-2", "c_2")
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert "Hello" not in path.read_bytes().decode("latin-1")  # only digests are stored


async def test_entries_expire_after_the_ttl(state_backend: SharedState) -> None:
    clock = Clock()
    key = conversation_key("caller-a", "flash", HISTORY)
    store = (await state_backend.replica(ttl=60, clock=clock)).conversations  # SQLite and Redis alike
    store.remember(key, ChatRef("acct-1", "c_1"))
    clock.now += 59
    assert store.lookup(key) is not None
    clock.now += 2
    assert store.lookup(key) is None
    assert store.expire()[0] == 1
    assert store.expire()[0] == 0


def test_keys_isolate_callers_and_families() -> None:
    base = conversation_key("caller-a", "flash", HISTORY)
    assert conversation_key("caller-b", "flash", HISTORY) != base
    assert conversation_key("caller-a", "pro", HISTORY) != base
    assert conversation_key("caller-a", "flash", HISTORY[:2]) != base


async def test_one_key_never_finds_another_keys_chat(state_backend: SharedState) -> None:
    store = (await state_backend.replica(ttl=60)).conversations
    store.remember(conversation_key("caller-a", "flash", HISTORY), ChatRef("acct-1", "c_1"))
    assert store.lookup(conversation_key("caller-b", "flash", HISTORY)) is None


def test_normalisation_tolerates_whitespace_and_developer_role() -> None:
    echoed = [msg("developer", "Be brief.\n"), msg("user", " Hi"), msg("assistant", "Hello!\n\n")]
    assert conversation_key("a", "flash", echoed) == conversation_key("a", "flash", HISTORY)
    changed = [msg("system", "Be brief."), msg("user", "Hi"), msg("assistant", "Hello?")]
    assert conversation_key("a", "flash", changed) != conversation_key("a", "flash", HISTORY)


def test_forget_and_closed_store(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3", ttl=60)
    store.open()
    store.remember("k", ChatRef("a", "c"))
    store.forget("k")
    assert store.lookup("k") is None
    store.close()
    with pytest.raises(RuntimeError, match="not open"):
        store.lookup("k")
