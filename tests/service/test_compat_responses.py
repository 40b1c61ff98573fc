"""The Responses API over real HTTP with the official openai client, on a ScriptedPool: text,
instructions, previous_response_id continuing the same chat, tools and function_call_output,
text.format, max_output_tokens, the stream's event sequence, reasoning items, GET and DELETE."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from tests.service.conftest import API_KEY, Served
from tests.service.scripted_pool import Script, growing

CALL = '```tool_call\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```'
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def post(served: Served, body: dict[str, Any], *, key: str = API_KEY) -> httpx.Response:
    return httpx.post(
        f"{served.url}/v1/responses", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=15
    )


def events(response: httpx.Response) -> list[dict[str, Any]]:
    lines = [line for line in response.text.split("\n\n") if line.startswith("data: {")]
    return [json.loads(line.removeprefix("data: ")) for line in lines]


def test_text_response_and_instructions(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("Bonjour.", cid="c_r1")))
    response = gateway.client().responses.create(
        model="gemini-2.5-flash", input="Say hello", instructions="Answer in French."
    )
    assert response.object == "response" and response.id.startswith("resp_")
    assert response.status == "completed" and response.output_text == "Bonjour."
    (item,) = response.output
    assert item.type == "message" and item.role == "assistant"
    assert response.usage is not None and response.usage.output_tokens == 2
    prompt = gateway.pool.requests[0].prompt
    assert "[System]\nAnswer in French." in prompt and "[User]\nSay hello" in prompt


def test_previous_response_id_continues_the_same_chat(gateway: Served) -> None:
    client = gateway.client()
    gateway.pool.queue(Script(growing("First answer.", cid="c_prev")))
    first = client.responses.create(model="gemini-2.5-flash", input="One", instructions="Be brief.")
    gateway.pool.queue(Script(growing("Second answer.", cid="c_prev")))
    second = client.responses.create(
        model="gemini-2.5-flash", input="Two", instructions="Be brief.", previous_response_id=first.id
    )
    assert second.output_text == "Second answer." and second.previous_response_id == first.id
    continued = gateway.pool.requests[-1]
    assert continued.chat_id == "c_prev" and continued.prompt == "Two"
    # Another key cannot see or continue it.
    other = post(
        gateway,
        {"model": "gemini-2.5-flash", "input": "x", "previous_response_id": first.id},
        key="sk-other-key",
    )
    assert other.status_code == 404


def test_function_tools_and_function_call_output(gateway: Served) -> None:
    client = gateway.client()
    gateway.pool.queue(Script(growing(CALL, cid="c_fc")))
    first = client.responses.create(model="gemini-2.5-flash", input="Weather in Paris?", tools=[WEATHER])  # type: ignore[list-item]
    (call,) = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"} and call.call_id.startswith("call_")
    gateway.pool.queue(Script(growing("It is 21 C.", cid="c_fc")))
    second = client.responses.create(
        model="gemini-2.5-flash",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "21 C"}],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert second.output_text == "It is 21 C."
    continued = gateway.pool.requests[-1]
    assert (
        continued.chat_id == "c_fc"
        and f"[Tool result] get_weather (call {call.call_id}):\n21 C" in continued.prompt
    )


def test_stateless_items_with_a_function_call_fold(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("Done.")))
    body = {
        "model": "gemini-2.5-flash",
        "store": False,
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": '{"city":"Oslo"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "cold"},
        ],
        "tools": [WEATHER],
    }
    result = post(gateway, body).json()
    assert result["output"][0]["content"][0]["text"] == "Done."
    assert get(gateway, result["id"]).status_code == 404  # store: false
    prompt = gateway.pool.requests[0].prompt
    assert '"city": "Oslo"' in prompt and "[Tool result] get_weather (call call_1):\ncold" in prompt


def get(served: Served, response_id: str, method: str = "GET") -> httpx.Response:
    return httpx.request(
        method,
        f"{served.url}/v1/responses/{response_id}",
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )


def test_get_and_delete(gateway: Served) -> None:
    created = post(gateway, {"model": "gemini-2.5-flash", "input": "Keep me"}).json()
    fetched = get(gateway, created["id"])
    assert fetched.status_code == 200 and fetched.json() == created
    gone = get(gateway, created["id"], "DELETE").json()
    assert gone == {"id": created["id"], "object": "response.deleted", "deleted": True}
    assert get(gateway, created["id"]).status_code == 404
    assert get(gateway, created["id"], "DELETE").status_code == 404


def test_text_format_json_schema(gateway: Served) -> None:
    gateway.pool.queue(Script(growing('```json\n{"city": "Paris"}\n```')))
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    response = gateway.client().responses.create(
        model="gemini-2.5-flash",
        input="Which city?",
        text={"format": {"type": "json_schema", "name": "answer", "schema": schema, "strict": True}},
    )
    assert json.loads(response.output_text) == {"city": "Paris"}
    assert "validates against this JSON Schema" in gateway.pool.requests[0].prompt


def test_max_output_tokens_is_incomplete(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("z" * 200, pieces=5)))
    result = post(gateway, {"model": "gemini-2.5-flash", "input": "Long", "max_output_tokens": 4}).json()
    assert result["status"] == "incomplete" and result["incomplete_details"] == {
        "reason": "max_output_tokens"
    }
    assert result["output"][0]["content"][0]["text"] == "z" * 16


def test_stream_event_sequence_with_reasoning(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("Paris is big.", thoughts="Hmm, Paris.", pieces=3)))
    seen = events(post(gateway, {"model": "gemini-2.5-flash", "input": "Paris?", "stream": True}))
    kinds = [event["type"] for event in seen]
    assert [event["sequence_number"] for event in seen] == list(range(len(seen)))
    assert kinds[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert kinds[-1] == "response.completed"
    for kind in (
        "response.reasoning_summary_text.delta",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ):
        assert kind in kinds
    assert kinds.index("response.reasoning_summary_text.done") < kinds.index("response.content_part.added")
    final = seen[-1]["response"]
    assert [item["type"] for item in final["output"]] == ["reasoning", "message"]
    assert final["output"][0]["summary"] == [{"type": "summary_text", "text": "Hmm, Paris."}]
    assert "".join(e["delta"] for e in seen if e["type"] == "response.output_text.delta") == "Paris is big."
    assert final["usage"]["output_tokens"] > 0


def test_stream_with_the_sdk_and_a_function_call(gateway: Served) -> None:
    gateway.pool.queue(Script(growing(f"Checking.\n\n{CALL}", pieces=6)))
    stream = gateway.client().responses.create(
        model="gemini-2.5-flash",
        input="Weather?",
        tools=[WEATHER],
        stream=True,  # type: ignore[list-item]
    )
    seen = list(stream)
    kinds = [event.type for event in seen]
    assert (
        "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    )
    final = seen[-1]
    assert final.type == "response.completed"
    message, call = final.response.output
    assert message.type == "message" and call.type == "function_call" and call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}


def test_stream_failure_after_the_start_is_response_failed(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("No call at all.")), Script(growing("Still none.")))
    body = {
        "model": "gemini-2.5-flash",
        "input": "x",
        "tools": [WEATHER],
        "tool_choice": "required",
        "stream": True,
    }
    seen = events(post(gateway, body))
    assert seen[-1]["type"] == "response.failed"
    assert seen[-1]["response"]["error"]["code"] == "invalid_tool_call"


@pytest.mark.parametrize(
    "body",
    [
        {"input": "x", "tools": [{"type": "web_search"}]},
        {"input": [{"type": "computer_call_output", "call_id": "x"}]},
        {"input": "x", "text": {"format": {"type": "yaml"}}},
    ],
)
def test_unsupported_shapes_are_400(gateway: Served, body: dict[str, Any]) -> None:
    response = post(gateway, {"model": "gemini-2.5-flash", **body})
    assert response.status_code == 400, response.text
    assert gateway.pool.requests == []


def test_unknown_model_is_404_before_the_stream(gateway: Served) -> None:
    with pytest.raises(openai.NotFoundError):
        gateway.client().responses.create(model="nope", input="x", stream=True)


def test_a_forced_function_with_text_format_answers_the_call(gateway: Served) -> None:
    """instructor's RESPONSES_TOOLS mode: a named tool_choice and text.format of the same schema."""
    gateway.pool.queue(Script(growing(CALL, cid="c_forced")))
    schema = WEATHER["parameters"]
    response = gateway.client().responses.create(
        model="gemini-2.5-flash",
        input="Weather in Paris?",
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "function", "name": "get_weather"},
        text={"format": {"type": "json_schema", "name": "get_weather", "schema": schema, "strict": True}},
    )
    (call,) = [item for item in response.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    assert "You must call the tool get_weather now" in gateway.pool.requests[0].prompt
