"""The legacy ``POST /completions`` (issue 18, item 4) over real HTTP with the official openai
client on a ScriptedPool (which echoes each prompt as ``You said: <prompt>``): OpenAI's text
completion shapes exactly, streamed and not, prompt lists, echo, stop and max_tokens, both route
prefixes, and what the page cannot do refused before any turn."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.service.conftest import API_KEY, Served
from tests.service.scripted_pool import Script, growing

FLASH = "gemini-2.5-flash"


def post(served: Served, body: dict[str, Any], prefix: str = "/v1") -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    return httpx.post(f"{served.url}{prefix}/completions", json=body, headers=headers, timeout=15)


def sse(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    assert response.text.endswith("data: [DONE]\n\n")
    lines = [line for line in response.text.split("\n\n") if line.startswith("data: {")]
    return [json.loads(line.removeprefix("data: ")) for line in lines]


@pytest.mark.parametrize("prefix", ["/v1", "/gemini_official/v1"])
def test_a_prompt_gets_openais_text_completion(gateway: Served, prefix: str) -> None:
    body = post(gateway, {"model": FLASH, "prompt": "Say hi"}, prefix).json()
    assert set(body) <= {"id", "object", "created", "model", "served_model", "choices", "usage"}
    assert body["id"].startswith("cmpl-") and body["object"] == "text_completion" and body["model"] == FLASH
    assert body["choices"] == [
        {"text": "You said: Say hi", "index": 0, "logprobs": None, "finish_reason": "stop"}
    ]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    (turn,) = gateway.pool.requests
    assert turn.prompt == "Say hi" and turn.chat_id is None  # a new chat, the prompt typed as it is


def test_the_openai_client_reads_it(gateway: Served) -> None:
    completion = gateway.client().completions.create(
        model=FLASH, prompt="Say hi", temperature=0.2, max_tokens=64
    )
    assert completion.object == "text_completion"
    assert completion.choices[0].text == "You said: Say hi" and completion.choices[0].finish_reason == "stop"


def test_a_prompt_list_gets_one_choice_per_prompt_in_order(gateway: Served) -> None:
    completion = gateway.client().completions.create(model=FLASH, prompt=["One", "Two"])
    assert [(c.index, c.text) for c in completion.choices] == [(0, "You said: One"), (1, "You said: Two")]
    assert [turn.prompt for turn in gateway.pool.requests] == ["One", "Two"]


def test_echo_puts_the_prompt_first(gateway: Served) -> None:
    completion = gateway.client().completions.create(model=FLASH, prompt="Echo me. ", echo=True)
    assert completion.choices[0].text == "Echo me. You said: Echo me. "


def test_stop_and_max_tokens_cut_the_text(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("alpha beta gamma")), Script(growing("x" * 100)))
    stopped = gateway.client().completions.create(model=FLASH, prompt="p", stop=[" gamma"])
    assert stopped.choices[0].text == "alpha beta" and stopped.choices[0].finish_reason == "stop"
    cut = gateway.client().completions.create(model=FLASH, prompt="p", max_tokens=5)
    assert cut.choices[0].text == "x" * 20 and cut.choices[0].finish_reason == "length"


def test_stream_chunks_are_text_completions(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("Hello there, friend.", pieces=4)))
    body = {"model": FLASH, "prompt": "Hi", "stream": True, "stream_options": {"include_usage": True}}
    chunks = sse(post(gateway, body))
    assert len({chunk["id"] for chunk in chunks}) == 1
    assert all(chunk["object"] == "text_completion" and chunk["model"] == FLASH for chunk in chunks)
    texts = chunks[:-1]
    assert all(set(c["choices"][0]) == {"text", "index", "logprobs", "finish_reason"} for c in texts)
    assert "".join(c["choices"][0]["text"] for c in texts) == "Hello there, friend."
    assert [c["choices"][0]["finish_reason"] for c in texts] == [None] * (len(texts) - 1) + ["stop"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_stream_of_a_prompt_list_with_echo_through_the_openai_client(gateway: Served) -> None:
    stream = gateway.client().completions.create(model=FLASH, prompt=["A", "B"], echo=True, stream=True)
    texts: dict[int, str] = {0: "", 1: ""}
    finished = []
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.text
            if choice.finish_reason:
                finished.append(choice.index)
    assert texts == {0: "AYou said: A", 1: "BYou said: B"} and finished == [0, 1]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"suffix": "end of text"}, "suffix"),
        ({"best_of": 2}, "best_of"),
        ({"logprobs": 1}, "logprobs"),
        ({"logprobs": 0}, "logprobs"),
        ({"n": 2}, "n"),
        ({"temperature": 3}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"prompt": [1, 2, 3]}, "prompt"),
        ({"prompt": [[1, 2], [3]]}, "prompt"),
        ({"prompt": []}, "prompt"),
        ({"prompt": None}, "prompt"),
        ({"prompt": "  "}, "prompt"),
        ({"prompt": ["fine", " \n"]}, "prompt[1]"),
        ({"prompt": ["p"] * 17}, "prompt"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"model": "gemini-2.5-flash-imagen"}, "model"),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_what_the_page_cannot_do_is_refused_before_any_turn(
    gateway: Served, extra: dict[str, Any], param: str, stream: bool
) -> None:
    response = post(gateway, {"model": FLASH, "prompt": "p", "stream": stream, **extra})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert gateway.pool.requests == []


def test_neutral_values_of_the_refused_fields_are_taken(gateway: Served) -> None:
    body = {"model": FLASH, "prompt": "p", "suffix": None, "best_of": 1, "logprobs": None, "n": 1}
    assert (
        post(gateway, {**body, "presence_penalty": 1, "logit_bias": {"5": 3}, "seed": 1}).status_code == 200
    )


def test_an_unknown_model_is_a_404(gateway: Served) -> None:
    response = post(gateway, {"model": "gemini-9", "prompt": "p"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "model_not_found"
