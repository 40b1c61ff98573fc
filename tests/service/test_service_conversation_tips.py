"""Conversations continue only from their chat's tip (issue 11 item 2), and ``delete_chats``
removes exactly the chats it should (issue 7 point 5), over HTTP with the scripted pool."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import openai
import pytest

from browser import TurnSnapshot, UpstreamTimeout
from service.chat.inputs import FOLD_PREAMBLE
from service.conversations import DEAD, ChatRef, ConversationStore
from tests.service.conftest import Served
from tests.service.scripted_pool import Pause, Script, ScriptedPool, growing
from tests.support.state_backends import SharedState

FIRST = [{"role": "user", "content": "Hi"}]


def follow_up(answer: str, question: str = "And then?") -> list[dict[str, str]]:
    return [*FIRST, {"role": "assistant", "content": answer}, {"role": "user", "content": question}]


def ask(served: Served, messages: list[dict[str, str]]) -> str:
    reply = served.client().chat.completions.create(model="gemini-2.5-flash", messages=messages)  # type: ignore[arg-type]
    return reply.choices[0].message.content or ""


# -- the store --


async def test_store_continues_only_from_the_tip(state_backend: SharedState) -> None:
    store = (await state_backend.replica(ttl=60)).conversations  # SQLite and Redis alike
    first = store.advance("h1", "acct", "c_1", None)
    assert first == ChatRef("acct", "c_1", 1)
    claimed = store.claim("h1")
    assert claimed == first
    assert store.claim("h1") is None, "a claimed tip is not handed out twice"
    store.advance("h2", "acct", "c_1", claimed)
    assert store.claim("h1") is None, "h1 is no longer the tip once turn 2 was answered"
    second = store.claim("h2")
    assert second == ChatRef("acct", "c_1", 2)
    store.release(second, touched=False)
    assert store.claim("h2") == second, "an untouched release frees the tip"
    store.release(second, touched=True)
    assert store.claim("h2") is None, "a touched release kills the chat"
    assert not store.is_mapped("acct", "c_1")


def test_old_rows_without_positions_are_folded_not_continued(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    import sqlite3

    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE conversations (key TEXT PRIMARY KEY, account_id TEXT NOT NULL,"
        " chat_id TEXT NOT NULL, expires_at REAL NOT NULL);"
        "INSERT INTO conversations VALUES ('old', 'acct', 'c_9', 99999999999);"
    )
    db.commit()
    db.close()
    with ConversationStore(path, ttl=60) as store:
        assert store.lookup("old") == ChatRef("acct", "c_9", 0)
        assert store.claim("old") is None


# -- over HTTP --


def test_sending_the_same_history_twice_does_not_type_into_the_same_chat(gateway: Served) -> None:
    """The reviewed defect: a regenerate typed into the chat again ("Turn 3 … seen: 2")."""
    pool = gateway.pool
    pool.queue(
        Script(growing("Hello!", cid="c_1")),
        Script(growing("Then A.", cid="c_1")),
        Script(growing("Then B.", cid="c_2")),
    )
    ask(gateway, FIRST)
    ask(gateway, follow_up("Hello!"))
    ask(gateway, follow_up("Hello!"))  # a regenerate: the same history again
    _, continued, regenerated = pool.requests
    assert continued.chat_id == "c_1" and continued.prompt == "And then?"
    assert regenerated.chat_id is None and regenerated.prompt.startswith(FOLD_PREAMBLE)
    assert "[Assistant]\nHello!" in regenerated.prompt


def test_the_newest_branch_still_continues(gateway: Served) -> None:
    pool = gateway.pool
    pool.queue(
        Script(growing("Hello!", cid="c_1")),
        Script(growing("Then A.", cid="c_1")),
        Script(growing("Then C.", cid="c_1")),
    )
    ask(gateway, FIRST)
    second = ask(gateway, follow_up("Hello!"))
    history = [
        *follow_up("Hello!"),
        {"role": "assistant", "content": second},
        {"role": "user", "content": "More"},
    ]
    ask(gateway, history)
    assert pool.requests[2].chat_id == "c_1" and pool.requests[2].prompt == "More"


def test_parallel_forks_continue_at_most_once(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool()
    served = serve_gateway(pool)
    pool.queue(Script(growing("Hello!", cid="c_1")))
    ask(served, FIRST)
    # Both forks are in flight together: the first holds its claim while it answers.
    pool.queue(
        Script([Pause(0.5), *growing("Fork 1.", cid="c_1")]),
        Script(growing("Fork 2.", cid="c_3")),
    )
    results: list[str] = []
    first_started = threading.Event()

    def fork(question: str) -> None:
        results.append(ask(served, follow_up("Hello!", question)))

    one = threading.Thread(target=fork, args=("Fork one?",))
    one.start()
    # Wait until the first fork's turn was leased (its request is recorded), then send the second.
    for _ in range(200):
        if len(pool.requests) >= 2:
            first_started.set()
            break
        threading.Event().wait(0.01)
    assert first_started.is_set()
    fork("Fork two?")
    one.join(10)
    continued = [r for r in pool.requests[1:] if r.chat_id == "c_1"]
    assert len(continued) == 1, [r.chat_id for r in pool.requests]


def test_a_failed_continuation_kills_the_chat(gateway: Served) -> None:
    pool = gateway.pool
    stalled = [growing("Partial", cid="c_1")[0], UpstreamTimeout("stalled")]
    pool.queue(Script(growing("Hello!", cid="c_1")), Script(stalled))
    ask(gateway, FIRST)
    with pytest.raises(openai.APIStatusError):
        ask(gateway, follow_up("Hello!"))
    ask(gateway, follow_up("Hello!"))  # retry: the chat may hold the failed prompt now
    retry = pool.requests[2]
    assert retry.chat_id is None and retry.prompt.startswith(FOLD_PREAMBLE)


# -- delete_chats --


def _failing(cid: str) -> Script:
    return Script([TurnSnapshot(cid=cid, text="Half", frames=1), UpstreamTimeout("stalled")])


def test_after_turn_deletes_the_chats_that_will_not_be_continued(
    serve_gateway: Callable[..., Served],
) -> None:
    pool = ScriptedPool()
    served = serve_gateway(pool, delete_chats="after_turn")
    pool.queue(Script(growing("Hello!", cid="c_kept")), _failing("c_failed"))
    ask(served, FIRST)
    with pytest.raises(openai.APIStatusError):
        ask(served, [{"role": "user", "content": "Another"}])
    assert pool.deletion_seen.wait(10)
    assert pool.deleted == [("acct-1", "c_failed")], "only the chat nobody can continue goes"


def test_after_turn_deletes_a_dead_continued_chat(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool()
    served = serve_gateway(pool, delete_chats="after_turn")
    pool.queue(Script(growing("Hello!", cid="c_1")), _failing("c_1"))
    ask(served, FIRST)
    with pytest.raises(openai.APIStatusError):
        ask(served, follow_up("Hello!"))
    assert pool.deletion_seen.wait(10)
    assert pool.deleted == [("acct-1", "c_1")]


def test_never_deletes_nothing(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool()
    served = serve_gateway(pool)
    pool.queue(_failing("c_failed"), Script(growing("Next", cid="c_next")))
    with pytest.raises(openai.APIStatusError):
        ask(served, FIRST)
    ask(served, [{"role": "user", "content": "Another"}])
    assert not pool.deletion_seen.wait(0.5)
    assert pool.deleted == []


def test_on_expiry_deletes_when_the_mapping_expires(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool()
    served = serve_gateway(
        pool, delete_chats="on_expiry", conversation_ttl=0.3, conversation_purge_interval=0.1
    )
    pool.queue(_failing("c_failed"), Script(growing("Hello!", cid="c_kept")))
    with pytest.raises(openai.APIStatusError):
        ask(served, FIRST)
    ask(served, [{"role": "user", "content": "Another"}])
    assert pool.deletion_seen.wait(10)
    assert pool.deleted == [("acct-1", "c_kept")], "on_expiry leaves unmapped chats alone"


def test_a_failed_deletion_is_retried_later_and_never_blocks_answers(
    tmp_path: Path, serve_gateway: Callable[..., Served]
) -> None:
    from browser import TargetClosed

    pool = ScriptedPool(delete_error=TargetClosed("no page"))
    served = serve_gateway(pool, delete_chats="after_turn")
    pool.queue(_failing("c_x"))
    with pytest.raises(openai.APIStatusError):
        ask(served, FIRST)
    assert ask(served, [{"role": "user", "content": "Still answering?"}]).startswith("You said:")
    with ConversationStore(served.settings.conversations_path, ttl=60) as store:
        pending = store.pending_deletions()
    assert [(p.account_id, p.chat_id) for p in pending] == [("acct-1", "c_x")]
    assert DEAD < 0
