"""Anthropic's Messages API end to end with the official ``anthropic`` SDK: uvicorn, the real
BrowserPool on Chromium, the simulator as Google. The simulator echoes the prompt and, on Pro,
thinks about it (its thoughts name the prompt's sha256), which is what these tests rely on."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator

import anthropic
import httpx
import pytest
from PIL import Image

from simulator.answers import sha16
from tests.e2e.conftest import KEY_A, Stack, marker, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

FLASH = "gemini-2.5-flash"
PRO = "gemini-2.5-pro"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e-anthropic"), ("paid",)) as running:
        yield running


def client(stack: Stack, *, key: str = KEY_A, prefix: str = "") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stack.url + prefix, api_key=key, max_retries=0, timeout=90)


def test_messages_create_answers_in_anthropic_shape(stack: Stack) -> None:
    word = marker()
    message = client(stack).messages.create(
        model=FLASH,
        max_tokens=1024,
        system="You are terse.",
        messages=[{"role": "user", "content": [{"type": "text", "text": f"Say {word}"}]}],
        metadata={"user_id": "someone"},
    )
    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    assert message.model == FLASH
    assert message.stop_reason == "end_turn"
    text = message.content[0]
    entry = stack.requests_with(word)[0]
    assert "You are terse." in entry["prompt"]  # the system prompt reached the page
    assert text.type == "text" and f"sha256 {sha16(entry['prompt'])}" in text.text  # the page's answer to it
    assert message.usage.input_tokens > 0 and message.usage.output_tokens >= len(text.text) // 4


def test_max_tokens_cuts_the_answer(stack: Stack) -> None:
    message = client(stack, prefix="/gemini_official").messages.create(
        model=FLASH, max_tokens=3, messages=[{"role": "user", "content": f"Tell me about {marker()}"}]
    )
    assert message.stop_reason == "max_tokens"
    assert message.content[0].type == "text" and len(message.content[0].text) <= 3 * 4


def test_messages_stream_events_and_final_message(stack: Stack) -> None:
    word = marker()
    with client(stack).messages.stream(
        model=FLASH, max_tokens=1024, messages=[{"role": "user", "content": f"Stream {word}"}]
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "content_block_start" in kinds and "content_block_stop" in kinds and "message_delta" in kinds
    assert kinds.count("text") >= 1  # the SDK's own event for each text_delta
    entry = stack.requests_with(word)[0]
    assert final.stop_reason == "end_turn"
    assert f"sha256 {sha16(entry['prompt'])}" in final.content[0].text  # type: ignore[union-attr]
    assert final.usage.output_tokens > 0


def test_thinking_streams_a_thinking_block(stack: Stack) -> None:
    word = marker()
    with client(stack).messages.stream(
        model=PRO,
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 2048},
        messages=[{"role": "user", "content": f"Reason about {word}"}],
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert "thinking" in kinds and "signature" in kinds
    thinking, text = final.content[0], final.content[1]
    assert thinking.type == "thinking" and "sha256" in thinking.thinking and thinking.signature
    assert text.type == "text" and "Turn 1 of chat" in text.text


def test_count_tokens_is_an_estimate_of_the_prompt(stack: Stack) -> None:
    prompt = "x" * 400
    counted = client(stack).messages.count_tokens(model=FLASH, messages=[{"role": "user", "content": prompt}])
    assert counted.input_tokens >= 100  # about four characters a token


def test_errors_through_the_sdk_exception_types(stack: Stack) -> None:
    messages = [{"role": "user", "content": "hello"}]
    with pytest.raises(anthropic.AuthenticationError) as bad_key:
        client(stack, key="sk-wrong").messages.create(model=FLASH, max_tokens=10, messages=messages)  # type: ignore[arg-type]
    assert bad_key.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "Invalid API key."},
    }
    with pytest.raises(anthropic.BadRequestError) as bad_body:
        client(stack).messages.create(model=FLASH, max_tokens=0, messages=messages)  # type: ignore[arg-type]
    assert bad_body.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(anthropic.NotFoundError) as unknown:
        client(stack).messages.create(model="claude-nope", max_tokens=10, messages=messages)  # type: ignore[arg-type]
    assert unknown.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert "claude-nope" in unknown.value.body["error"]["message"]  # type: ignore[index]
    with pytest.raises(anthropic.NotFoundError):
        client(stack).messages.stream(model="claude-nope", max_tokens=10, messages=messages).__enter__()  # type: ignore[arg-type]


WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def test_tool_use_round_trip(stack: Stack) -> None:
    word = marker()
    asked = [{"role": "user", "content": f"{word} weather in Oslo"}]
    first = client(stack).messages.create(
        model=FLASH,
        max_tokens=1024,
        tools=[WEATHER],
        tool_choice={"type": "any"},
        messages=asked,  # type: ignore[list-item,arg-type]
    )
    assert first.stop_reason == "tool_use"
    (use,) = [block for block in first.content if block.type == "tool_use"]
    assert use.name == "get_weather" and use.input == {"city": "sim-city"}
    result = {"type": "tool_result", "tool_use_id": use.id, "content": "sunny, 21C"}
    second = client(stack).messages.create(
        model=FLASH,
        max_tokens=1024,
        tools=[WEATHER],  # type: ignore[list-item]
        messages=[
            *asked,
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": [result]},
        ],  # type: ignore[list-item]
    )
    assert second.stop_reason == "end_turn" and "sunny, 21C" in second.content[0].text  # type: ignore[union-attr]


def test_tool_use_streamed(stack: Stack) -> None:
    with client(stack).messages.stream(
        model=FLASH,
        max_tokens=1024,
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": f"{marker()} weather in Oslo"}],
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert "input_json" in kinds  # the SDK's event for each input_json_delta
    assert final.stop_reason == "tool_use"
    (use,) = [block for block in final.content if block.type == "tool_use"]
    assert use.name == "get_weather" and use.input == {"city": "sim-city"}


def test_image_block_is_uploaded_byte_for_byte(stack: Stack) -> None:
    word = marker()
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (len(word), 80, 160)).save(buffer, format="PNG")
    data = buffer.getvalue()
    image = {"type": "base64", "media_type": "image/png", "data": base64.b64encode(data).decode()}
    message = client(stack).messages.create(
        model=FLASH,
        max_tokens=1024,
        messages=[
            {
                "role": "user",
                "content": [{"type": "image", "source": image}, {"type": "text", "text": f"Describe {word}"}],
            }  # type: ignore[list-item]
        ],
    )
    (entry,) = stack.requests_with(word)
    assert [f["sha256"] for f in entry["files"]] == [hashlib.sha256(data).hexdigest()]
    assert entry["files"][0]["mime"] == "image/png"
    assert "Files received:" in message.content[0].text  # type: ignore[union-attr]


def test_x_api_key_header_authenticates(stack: Stack) -> None:
    """The header Anthropic's API documents (curl, older SDKs); this SDK version sends a Bearer key."""
    body = {"model": FLASH, "max_tokens": 50, "messages": [{"role": "user", "content": f"Key {marker()}"}]}
    headers = {"x-api-key": KEY_A, "anthropic-version": "2023-06-01"}
    answer = httpx.post(f"{stack.url}/v1/messages", json=body, headers=headers, timeout=90)
    assert answer.status_code == 200 and answer.json()["type"] == "message"
    wrong = httpx.post(f"{stack.url}/v1/messages", json=body, headers={"x-api-key": "sk-wrong"}, timeout=90)
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"


def test_stop_sequence_ends_the_answer_before_it(stack: Stack) -> None:
    message = client(stack).messages.create(
        model=FLASH,
        max_tokens=1024,
        stop_sequences=["never said", " of chat"],
        messages=[{"role": "user", "content": f"Stop {marker()}"}],
    )
    assert message.content[0].text == "Turn 1"  # type: ignore[union-attr]
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == " of chat"
    with client(stack).messages.stream(
        model=FLASH,
        max_tokens=1024,
        stop_sequences=[" of chat"],
        messages=[{"role": "user", "content": f"Stop {marker()}"}],
    ) as stream:
        deltas = [event.delta for event in stream if event.type == "message_delta"]
        final = stream.get_final_message()
    assert [(d.stop_reason, d.stop_sequence) for d in deltas] == [("stop_sequence", " of chat")]
    assert final.content[0].text == "Turn 1"  # type: ignore[union-attr]
    assert final.stop_reason == "stop_sequence" and final.stop_sequence == " of chat"


def test_thinking_whole_message_has_a_thinking_block_first(stack: Stack) -> None:
    word = marker()
    message = client(stack).messages.create(
        model=PRO,
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 20000},
        messages=[{"role": "user", "content": f"Think about {word}"}],
    )
    thinking, text = message.content
    assert thinking.type == "thinking" and "sha256" in thinking.thinking and thinking.signature
    assert text.type == "text" and "Turn 1 of chat" in text.text
    # A 20000-token budget is the page level the OpenAI route's reasoning_effort "high" picks.
    other = marker()
    stack.client().chat.completions.create(
        model=PRO, reasoning_effort="high", messages=[{"role": "user", "content": f"Think about {other}"}]
    )
    level = stack.requests_with(word)[0]["thinking_level"]
    assert level == stack.requests_with(other)[0]["thinking_level"]
    assert level is not None
