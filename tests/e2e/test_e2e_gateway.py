"""End to end: the official ``openai`` SDK (and raw HTTP where the SDK hides the wire) against the real
app with the real ``BrowserPool`` driving Chromium pages of the simulator."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionChunk
from PIL import Image

from service.catalog import CATALOG
from simulator.answers import CLOSING, base_text, sha16
from tests.e2e.conftest import FAST_PACING, KEY_A, KEY_B, MAX_BODY_BYTES, Stack, marker

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

SERVED_MODELS = {spec.name for spec in CATALOG}  # no model answers 501 any more


def png(seed: int) -> bytes:
    image = Image.new("RGB", (16, 16), (seed % 256, 80, 160))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def ask(stack: Stack, content: Any, *, model: str = "gemini-2.5-flash", key: str = KEY_A) -> str:
    reply = stack.client(key=key).chat.completions.create(
        model=model, messages=[{"role": "user", "content": content}]
    )
    return reply.choices[0].message.content or ""


def only(entries: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(entries) == 1, entries
    return entries[0]


def sse_events(stack: Stack, body: dict[str, Any]) -> list[str]:
    """The ``data:`` payloads of a streamed completion, read off the wire."""
    headers = {"Authorization": f"Bearer {KEY_A}"}
    events: list[str] = []
    with (
        httpx.Client(timeout=90) as client,
        client.stream("POST", f"{stack.url}/v1/chat/completions", json=body, headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events.extend(line[len("data: ") :] for line in response.iter_lines() if line.startswith("data: "))
    return events


def test_non_stream_answer_is_the_simulators(ui_stack: Stack) -> None:
    stack = ui_stack
    word = marker()
    reply = stack.client().chat.completions.create(
        model="gemini-2.5-flash", messages=[{"role": "user", "content": f"Hello {word}"}]
    )
    entry = only(stack.requests_with(word))
    # Any account whose page offers Flash serves it: the paid one or the free one (no tier rule, D8).
    assert entry["outcome"] == "completed" and entry["account"] in ("paid", "free")
    assert reply.choices[0].message.content == base_text(1, entry["cid"], f"Hello {word}", []) + CLOSING
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == "gemini-2.5-flash"
    assert (reply.model_extra or {}).get("served_model") == entry["served_model_label"]


def test_stream_role_first_deltas_concatenate_to_the_answer(ui_stack: Stack) -> None:
    stack = ui_stack
    word = marker()
    body = {"model": "gemini-2.5-flash", "stream": True, "messages": [{"role": "user", "content": word}]}
    events = sse_events(stack, body)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    contents = [c["choices"][0]["delta"].get("content") for c in chunks[1:] if c["choices"]]
    pieces = [piece for piece in contents if piece]
    assert len(pieces) >= 3
    entry = only(stack.requests_with(word))
    assert "".join(pieces) == base_text(1, entry["cid"], word, []) + CLOSING
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert len({chunk["id"] for chunk in chunks}) == 1


def streamed_text(chunks: list[ChatCompletionChunk]) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


def test_sdk_stream_with_usage(ui_stack: Stack) -> None:
    stack, word = ui_stack, marker()
    prompt = f"Stream {word}"
    stream = stack.client().chat.completions.create(
        model="gemini-2.5-flash",
        messages=[{"role": "user", "content": prompt}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = streamed_text(chunks)
    entry = only(stack.requests_with(word))
    assert text == base_text(1, entry["cid"], prompt, []) + CLOSING
    assert chunks[-2].choices[0].finish_reason == "stop"
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert usage.prompt_tokens >= len(prompt) / 4 and usage.completion_tokens >= len(text) / 4
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_sdk_stream_pro_reasoning_and_served_model(ui_stack: Stack) -> None:
    stack, word = ui_stack, marker()
    prompt = f"Reason about {word}"
    chunks = list(
        stack.client().chat.completions.create(
            model="gemini-2.5-pro", messages=[{"role": "user", "content": prompt}], stream=True
        )
    )
    reasoning = [
        (chunk.choices[0].delta.model_extra or {}).get("reasoning_content")
        for chunk in chunks
        if chunk.choices
    ]
    pieces = [piece for piece in reasoning if piece]
    assert pieces and all(isinstance(piece, str) for piece in pieces)
    assert f"sha256 {sha16(prompt)}" in "".join(pieces)  # the simulator's thoughts about this prompt
    entry = only(stack.requests_with(word))
    text = streamed_text(chunks)
    assert text == base_text(1, entry["cid"], prompt, []) + CLOSING
    # The label the page showed (differs per UI generation), on every chunk once the page named it.
    assert entry["served_model_label"] in ("3.1 Pro", "Pro")
    assert (chunks[-1].model_extra or {}).get("served_model") == entry["served_model_label"]
    assert all(chunk.model == "gemini-2.5-pro" for chunk in chunks)


def test_pro_answers_with_reasoning(stack: Stack) -> None:
    word = marker()
    reply = stack.client().chat.completions.create(
        model="gemini-2.5-pro", messages=[{"role": "user", "content": f"Think about {word}"}]
    )
    message = reply.choices[0].message
    reasoning = getattr(message, "reasoning_content", None) or (message.model_extra or {}).get(
        "reasoning_content"
    )
    assert isinstance(reasoning, str) and reasoning.strip()
    assert "Turn 1 of chat" in (message.content or "")
    assert only(stack.requests_with(word))["served_model_label"] == "3.1 Pro"


@pytest.mark.parametrize("source", ["data_url", "http_url"])
def test_image_input_is_uploaded_byte_for_byte(
    stack: Stack, image_server: Callable[[bytes], str], source: str
) -> None:
    word = marker()
    data = png(len(word) + (1 if source == "http_url" else 2))
    data_url = f"data:image/png;base64,{base64.b64encode(data).decode()}"
    url = data_url if source == "data_url" else image_server(data)
    content = [{"type": "text", "text": f"Describe {word}"}, {"type": "image_url", "image_url": {"url": url}}]
    answer = ask(stack, content)
    entry = only(stack.requests_with(word))
    assert [f["sha256"] for f in entry["files"]] == [hashlib.sha256(data).hexdigest()]
    assert entry["files"][0]["mime"] == "image/png"
    assert "Files received:" in answer


def test_free_model_refuses_images_naming_messages(stack: Stack) -> None:
    url = f"data:image/png;base64,{base64.b64encode(png(1)).decode()}"
    content = [{"type": "text", "text": "what is it"}, {"type": "image_url", "image_url": {"url": url}}]
    with pytest.raises(openai.BadRequestError) as caught:
        ask(stack, content, model="gemini-2.5-flash-free")
    assert caught.value.status_code == 400
    assert caught.value.body["param"] == "messages"  # type: ignore[index]


def test_history_continues_the_same_chat_for_the_same_key_only(stack: Stack) -> None:
    first, second = f"first {marker()}", f"second {marker()}"
    client = stack.client()
    history: list[Any] = [{"role": "user", "content": first}]
    answer1 = client.chat.completions.create(model="gemini-2.5-flash", messages=history)
    history += [
        {"role": "assistant", "content": answer1.choices[0].message.content},
        {"role": "user", "content": second},
    ]
    answer2 = client.chat.completions.create(model="gemini-2.5-flash", messages=history)

    turn1, turn2 = only(stack.requests_with(first)), only(stack.requests_with(second))
    assert turn2["prompt"] == second  # only the new user message was typed
    assert turn2["sent_cid"] == turn1["cid"] and turn2["cid"] == turn1["cid"]
    assert turn2["account_id"] == turn1["account_id"]
    assert turn2["chat_status"] == "continued"
    assert (answer2.choices[0].message.content or "").startswith("Turn 2 of chat")

    # Another API key sending the same history gets a new chat with the history folded in.
    answer3 = stack.client(key=KEY_B).chat.completions.create(model="gemini-2.5-flash", messages=history)
    folded = [entry for entry in stack.requests_with(second) if entry["id"] != turn2["id"]]
    entry = only(folded)
    assert first in entry["prompt"] and second in entry["prompt"]
    assert entry["sent_cid"] in ("", None) and entry["cid"] != turn1["cid"]
    assert (answer3.choices[0].message.content or "").startswith("Turn 1 of chat")


def test_oversized_prompt_is_attached_as_message_txt(stack: Stack) -> None:
    word = marker()
    prompt = f"{word} " + "lorem ipsum " * 11_000  # ~132 KB, over the 120 KB threshold
    assert len(prompt.encode()) > stack.settings.max_prompt_bytes
    before = {entry["id"] for entry in stack.sim_requests()}
    ask(stack, prompt)
    new = [entry for entry in stack.sim_requests() if entry["id"] not in before]
    entry = only([e for e in new if any(f["name"] == "message.txt" for f in e["files"])])
    attached = only([f for f in entry["files"] if f["name"] == "message.txt"])
    assert attached["sha256"] == hashlib.sha256(prompt.encode()).hexdigest()
    assert word not in entry["prompt"]  # the typed prompt only points at the file


def near_threshold_prompt(word: str, limit: int) -> str:
    """A prompt of just under ``limit`` UTF-8 bytes, dense in what encodings inflate (quotes,
    backslashes, braces, multi-byte and astral characters) on 480 lines, with blank lines between
    (a many-line prompt goes into the editor as one paste; typed line by line it took minutes).
    """
    unit = '"quoted" \'single\' back\\slash — «ça va?» 日本語テキスト 🙂 {"k": "v"}; '
    count = (limit - 256) // len(unit.encode())
    lines = [word]
    for index in range(480):
        lines.append((unit * (count // 480 + (index < count % 480))).strip())
        if index % 8 == 7:
            lines.append("")  # a blank line: two newlines in a row
    lines.append(f"end {word}")
    return "\n".join(lines)


def test_prompt_just_under_the_threshold_is_typed_untruncated(stack: Stack) -> None:
    word = marker()
    limit = stack.settings.max_prompt_bytes
    prompt = near_threshold_prompt(word, limit)
    assert limit - 1000 < len(prompt.encode()) <= limit  # within 1 KB of the threshold
    answer = ask(stack, prompt)
    entry = only(stack.requests_with(word))
    assert entry["files"] == []  # typed, not attached
    assert entry["prompt_truncated"] is False
    assert entry["prompt_chars"] == len(prompt)
    assert entry["prompt_sha256"] == hashlib.sha256(prompt.encode()).hexdigest()
    assert answer.startswith(f"Turn 1 of chat {entry['cid']}. I received {len(prompt)} characters")


def test_bad_inputs_answer_openai_errors_then_a_normal_request_succeeds(stack: Stack) -> None:
    with pytest.raises(openai.AuthenticationError) as auth:
        ask(stack, "hi", key="sk-wrong")
    assert auth.value.status_code == 401
    with pytest.raises(openai.NotFoundError) as missing:
        ask(stack, "hi", model="gemini-9-ultra")
    assert missing.value.status_code == 404

    headers = {"Authorization": f"Bearer {KEY_A}", "Content-Type": "application/json"}
    url = f"{stack.url}/v1/chat/completions"
    malformed = httpx.post(url, content=b'{"model": "gemini-2.5-flash", "messages": [', headers=headers)
    assert malformed.status_code == 400
    assert set(malformed.json()["error"]) >= {"message", "type", "param", "code"}
    oversized = {"role": "user", "content": "x" * MAX_BODY_BYTES}
    huge = json.dumps({"model": "gemini-2.5-flash", "messages": [oversized]})
    too_large = httpx.post(url, content=huge.encode(), headers=headers, timeout=30)
    assert too_large.status_code == 413
    assert too_large.json()["error"]["type"] == "invalid_request_error"

    assert ask(stack, f"still fine {marker()}").startswith("Turn 1 of chat")


def test_models_lists_the_catalog_with_availability_on_both_prefixes(stack: Stack) -> None:
    for prefix in ("/gemini_official/v1", "/v1"):
        models = stack.client(prefix=prefix).models.list().data
        assert len(models) == len(CATALOG)
        available = {model.id: (model.model_extra or {}).get("available") for model in models}
        # Every model: the stack's paid account offers every tool.
        assert {name for name, ok in available.items() if ok} == SERVED_MODELS
    assert ask(stack, f"v1 prefix {marker()}").startswith("Turn 1 of chat")
    reply = stack.client(prefix="/v1").chat.completions.create(
        model="gemini-2.5-flash-free", messages=[{"role": "user", "content": "hello"}]
    )
    assert (reply.choices[0].message.content or "").startswith("Turn 1 of chat")


def _settled_from_the_chat(stack: Stack, turn: dict[str, Any]) -> bool:
    """The page listed its chats (MaZiqc) from the new chat's URL after ``turn`` started."""
    rpcs: list[dict[str, Any]] = httpx.get(f"{stack.sim_url}/_sim/rpcs", timeout=10).json()
    return any(
        rpc["rpcid"] == "MaZiqc"
        and rpc["account_id"] == turn["account_id"]
        and (rpc["source_path"] or "").startswith("/app/")
        and rpc["time"] >= turn["locator_time"]
        for rpc in rpcs
    )


def test_disconnect_mid_stream_stops_the_turn_and_frees_the_account(stack: Stack) -> None:
    word = marker()
    stack.sim_config(frame_interval=0.4, snapshot_chars=4)  # slow enough to leave mid-answer
    try:
        body = {"model": "gemini-2.5-flash", "stream": True, "messages": [{"role": "user", "content": word}]}
        headers = {"Authorization": f"Bearer {KEY_A}"}
        received = 0
        with (
            httpx.Client(timeout=60) as client,
            client.stream("POST", f"{stack.url}/v1/chat/completions", json=body, headers=headers) as response,
        ):
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: ") and '"content":"' in line and '"content":""' not in line:
                    received += 1
                if received >= 2:
                    break  # leaving the block closes the connection mid-answer
        assert received == 2

        def disconnected() -> bool:
            entries = stack.requests_with(word)
            return len(entries) == 1 and entries[0]["outcome"] == "client_disconnected"

        stack.wait_for(disconnected, "the simulator to log client_disconnected")
        stack.wait_for(
            lambda: all(account.active_turns == 0 for account in stack.accounts()),  # type: ignore[attr-defined]
            "every account to have no active turn",
        )
        # The page itself stopped the answer (Stop clicked): its request ended while the tab still
        # showed the chat, so the page settled the stopped turn and listed chats from the chat's
        # URL. Without a stop the tab keeps streaming until it goes back to /app, which also ends
        # the request (hence client_disconnected above) but settles nothing.
        turn = stack.requests_with(word)[0]
        stack.wait_for(lambda: _settled_from_the_chat(stack, turn), "the page to settle the stopped answer")
    finally:
        stack.sim_config(**FAST_PACING)
    assert ask(stack, f"after disconnect {marker()}").startswith("Turn 1 of chat")
