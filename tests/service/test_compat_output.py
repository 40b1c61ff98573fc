"""Structured output, limits and reasoning formats over real HTTP on a ScriptedPool."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from tests.service.conftest import API_KEY, Served
from tests.service.scripted_pool import Script, growing

ASK = [{"role": "user", "content": "Describe Paris."}]
CITY = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["name", "population"],
    "additionalProperties": False,
}
SCHEMA_FORMAT = {"type": "json_schema", "json_schema": {"name": "city", "schema": CITY, "strict": True}}
GOOD = 'Sure.\n\n```json\n{"name": "Paris", "population": 2100000}\n```\n\nAnything else?'


def post(served: Served, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    return httpx.post(f"{served.url}/v1/chat/completions", json=body, headers=headers, timeout=15)


def sse(response: httpx.Response) -> list[dict[str, Any]]:
    lines = [line for line in response.text.split("\n\n") if line.startswith("data: {")]
    return [json.loads(line.removeprefix("data: ")) for line in lines]


def contents(events: list[dict[str, Any]]) -> str:
    return "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])


# Structured output.
def test_json_schema_answer_is_the_validated_document(gateway: Served) -> None:
    gateway.pool.queue(Script(growing(GOOD)))
    result = gateway.client().chat.completions.create(
        model="gemini-2.5-flash",
        messages=ASK,
        response_format=SCHEMA_FORMAT,  # type: ignore[arg-type]
    )
    assert json.loads(result.choices[0].message.content or "") == {"name": "Paris", "population": 2100000}
    prompt = gateway.pool.requests[0].prompt
    assert "validates against this JSON Schema" in prompt and '"required": ["name", "population"]' in prompt


def test_json_object_accepts_any_object_and_unescapes_markdown(gateway: Served) -> None:
    gateway.pool.queue(Script(growing('{"first\\_name": "Ada"}')))
    body = {"model": "gemini-2.5-flash", "messages": ASK, "response_format": {"type": "json_object"}}
    content = post(gateway, body).json()["choices"][0]["message"]["content"]
    assert json.loads(content) == {"first_name": "Ada"}
    assert "Answer with one JSON object." in gateway.pool.requests[0].prompt


def test_invalid_json_is_retried_once_in_the_same_chat(gateway: Served) -> None:
    gateway.pool.queue(
        Script(growing('```json\n{"name": "Paris"}\n```', cid="c_js")), Script(growing(GOOD, cid="c_js"))
    )
    body = {"model": "gemini-2.5-flash", "messages": ASK, "response_format": SCHEMA_FORMAT, "stream": True}
    events = sse(post(gateway, body))
    # Streaming delivers only the final valid document.
    assert json.loads(contents(events)) == {"name": "Paris", "population": 2100000}
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    first, again = gateway.pool.requests
    assert (
        first.chat_id is None
        and again.chat_id == "c_js"
        and "'population' is a required property" in again.prompt
    )
    assert gateway.pool.active == 0


def test_invalid_twice_is_a_clear_error(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("No JSON here.")), Script(growing("Still none.")))
    with pytest.raises(openai.APIStatusError) as caught:
        gateway.client().chat.completions.create(
            model="gemini-2.5-flash",
            messages=ASK,
            response_format=SCHEMA_FORMAT,  # type: ignore[arg-type]
        )
    assert caught.value.status_code == 502 and caught.value.code == "invalid_structured_output"


def test_a_broken_schema_is_400(gateway: Served) -> None:
    bad = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": 12}}}
    response = post(gateway, {"model": "gemini-2.5-flash", "messages": ASK, "response_format": bad})
    assert response.status_code == 400 and response.json()["error"]["param"] == "response_format"


# Limits.
def test_stop_cuts_before_the_sequence_and_stops_the_page(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("one two THREE four five six seven", pieces=6)))
    result = gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=ASK, stop=["THREE"])
    assert result.choices[0].message.content == "one two " and result.choices[0].finish_reason == "stop"
    assert gateway.pool.stops == 1


def test_stop_in_a_stream_never_leaks_the_sequence(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("alpha beta END gamma delta", pieces=26)))
    events = sse(post(gateway, {"model": "gemini-2.5-flash", "messages": ASK, "stop": "END", "stream": True}))
    assert contents(events) == "alpha beta "
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    assert gateway.pool.stops == 1


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_cuts_at_the_usage_estimate(gateway: Served, field: str) -> None:
    gateway.pool.queue(Script(growing("x" * 400, pieces=10)))
    body = {"model": "gemini-2.5-flash", "messages": ASK, field: 5}
    result = post(gateway, body).json()
    assert result["choices"][0]["message"]["content"] == "x" * 20
    assert result["choices"][0]["finish_reason"] == "length"
    assert result["usage"]["completion_tokens"] == 5
    assert gateway.pool.stops == 1


def test_max_tokens_stream(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("y" * 400, pieces=10)))
    events = sse(
        post(gateway, {"model": "gemini-2.5-flash", "messages": ASK, "max_tokens": 3, "stream": True})
    )
    assert contents(events) == "y" * 12 and events[-1]["choices"][0]["finish_reason"] == "length"


def test_an_incomplete_answer_ends_with_length(gateway: Served) -> None:
    steps = growing("cut short", pieces=2)
    steps[-1] = steps[-1].__class__(**{**steps[-1].__dict__, "completed": False})
    gateway.pool.queue(Script(steps))
    result = gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=ASK)
    assert result.choices[0].finish_reason == "length"


@pytest.mark.parametrize(
    "extra", [{"stop": ["a", "b", "c", "d", "e"]}, {"stop": [""]}, {"max_tokens": 0}, {"n": 2}]
)
def test_limits_that_cannot_be_honoured_are_400(gateway: Served, extra: dict[str, Any]) -> None:
    assert post(gateway, {"model": "gemini-2.5-flash", "messages": ASK, **extra}).status_code == 400
    assert gateway.pool.requests == []


def test_ignored_sampling_parameters_are_accepted(gateway: Served) -> None:
    body = {
        "model": "gemini-2.5-flash",
        "messages": ASK,
        "temperature": 0.2,
        "top_p": 0.9,
        "presence_penalty": 1,
        "frequency_penalty": 1,
        "seed": 7,
        "logprobs": False,  # true is refused (tests/service/test_compat_validation.py)
    }
    choice = post(gateway, body).json()["choices"][0]
    assert choice["message"]["content"] == "You said: Describe Paris."


# Reasoning formats.
THOUGHTS = "Thinking about Paris."


@pytest.mark.parametrize(
    ("setting", "content", "reasoning"),
    [
        ("reasoning_content", "Paris is big.", THOUGHTS),
        ("think_tags", f"<think>\n{THOUGHTS}\n</think>\n\nParis is big.", None),
        ("none", "Paris is big.", None),
    ],
)
def test_reasoning_format(
    serve_gateway: Callable[..., Served], setting: str, content: str, reasoning: str | None
) -> None:
    served = serve_gateway(reasoning_format=setting)
    served.pool.queue(Script(growing("Paris is big.", thoughts=THOUGHTS, cid="c_th")))
    message = post(served, {"model": "gemini-2.5-flash", "messages": ASK}).json()["choices"][0]["message"]
    assert message["content"] == content and message.get("reasoning_content") == reasoning
    served.pool.queue(Script(growing("Paris is big.", thoughts=THOUGHTS, pieces=4)))
    events = sse(post(served, {"model": "gemini-2.5-flash", "messages": ASK, "stream": True}))
    assert contents(events) == content
    streamed = "".join(
        e["choices"][0]["delta"].get("reasoning_content") or "" for e in events if e["choices"]
    )
    assert streamed == (reasoning or "")


def test_think_tags_history_still_continues_the_chat(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(reasoning_format="think_tags")
    served.pool.queue(Script(growing("Paris is big.", thoughts=THOUGHTS, cid="c_tt")))
    first = post(served, {"model": "gemini-2.5-flash", "messages": ASK}).json()["choices"][0]["message"]
    history = [
        *ASK,
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": "And Rome?"},
    ]
    post(served, {"model": "gemini-2.5-flash", "messages": history}).raise_for_status()
    assert served.pool.requests[-1].chat_id == "c_tt"
