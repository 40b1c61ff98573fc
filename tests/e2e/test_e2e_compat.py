"""End to end, OpenAI compatibility for real clients: tool calling and structured output with the
official ``openai`` SDK (and LangChain's ``ChatOpenAI``) against uvicorn, the real BrowserPool on
Chromium and the simulator's deterministic tool/JSON answers (simulator/tool_answers.py); and the
CORS preflight from a real Chromium page on another origin."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from simulator.tool_answers import INVALID_JSON_KEYWORD, MALFORMED_KEYWORD
from tests.conftest import NewContext
from tests.e2e.conftest import KEY_A, Stack, marker
from tests.support.servers import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["C", "F"]}},
            "required": ["city", "unit"],
        },
    },
}
CITY = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["name", "population"],
}


def test_tool_round_trip_continues_the_same_chat(stack: Stack) -> None:
    word = marker()
    client = stack.client()
    ask = [{"role": "user", "content": f"{word} What is the weather in Paris?"}]
    first = client.chat.completions.create(model="gemini-2.5-flash", messages=ask, tools=[WEATHER])  # type: ignore[arg-type, list-item]
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "sim-city", "unit": "C"}
    assert choice.message.content == "I will call get_weather."
    (entry,) = stack.requests_with(word)
    assert '- get_weather: "Current weather of a city"' in entry["prompt"]

    history: list[Any] = [
        *ask,
        {"role": "assistant", "content": choice.message.content, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 21}'},
    ]
    second = client.chat.completions.create(model="gemini-2.5-flash", messages=history, tools=[WEATHER])  # type: ignore[arg-type, list-item]
    assert second.choices[0].finish_reason == "stop"
    assert (
        second.choices[0].message.content
        == 'Thanks, I used the tool results: get_weather returned {"temp": 21}.'
    )
    results = stack.requests_with(f"(call {call.id})")
    assert len(results) == 1 and results[0]["sent_cid"] == entry["cid"]  # the same Gemini chat


def test_malformed_call_is_retried_in_the_same_chat_streaming(stack: Stack) -> None:
    word = marker()
    stream = stack.client().chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": f"{word} {MALFORMED_KEYWORD} weather in Rome"}],
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required",
        stream=True,
    )
    content, names, arguments, finish = "", [], "", None
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        content += delta.content or ""
        for fragment in delta.tool_calls or []:
            if fragment.function and fragment.function.name:
                names.append(fragment.function.name)
            arguments += (fragment.function.arguments or "") if fragment.function else ""
        finish = chunk.choices[0].finish_reason or finish
    assert "tool_call" not in content and "```" not in content
    assert names == ["get_weather"] and json.loads(arguments) == {"city": "sim-city", "unit": "C"}
    assert finish == "tool_calls"
    (first,) = stack.requests_with(word)
    (again,) = stack.requests_with("did not hold a valid tool call")
    assert again["sent_cid"] == first["cid"]


def test_structured_output_invalid_first_then_valid(stack: Stack) -> None:
    word = marker()
    reply = stack.client().chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": f"{word} {INVALID_JSON_KEYWORD} describe Paris"}],
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": CITY}},
    )
    assert json.loads(reply.choices[0].message.content or "") == {"name": "sim-name", "population": 1}
    (first,) = stack.requests_with(word)
    retries = [
        e for e in stack.requests_with("was not a valid JSON document") if e["sent_cid"] == first["cid"]
    ]
    assert len(retries) == 1


@pytest.fixture(scope="module")
def other_origin() -> Iterator[str]:
    """A page on another origin (another loopback port) for the CORS test."""

    async def page(request: Any) -> HTMLResponse:
        return HTMLResponse("<!doctype html><title>client</title><p>other origin</p>")

    with serve(Starlette(routes=[Route("/", page)])) as url:
        yield url


async def test_cors_preflight_from_a_chromium_page_on_another_origin(
    stack: Stack, new_context: NewContext, other_origin: str
) -> None:
    context = await new_context()
    page = await context.new_page()
    methods: list[str] = []
    page.on("request", lambda request: methods.append(request.method))
    await page.goto(other_origin + "/")
    word = marker()
    script = """async ([url, key, word]) => {
        const response = await fetch(url + "/v1/chat/completions", {
            method: "POST",
            headers: {"Authorization": "Bearer " + key, "Content-Type": "application/json"},
            body: JSON.stringify({model: "gemini-2.5-flash", messages: [{role: "user", content: word}]}),
        });
        const body = await response.json();
        return [response.status, body.choices[0].message.content];
    }"""
    status, content = await page.evaluate(script, [stack.url, KEY_A, word])
    assert status == 200 and word in content
    # Chromium's preflight (answered without the key) is not a page-visible request; the simulator
    # saw the one real turn.
    assert len(stack.requests_with(word)) == 1
    refused = await page.evaluate(
        'async (url) => (await fetch(url + "/v1/models", {headers: {"Authorization": "Bearer x"}})).status',
        stack.url,
    )
    assert refused == 401  # readable by the page: the 401 carries the CORS headers


# LangChain's ChatOpenAI, as agent frameworks use it.
def _chat_openai(stack: Stack) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model="gemini-2.5-flash",
        api_key=KEY_A,
        base_url=stack.url + "/v1",
        max_retries=0,
        timeout=90,  # type: ignore[arg-type]
    )


def test_langchain_bind_tools_round_trip(stack: Stack) -> None:
    from langchain_core.messages import HumanMessage, ToolMessage
    from langchain_core.tools import tool

    @tool
    def get_weather(city: str, unit: str) -> str:
        """Current weather of a city, in the unit C or F."""
        return f"21 {unit} in {city}"

    word = marker()
    llm = _chat_openai(stack).bind_tools([get_weather])
    messages: list[Any] = [HumanMessage(f"{word} weather in Oslo?")]
    reply = llm.invoke(messages)
    (call,) = reply.tool_calls
    assert call["name"] == "get_weather" and call["args"] == {"city": "sim-city", "unit": "sim-unit"}
    messages += [reply, ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])]
    final = llm.invoke(messages)
    assert final.content == "Thanks, I used the tool results: get_weather returned 21 sim-unit in sim-city."
    (first,) = stack.requests_with(word)
    (result,) = stack.requests_with(f"(call {call['id']})")
    assert result["sent_cid"] == first["cid"]


def test_langchain_with_structured_output_pydantic(stack: Stack) -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        population: int
        capital: bool

    word = marker()
    structured = _chat_openai(stack).with_structured_output(City)
    city = structured.invoke(f"{word} {INVALID_JSON_KEYWORD} describe Lisbon")
    assert city == City(name="sim-name", population=1, capital=True)
    (first,) = stack.requests_with(word)
    assert any(e["sent_cid"] == first["cid"] for e in stack.requests_with("was not a valid JSON document"))


def test_a_pdf_and_an_audio_file_reach_the_simulator_intact(stack: Stack) -> None:
    import base64
    import hashlib

    pdf = b"%PDF-1.4\n% e2e\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(64))
    word = marker()
    content: list[Any] = [
        {"type": "text", "text": f"{word} summarise these"},
        {
            "type": "file",
            "file": {
                "file_data": "data:application/pdf;base64," + base64.b64encode(pdf).decode(),
                "filename": "brief.pdf",
            },
        },
        {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode(), "format": "wav"}},
    ]
    reply = stack.client().chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": content}]
    )
    (entry,) = stack.requests_with(word)
    received = {(f["mime"], f["sha256"], f["size"]) for f in entry["files"]}
    assert ("application/pdf", hashlib.sha256(pdf).hexdigest(), len(pdf)) in received
    assert ("audio/wav", hashlib.sha256(wav).hexdigest(), len(wav)) in received
    assert "brief.pdf (application/pdf" in (reply.choices[0].message.content or "")


# The Responses API with the openai SDK.
FLAT_WEATHER = {"type": "function", **WEATHER["function"]}  # type: ignore[dict-item]


def test_responses_text_then_previous_response_id_in_the_same_chat(stack: Stack) -> None:
    from simulator.answers import CLOSING, base_text

    word = marker()
    client = stack.client()
    first = client.responses.create(model="gemini-2.5-flash", input=f"{word} hello")
    (entry,) = stack.requests_with(word)
    assert first.output_text == base_text(1, entry["cid"], f"{word} hello", []) + CLOSING
    second = client.responses.create(
        model="gemini-2.5-flash", input=f"{word} again", previous_response_id=first.id
    )
    again = only_with(stack, f"{word} again")
    assert again["sent_cid"] == entry["cid"] and second.output_text.startswith(
        f"Turn 2 of chat {entry['cid']}."
    )
    assert client.responses.retrieve(first.id).id == first.id


def only_with(stack: Stack, text: str) -> dict[str, Any]:
    entries = stack.requests_with(text)
    assert len(entries) == 1, entries
    return entries[0]


def test_responses_stream_with_a_tool_round_trip(stack: Stack) -> None:
    word = marker()
    client = stack.client()
    stream = client.responses.create(
        model="gemini-2.5-flash",
        input=f"{word} weather in Lima",
        tools=[FLAT_WEATHER],
        stream=True,  # type: ignore[list-item]
    )
    seen = list(stream)
    assert seen[0].type == "response.created" and seen[-1].type == "response.completed"
    assert [event.sequence_number for event in seen] == list(range(len(seen)))
    final = seen[-1].response
    call = next(item for item in final.output if item.type == "function_call")
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "sim-city", "unit": "C"}
    follow = client.responses.create(
        model="gemini-2.5-flash",
        previous_response_id=final.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "warm"}],
        tools=[FLAT_WEATHER],  # type: ignore[list-item]
    )
    assert follow.output_text == "Thanks, I used the tool results: get_weather returned warm."
    first = only_with(stack, word)
    assert only_with(stack, f"(call {call.call_id})")["sent_cid"] == first["cid"]
