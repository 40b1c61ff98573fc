"""``item_reference`` input items (issue 18, item 1), as the Vercel AI SDK sends them with ``store``
on: a later request names earlier output (messages, function calls, reasoning) and input items of
this key's stored responses by id, and the gateway reads them as the items they name; the history
so rebuilt continues the same Gemini chat. An id that names nothing of this key's is a 404 naming
it. Also ``GET /responses/{id}/input_items``. Over real HTTP on a ScriptedPool."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.service.conftest import API_KEY, Served
from tests.service.scripted_pool import Script, growing
from tests.service.test_compat_responses import CALL, WEATHER, post

FLASH = "gemini-2.5-flash"


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "input_text", "text": text}]}


def ref(item_id: str) -> dict[str, Any]:
    return {"type": "item_reference", "id": item_id}


def test_a_second_turn_references_the_first_answer_and_continues_its_chat(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("Hello, human.", cid="c_ai")), Script(growing("Again!", cid="c_ai")))
    first = post(gateway, {"model": FLASH, "input": [user("hello there")]}).json()
    (message,) = first["output"]
    second = post(
        gateway, {"model": FLASH, "input": [user("hello there"), ref(message["id"]), user("again")]}
    )
    assert second.status_code == 200, second.text
    assert second.json()["output"][0]["content"][0]["text"] == "Again!"
    continued = gateway.pool.requests[-1]
    assert continued.chat_id == "c_ai" and continued.prompt == "again"  # only the new turn is typed


def test_a_reference_without_a_type_is_read_too(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("One.", cid="c_bare")), Script(growing("Two.", cid="c_bare")))
    first = post(gateway, {"model": FLASH, "input": "one"}).json()
    bare = {"id": first["output"][0]["id"]}  # the SDK's ItemReference: ``type`` is optional
    second = post(gateway, {"model": FLASH, "input": [user("one"), bare, user("two")]})
    assert second.status_code == 200 and gateway.pool.requests[-1].chat_id == "c_bare"


def test_a_multi_step_tool_loop_references_the_text_before_the_call(gateway: Served) -> None:
    gateway.pool.queue(
        Script(growing(f"I will call get_weather.\n\n{CALL}", cid="c_loop")),
        Script(growing("It is 21 C in Paris.", cid="c_loop")),
    )
    first = post(gateway, {"model": FLASH, "input": [user("weather in Paris?")], "tools": [WEATHER]}).json()
    message, call = first["output"]
    assert message["type"] == "message" and call["type"] == "function_call"
    follow = [
        user("weather in Paris?"),
        ref(message["id"]),
        {
            "type": "function_call",
            "call_id": call["call_id"],
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
        },
        {"type": "function_call_output", "call_id": call["call_id"], "output": "21 C"},
    ]
    second = post(gateway, {"model": FLASH, "input": follow, "tools": [WEATHER]})
    assert second.status_code == 200, second.text
    continued = gateway.pool.requests[-1]
    assert continued.chat_id == "c_loop"
    assert f"[Tool result] get_weather (call {call['call_id']}):\n21 C" in continued.prompt


def test_function_call_and_reasoning_items_are_referenced_too(gateway: Served) -> None:
    thinking = Script(growing(CALL, thoughts="Think about Paris.", cid="c_refs", label="3.1 Pro"))
    gateway.pool.queue(thinking, Script(growing("Done.", cid="c_refs")))
    first = post(gateway, {"model": "gemini-2.5-pro", "input": [user("weather?")], "tools": [WEATHER]}).json()
    reasoning, call = first["output"]
    assert reasoning["type"] == "reasoning" and call["type"] == "function_call"
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "sunny"}
    body = {
        "model": "gemini-2.5-pro",
        "input": [user("weather?"), ref(reasoning["id"]), ref(call["id"]), output],
    }
    second = post(gateway, {**body, "tools": [WEATHER]})
    assert second.status_code == 200, second.text
    assert gateway.pool.requests[-1].chat_id == "c_refs"


def test_input_items_are_listed_and_can_be_referenced(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("Noted.", cid="c_in")))
    first = post(gateway, {"model": FLASH, "input": [user("remember the number 42"), user("and 7")]}).json()
    listed = httpx.get(
        f"{gateway.url}/v1/responses/{first['id']}/input_items",
        params={"order": "asc"},
        headers={"Authorization": f"Bearer {API_KEY}"},
    ).json()
    assert listed["object"] == "list" and listed["has_more"] is False
    texts = [item["content"][0]["text"] for item in listed["data"]]
    assert texts == ["remember the number 42", "and 7"]
    assert all(item["id"].startswith("msg_") for item in listed["data"])
    newest_first = gateway.client().responses.input_items.list(first["id"], limit=1)
    assert [item.id for item in newest_first.data] == [listed["data"][1]["id"]] and newest_first.has_more
    second = post(gateway, {"model": FLASH, "input": [ref(listed["data"][0]["id"]), user("which number?")]})
    assert second.status_code == 200
    assert "remember the number 42" in gateway.pool.requests[-1].prompt  # folded into a new chat


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_an_unknown_id_is_a_404_naming_it(gateway: Served, stream: bool) -> None:
    response = post(
        gateway, {"model": FLASH, "input": [user("hi"), ref("msg_nothing_here")], "stream": stream}
    )
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert "msg_nothing_here" in error["message"] and error["param"] == "input[1]"
    assert gateway.pool.requests == []


def test_another_keys_items_and_unstored_answers_cannot_be_referenced(gateway: Served) -> None:
    mine = post(gateway, {"model": FLASH, "input": "mine"}).json()
    theirs = post(
        gateway, {"model": FLASH, "input": [ref(mine["output"][0]["id"]), user("x")]}, key="sk-other-key"
    )
    assert theirs.status_code == 404
    unstored = post(gateway, {"model": FLASH, "input": "private", "store": False}).json()
    again = post(gateway, {"model": FLASH, "input": [ref(unstored["output"][0]["id"]), user("x")]})
    assert again.status_code == 404
    assert len(gateway.pool.requests) == 2


def test_a_reference_without_an_id_is_a_400(gateway: Served) -> None:
    response = post(gateway, {"model": FLASH, "input": [{"type": "item_reference"}, user("x")]})
    assert response.status_code == 400 and response.json()["error"]["param"] == "input[0].id"


def test_the_openai_client_sends_references(gateway: Served) -> None:
    client = gateway.client()
    gateway.pool.queue(Script(growing("First.", cid="c_sdk")), Script(growing("Second.", cid="c_sdk")))
    first = client.responses.create(model=FLASH, input="one")
    second = client.responses.create(
        model=FLASH,
        input=[
            {"role": "user", "content": "one"},
            {"type": "item_reference", "id": first.output[0].id},
            {"role": "user", "content": "two"},
        ],
    )
    assert second.output_text == "Second." and gateway.pool.requests[-1].chat_id == "c_sdk"
    assert json.loads(second.model_dump_json())["status"] == "completed"
