"""The Conversations API and ``conversation`` on Responses (issue 18, item 7), with the official
openai client on a ScriptedPool: a conversation the client names and continues (its items grow with
each response, and the next response continues the same Gemini chat), its items listed, added,
fetched and deleted, per-key ownership, and a conversation that outlives a restart."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from service.app import create_app
from tests.service.conftest import API_KEY, Served, _factory, settings_for
from tests.service.scripted_pool import Script, ScriptedPool, growing
from tests.support.servers import serve

FLASH = "gemini-2.5-flash"


def test_a_conversation_is_created_named_and_continued(gateway: Served) -> None:
    client = gateway.client()
    conversation = client.conversations.create(
        items=[{"type": "message", "role": "user", "content": "My name is Ada."}], metadata={"topic": "names"}
    )
    assert conversation.id.startswith("conv_") and conversation.metadata == {"topic": "names"}
    gateway.pool.queue(Script(growing("Nice to meet you, Ada.", cid="c_conv")))
    first = client.responses.create(model=FLASH, input="Remember it.", conversation=conversation.id)
    assert first.conversation is not None and first.conversation.id == conversation.id
    assert "My name is Ada." in gateway.pool.requests[0].prompt  # the conversation's items come first
    gateway.pool.queue(Script(growing("Your name is Ada.", cid="c_conv")))
    second = client.responses.create(
        model=FLASH, input="What is my name?", conversation={"id": conversation.id}
    )
    assert second.output_text == "Your name is Ada."
    continued = gateway.pool.requests[-1]
    assert continued.chat_id == "c_conv" and continued.prompt == "What is my name?"
    items = client.conversations.items.list(conversation.id, order="asc")
    texts = [item.content[0].text for item in items.data]  # type: ignore[union-attr]
    assert texts == [
        "My name is Ada.",
        "Remember it.",
        "Nice to meet you, Ada.",
        "What is my name?",
        "Your name is Ada.",
    ]
    assert [item.role for item in items.data] == ["user", "user", "assistant", "user", "assistant"]  # type: ignore[union-attr]


def test_items_are_added_fetched_and_deleted(gateway: Served) -> None:
    client = gateway.client()
    conversation = client.conversations.create()
    added = client.conversations.items.create(
        conversation.id,
        items=[
            {"type": "message", "role": "user", "content": "one"},
            {"type": "message", "role": "assistant", "content": "two"},
        ],
    )
    first, second = added.data
    assert first.id.startswith("msg_") and added.first_id == first.id and added.last_id == second.id
    fetched = client.conversations.items.retrieve(second.id, conversation_id=conversation.id)
    assert fetched.content[0].text == "two"  # type: ignore[union-attr]
    page = client.conversations.items.list(conversation.id, limit=1)
    assert [item.id for item in page.data] == [second.id] and page.has_more  # newest first by default
    after = client.conversations.items.list(conversation.id, limit=1, after=second.id)
    assert [item.id for item in after.data] == [first.id]
    client.conversations.items.delete(first.id, conversation_id=conversation.id)
    assert [item.id for item in client.conversations.items.list(conversation.id).data] == [second.id]
    with pytest.raises(openai.NotFoundError):
        client.conversations.items.retrieve(first.id, conversation_id=conversation.id)


def test_metadata_is_updated_and_the_conversation_deleted(gateway: Served) -> None:
    client = gateway.client()
    conversation = client.conversations.create(metadata={"a": "1"})
    updated = client.conversations.update(conversation.id, metadata={"b": "2"})
    assert updated.metadata == {"b": "2"} and client.conversations.retrieve(conversation.id).metadata == {
        "b": "2"
    }
    deleted = client.conversations.delete(conversation.id)
    assert deleted.deleted and deleted.id == conversation.id
    with pytest.raises(openai.NotFoundError):
        client.conversations.retrieve(conversation.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model=FLASH, input="hi", conversation=conversation.id)
    assert gateway.pool.requests == []


def test_another_key_sees_no_conversation(gateway: Served) -> None:
    conversation = gateway.client().conversations.create()
    other = gateway.client(key="sk-other-key")
    with pytest.raises(openai.NotFoundError):
        other.conversations.retrieve(conversation.id)
    with pytest.raises(openai.NotFoundError):
        other.conversations.items.list(conversation.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.create(model=FLASH, input="hi", conversation=conversation.id)
    assert gateway.pool.requests == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"items": [{"type": "message", "role": "user", "content": "  "}]}, "items[0].content"),
        ({"items": [{"type": "web_search_call"}]}, "items[0]"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"items": [{"type": "item_reference", "id": "msg_none"}]}, "items[0]"),
    ],
)
def test_bad_conversations_are_refused(gateway: Served, body: dict[str, Any], param: str) -> None:
    response = httpx.post(
        f"{gateway.url}/v1/conversations", json=body, headers={"Authorization": f"Bearer {API_KEY}"}
    )
    assert response.status_code in (400, 404), response.text
    assert response.json()["error"]["param"] == param


def test_conversation_and_previous_response_id_are_exclusive(gateway: Served) -> None:
    client = gateway.client()
    conversation = client.conversations.create()
    first = client.responses.create(model=FLASH, input="one")
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(
            model=FLASH, input="two", conversation=conversation.id, previous_response_id=first.id
        )
    assert refused.value.body["param"] == "conversation"  # type: ignore[index]


def test_a_failed_response_adds_nothing_to_its_conversation(gateway: Served) -> None:
    client = gateway.client()
    conversation = client.conversations.create()
    gateway.pool.queue(Script([]))  # no answer at all: 502
    with pytest.raises(openai.APIStatusError):
        client.responses.create(model=FLASH, input="lost", conversation=conversation.id)
    assert client.conversations.items.list(conversation.id).data == []


@contextmanager
def _gateway(tmp_path: Path) -> Iterator[openai.OpenAI]:
    pool = ScriptedPool()
    with serve(create_app(settings_for(tmp_path), pool_factory=_factory(pool))) as url:
        yield openai.OpenAI(api_key=API_KEY, base_url=url + "/v1", max_retries=0, timeout=15)


def test_a_conversation_outlives_a_restart(tmp_path: Path) -> None:
    with _gateway(tmp_path) as client:
        conversation = client.conversations.create(metadata={"kept": "yes"})
        client.responses.create(model=FLASH, input="before the restart", conversation=conversation.id)
    with _gateway(tmp_path) as client:
        assert client.conversations.retrieve(conversation.id).metadata == {"kept": "yes"}
        items = client.conversations.items.list(conversation.id, order="asc").data
        assert items[0].content[0].text == "before the restart"  # type: ignore[union-attr]
