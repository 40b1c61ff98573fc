"""The gateway over real HTTP (uvicorn) with the official openai client, on a ScriptedPool."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from browser import (
    AccountState,
    ModeFamily,
    NoCapacity,
    NoEligibleAccount,
    ThinkingLevel,
    TurnSnapshot,
    UpstreamRejected,
    UpstreamTimeout,
)
from service.catalog import CATALOG
from service.chat.inputs import ATTACHED_PROMPT_NAME, OVERSIZED_INSTRUCTION
from tests.service.conftest import API_KEY, Served
from tests.service.scripted_pool import Pause, Script, account, growing
from tests.service.test_service_inputs import data_url, png_bytes
from tests.support.servers import serve

USER_HI = [{"role": "user", "content": "Hi"}]


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def sse_lines(response: httpx.Response) -> list[str]:
    return [line for line in response.text.split("\n\n") if line]


def post(served: Served, body: object, *, timeout: float = 10) -> httpx.Response:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    return httpx.post(f"{served.url}/v1/chat/completions", json=body, headers=headers, timeout=timeout)


def sse_payloads(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON ``data:`` events of a finished stream (keep-alives and ``[DONE]`` left out)."""
    return [json.loads(e.removeprefix("data: ")) for e in sse_lines(response) if e.startswith("data: {")]


def streamed_contents(response: httpx.Response) -> list[str]:
    """Every non-empty content delta, in order."""
    pieces = []
    for payload in sse_payloads(response):
        for choice in payload.get("choices") or []:
            content = choice["delta"].get("content")
            if content:
                pieces.append(content)
    return pieces


@pytest.mark.parametrize("prefix", ["/v1", "/gemini_official/v1"])
def test_non_stream_shape(gateway: Served, prefix: str) -> None:
    result = gateway.client(prefix=prefix).chat.completions.create(model="gemini-2.5-flash", messages=USER_HI)
    assert result.object == "chat.completion" and result.id.startswith("chatcmpl-")
    assert result.model == "gemini-2.5-flash"
    assert result.model_extra == {"served_model": "3.5 Flash"}
    (choice,) = result.choices
    assert choice.message.role == "assistant" and choice.message.content == "You said: Hi"
    assert choice.finish_reason == "stop"
    assert result.usage is not None and result.usage.total_tokens == (
        result.usage.prompt_tokens + result.usage.completion_tokens
    )
    request = gateway.pool.requests[0]
    assert request.prompt == "Hi" and request.mode is ModeFamily.FLASH and request.chat_id is None
    assert request.thinking is None, "without reasoning_effort the page's level is left as it is"


@pytest.mark.parametrize(
    ("effort", "level"),
    [
        ("none", ThinkingLevel.LOW),
        ("minimal", ThinkingLevel.LOW),
        ("low", ThinkingLevel.LOW),
        ("medium", ThinkingLevel.MEDIUM),
        ("high", ThinkingLevel.HIGH),
        ("xhigh", ThinkingLevel.HIGH),
    ],
)
def test_reasoning_effort_becomes_the_pages_thinking_level(
    gateway: Served, effort: str, level: ThinkingLevel
) -> None:
    gateway.client().chat.completions.create(
        model="gemini-2.5-pro",
        messages=USER_HI,
        reasoning_effort=effort,  # type: ignore[arg-type]
    )
    (request,) = gateway.pool.requests
    assert (request.mode, request.thinking) == (ModeFamily.PRO, level)


def test_an_unknown_reasoning_effort_is_a_400(gateway: Served) -> None:
    response = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI, "reasoning_effort": "max"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "reasoning_effort"
    assert gateway.pool.requests == []


def test_responses_reasoning_effort_is_the_same_level(gateway: Served) -> None:
    gateway.client().responses.create(model="gemini-2.5-flash", input="Hi", reasoning={"effort": "high"})
    assert gateway.pool.requests[0].thinking is ThinkingLevel.HIGH
    response = httpx.post(
        f"{gateway.url}/v1/responses",
        headers={"Authorization": f"Bearer {API_KEY}"},
        json={"model": "gemini-2.5-flash", "input": "Hi", "reasoning": {"effort": "lots"}},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "reasoning.effort"


def test_free_model_may_use_any_account(serve_gateway: Callable[..., Served]) -> None:
    from tests.service.scripted_pool import ScriptedPool

    served = serve_gateway(ScriptedPool(account_list=[account(tier="free")]))
    served.client().chat.completions.create(model="gemini-2.5-flash-free", messages=USER_HI)
    served.client().chat.completions.create(model="gemini-2.5-pro", messages=USER_HI)
    assert [request.mode for request in served.pool.requests] == [ModeFamily.FLASH, ModeFamily.PRO]


def test_stream_shape_with_usage(gateway: Served) -> None:
    stream = gateway.client().chat.completions.create(
        model="gemini-2.5-pro", messages=USER_HI, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: Hi"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert gateway.pool.requests[0].mode is ModeFamily.PRO
    assert wait_until(lambda: gateway.pool.released == 1 and gateway.pool.stops == 0)


def test_reasoning_content_stream_and_not(gateway: Served) -> None:
    steps = growing("The answer is 4.", thoughts="Adding two and two.", label="3.1 Pro")
    gateway.pool.queue(Script(steps), Script(steps))
    result = gateway.client().chat.completions.create(model="gemini-2.5-pro", messages=USER_HI)
    message = result.choices[0].message
    assert message.content == "The answer is 4."
    assert message.model_extra == {"reasoning_content": "Adding two and two."}
    chunks = list(
        gateway.client().chat.completions.create(model="gemini-2.5-pro", messages=USER_HI, stream=True)
    )
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content", "") for c in chunks)
    assert reasoning == "Adding two and two."
    assert chunks[-1].model_extra == {"served_model": "3.1 Pro"}


def test_auth_errors(gateway: Served) -> None:
    with pytest.raises(openai.AuthenticationError) as info:
        gateway.client(key="sk-wrong").chat.completions.create(model="gemini-2.5-flash", messages=USER_HI)
    assert info.value.status_code == 401 and info.value.code == "invalid_api_key"
    bare = httpx.get(f"{gateway.url}/v1/models", headers={"Authorization": API_KEY})
    assert bare.status_code == 200
    missing = httpx.get(f"{gateway.url}/v1/models")
    assert missing.status_code == 401 and missing.json()["error"]["type"] == "authentication_error"
    assert gateway.pool.requests == []


def test_unknown_model_is_404(gateway: Served) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        gateway.client().chat.completions.create(model="gpt-4o", messages=USER_HI)
    assert info.value.code == "model_not_found"
    assert info.value.body == {
        "message": "The model 'gpt-4o' does not exist.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


def test_malformed_json_and_invalid_fields_are_400(gateway: Served) -> None:
    broken = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        content=b'{"model": "gemini-2.5-flash", "messages": [',
        headers={"Authorization": API_KEY, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"
    bad_role = post(gateway, {"model": "gemini-2.5-flash", "messages": [{"role": "robot", "content": "x"}]})
    assert bad_role.status_code == 400 and bad_role.json()["error"]["param"] == "messages[0].role"
    two = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI, "n": 2})
    assert two.status_code == 400 and two.json()["error"]["param"] == "n"
    empty = post(gateway, {"model": "gemini-2.5-flash", "messages": []})
    assert empty.status_code == 400 and empty.json()["error"]["param"] == "messages"


def test_unknown_route_and_method(gateway: Served) -> None:
    nowhere = httpx.get(f"{gateway.url}/v1/nowhere", headers={"Authorization": API_KEY})
    assert nowhere.status_code == 404 and nowhere.json()["error"]["code"] == "unknown_route"
    wrong = httpx.get(f"{gateway.url}/v1/chat/completions", headers={"Authorization": API_KEY})
    assert wrong.status_code == 405 and set(wrong.json()["error"]) == {"message", "type", "param", "code"}


def test_oversized_body_is_413_before_parsing(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(max_body_bytes=2000)
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "x" * 5000}]}
    declared = post(served, body)
    assert declared.status_code == 413 and declared.json()["error"]["type"] == "invalid_request_error"

    def chunks() -> object:
        data = json.dumps(body).encode()
        for i in range(0, len(data), 500):
            yield data[i : i + 500]

    chunked = httpx.post(
        f"{served.url}/v1/chat/completions",
        content=chunks(),  # type: ignore[arg-type]
        headers={"Authorization": API_KEY, "Content-Type": "application/json"},
    )
    assert chunked.status_code == 413
    assert served.pool.requests == []


def test_no_model_answers_501_any_more() -> None:
    # imagen is served by service.images.chat; canvas, storybook, video and deep research by
    # service.chat.longrun (tests/service/test_longrun_*.py, tests/e2e/test_e2e_longrun*.py).
    assert [spec.name for spec in CATALOG if not spec.chat_ready] == []


@pytest.mark.parametrize("stream", [False, True])
def test_no_capacity_is_429_with_retry_after(gateway: Served, stream: bool) -> None:
    gateway.pool.queue(Script(enter_error=NoCapacity("all busy", retry_after=6.2)))
    response = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI, "stream": stream})
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert response.json()["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize("stream", [False, True])
def test_no_healthy_account_is_503(gateway: Served, stream: bool) -> None:
    gateway.pool.queue(Script(enter_error=NoEligibleAccount("no healthy account offers pro")))
    response = post(gateway, {"model": "gemini-2.5-pro", "messages": USER_HI, "stream": stream})
    assert response.status_code == 503 and response.json()["error"]["code"] == "no_healthy_account"


def test_upstream_rejection_is_502_naming_the_code(gateway: Served) -> None:
    gateway.pool.queue(
        Script([UpstreamRejected(1037, 8)]),
        Script([TurnSnapshot(error_code=1060, error_status=9)]),
    )
    with pytest.raises(openai.APIStatusError) as info:
        gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=USER_HI)
    assert info.value.status_code == 502 and info.value.code == "gemini_1037"
    assert "1037" in info.value.message
    second = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI})
    assert second.status_code == 502 and second.json()["error"]["code"] == "gemini_1060"
    assert wait_until(lambda: gateway.pool.released == 2 and gateway.pool.active == 0)


def test_upstream_timeout_is_504(gateway: Served) -> None:
    gateway.pool.queue(Script([UpstreamTimeout("no first frame within 60s")]))
    response = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI})
    assert response.status_code == 504 and response.json()["error"]["type"] == "timeout_error"


def test_streamed_timeout_while_leasing_is_a_504_status(gateway: Served) -> None:
    gateway.pool.queue(Script(enter_error=UpstreamTimeout("the page did not load in time")))
    response = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI, "stream": True})
    assert response.status_code == 504 and response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert gateway.pool.leases == 0


def test_streamed_timeout_after_the_role_chunk_is_one_error_event_then_done(gateway: Served) -> None:
    # The role chunk goes out as soon as the lease is held (the status is 200 from then on), so a
    # timeout waiting for the first frame follows the after-the-first-byte contract.
    gateway.pool.queue(Script([UpstreamTimeout("no first frame within 60s")]))
    response = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI, "stream": True})
    assert response.status_code == 200
    events = sse_lines(response)
    assert events[-1] == "data: [DONE]" and len(events) == 3
    role, error = sse_payloads(response)
    assert role["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert error["error"]["type"] == "timeout_error" and error["error"]["code"] == "upstream_timeout"
    assert wait_until(lambda: gateway.pool.stops == 1 and gateway.pool.active == 0)


def test_streamed_unknown_model_is_a_404_status(gateway: Served) -> None:
    response = post(gateway, {"model": "gpt-4o", "messages": USER_HI, "stream": True})
    assert response.status_code == 404 and response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "model_not_found"
    assert gateway.pool.requests == []


def test_error_after_first_byte_is_one_error_event_then_done(gateway: Served) -> None:
    gateway.pool.queue(Script([*growing("Partial answer", pieces=2)[:1], UpstreamRejected(1013, 8)]))
    response = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI, "stream": True})
    assert response.status_code == 200
    events = sse_lines(response)
    assert events[-1] == "data: [DONE]"
    payloads = sse_payloads(response)
    assert payloads[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert payloads[1]["choices"][0]["delta"] == {"content": "Partial"}
    assert payloads[2] == {
        "error": {
            "message": "Gemini rejected the request (code 1013).",
            "type": "upstream_error",
            "param": None,
            "code": "gemini_1013",
        }
    }
    assert len(payloads) == 3
    assert wait_until(lambda: gateway.pool.stops == 1 and gateway.pool.active == 0)


def test_keep_alive_comments_during_silence(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(keep_alive_interval=0.1)
    steps = growing("Slow answer here", pieces=2)
    served.pool.queue(Script([steps[0], Pause(0.45), steps[1]]))
    response = post(served, {"model": "gemini-2.5-flash", "messages": USER_HI, "stream": True})
    events = sse_lines(response)
    assert ": keep-alive" in events
    assert "".join(streamed_contents(response)) == "Slow answer here" and events[-1] == "data: [DONE]"


def test_disconnect_mid_stream_stops_the_page_and_frees_the_lease(gateway: Served) -> None:
    gateway.pool.queue(Script([*growing("Thinking hard", pieces=2)[:1], Pause(30)]))
    with (
        httpx.Client(timeout=10) as client,
        client.stream(
            "POST",
            f"{gateway.url}/v1/chat/completions",
            json={"model": "gemini-2.5-flash", "messages": USER_HI, "stream": True},
            headers={"Authorization": API_KEY},
        ) as response,
    ):
        lines = response.iter_lines()
        seen = [next(lines) for _ in range(3)]  # role event, blank, first content event
        assert "Thinki" in seen[2]
        assert gateway.pool.active == 1
    assert wait_until(lambda: gateway.pool.stops == 1 and gateway.pool.active == 0)
    assert gateway.pool.released == 1


def test_disconnect_while_waiting_non_stream_stops_and_frees(gateway: Served) -> None:
    gateway.pool.queue(Script([Pause(30)]))
    with pytest.raises(httpx.ReadTimeout):
        post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI}, timeout=0.5)
    assert wait_until(lambda: gateway.pool.stops == 1 and gateway.pool.active == 0)


def test_free_model_rejects_images(gateway: Served) -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": data_url(png_bytes())}},
    ]
    response = post(
        gateway, {"model": "gemini-2.5-flash-free", "messages": [{"role": "user", "content": content}]}
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages" and "image" in response.json()["error"]["message"]
    accepted = post(
        gateway, {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": content}]}
    )
    assert accepted.status_code == 200
    (attachment,) = gateway.pool.requests[0].attachments
    assert attachment.mime == "image/png" and attachment.data == png_bytes()


def test_models_list_marks_availability(serve_gateway: Callable[..., Served]) -> None:
    from tests.service.scripted_pool import ScriptedPool

    pool = ScriptedPool(
        account_list=[account(tier="free", modes=frozenset({ModeFamily.FLASH}), tools=frozenset())]
    )
    served = serve_gateway(pool)
    models = served.client().models.list()
    cards = {m.id: m for m in models.data}
    assert len(cards) == len(CATALOG) and all(
        m.object == "model" and m.owned_by == "google" for m in models.data
    )
    available = {name for name, card in cards.items() if (card.model_extra or {})["available"]}
    # What the page offers decides: Flash (and the storybook gem on it), no Pro, no tool.
    assert available == {"gemini-2.5-flash-free", "gemini-2.5-flash", "gemini-2.5-flash-storybook"}
    pool.account_list[:] = [account(), account("acct-2", state=AccountState.SIGNED_OUT)]
    cards = {m.id: m for m in served.client(prefix="/gemini_official/v1").models.list().data}
    available = {name for name, card in cards.items() if (card.model_extra or {})["available"]}
    assert available == {
        "gemini-2.5-flash-free",
        "gemini-2.5-flash",
        "gemini-2.5-pro",
        "gemini-2.5-flash-imagen",
        "gemini-2.5-pro-imagen",
        "gemini-2.5-flash-canvas",
        "gemini-2.5-pro-canvas",
        "gemini-2.5-flash-storybook",
        "gemini-2.5-pro-storybook",
        "gemini-2.5-pro-video",
        "gemini-2.5-flash-deepsearch",
        "gemini-2.5-pro-deepsearch",
        "gemini-2.5-flash-music",
    }
    one = served.client().models.retrieve("gemini-2.5-pro")
    assert one.id == "gemini-2.5-pro"
    with pytest.raises(openai.NotFoundError):
        served.client().models.retrieve("nope")


def test_key_is_checked_before_the_body_is_parsed_or_limited(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(max_body_bytes=2000)
    url = f"{served.url}/v1/chat/completions"
    malformed = b'{"model": "gemini-2.5-flash", "messages": ['
    for headers in ({}, {"Authorization": "Bearer sk-wrong"}):
        response = httpx.post(url, content=malformed, headers={**headers, "Content-Type": "application/json"})
        assert response.status_code == 401, headers
        assert response.json()["error"]["code"] == "invalid_api_key"
    # Over max_body_bytes: without a key it is still 401 (nothing is buffered for strangers) ...
    oversized = json.dumps(
        {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "x" * 5000}]}
    )
    stranger = httpx.post(url, content=oversized, headers={"Content-Type": "application/json"})
    assert stranger.status_code == 401
    # ... and with one it is 413, as before.
    member = httpx.post(url, content=oversized, headers={"Authorization": API_KEY})
    assert member.status_code == 413
    nowhere = httpx.get(f"{served.url}/v1/nowhere")
    assert nowhere.status_code == 401
    valid = httpx.post(
        url, content=malformed, headers={"Authorization": API_KEY, "Content-Type": "application/json"}
    )
    assert valid.status_code == 400 and valid.json()["error"]["code"] == "invalid_json"
    assert served.pool.requests == []


@pytest.fixture
def image_host() -> Iterator[tuple[str, list[str]]]:
    """A PNG on a loopback server: its URL (by IP, so no name resolution is involved) and its hits."""
    hits: list[str] = []

    async def image(request: Request) -> Response:
        hits.append(request.url.path)
        return Response(png_bytes(6), media_type="image/png")

    with serve(Starlette(routes=[Route("/cat.png", image)])) as url:
        port = httpx.URL(url).port
        yield f"http://127.0.0.1:{port}/cat.png", hits


def _image_message(url: str) -> list[dict[str, object]]:
    content = [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}]
    return [{"role": "user", "content": content}]


def test_image_url_on_loopback_is_refused_without_fetching(
    serve_gateway: Callable[..., Served], image_host: tuple[str, list[str]]
) -> None:
    url, hits = image_host
    served = serve_gateway()  # default settings: the SSRF guard is on
    assert served.settings.fetch_allow_private is False
    response = post(served, {"model": "gemini-2.5-flash", "messages": _image_message(url)})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "messages" and error["type"] == "invalid_request_error"
    assert "non-public address" in error["message"] and "127.0.0.1" in error["message"]
    assert served.pool.requests == [] and hits == []


def test_image_url_on_loopback_is_fetched_when_private_hosts_are_allowed(
    serve_gateway: Callable[..., Served], image_host: tuple[str, list[str]]
) -> None:
    url, hits = image_host
    served = serve_gateway(fetch_allow_private=True)
    response = post(served, {"model": "gemini-2.5-flash", "messages": _image_message(url)})
    assert response.status_code == 200
    (attachment,) = served.pool.requests[0].attachments
    assert attachment.mime == "image/png" and attachment.data == png_bytes(6)
    assert hits == ["/cat.png"]


def snapshot(text: str, *, completed: bool = False) -> TurnSnapshot:
    return TurnSnapshot(cid="c_1", text=text, served_model_label="3.5 Flash", completed=completed)


def test_flickering_and_shrinking_snapshots_stream_each_character_once(gateway: Served) -> None:
    final = "Code:\n```py\nx = 1\ny = 2\n```"
    steps = [
        snapshot("Code:\n```"),  # a dangling fence: held back until later text proves it
        snapshot("Code:\n```py\nx = 1"),
        snapshot("Code:\n```py\nx"),  # shrinks: nothing is retracted, nothing new is sent
        snapshot("Code:\n```py\nx = 1\ny = 2"),
        snapshot(final, completed=True),
    ]
    gateway.pool.queue(Script(steps), Script(steps))
    response = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI, "stream": True})
    pieces = streamed_contents(response)
    assert pieces == ["Code:", "\n```py\nx = 1", "\ny = 2", "\n```"]
    received = ""
    for piece in pieces:
        received += piece
        assert final.startswith(received)  # no chunk resends or contradicts earlier text
    assert received == final
    whole = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI})
    assert whole.json()["choices"][0]["message"]["content"] == final


def test_rewrite_never_retracts_or_duplicates_streamed_text(gateway: Served) -> None:
    first = "The answer is forty two, as computed"
    final = "The answer is 42, as computed above."
    steps = [snapshot(first), snapshot(final, completed=True)]
    gateway.pool.queue(Script(steps), Script(steps))
    response = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI, "stream": True})
    pieces = streamed_contents(response)
    # The stream cannot unsay "forty two": it continues after the aligned tail (service/deltas.py).
    assert pieces == [first, " above."]
    assert "".join(pieces).count("The answer is") == 1
    assert sse_lines(response)[-1] == "data: [DONE]"
    whole = post(gateway, {"model": "gemini-2.5-flash", "messages": USER_HI})
    assert whole.json()["choices"][0]["message"]["content"] == final  # non-stream: the final text


@pytest.mark.parametrize("stream", [False, True])
def test_usage_counts_a_prompt_sent_as_message_txt(gateway: Served, stream: bool) -> None:
    prompt = "word " * 26_000  # 130,000 bytes: over the threshold, so typed as a short instruction
    assert len(prompt.encode()) > gateway.settings.max_prompt_bytes
    body: dict[str, object] = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": prompt}]}
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    response = post(gateway, body)
    assert response.status_code == 200
    usage = sse_payloads(response)[-1]["usage"] if stream else response.json()["usage"]
    assert usage["prompt_tokens"] >= len(prompt.encode()) / 4
    request = gateway.pool.requests[0]
    assert request.prompt == OVERSIZED_INSTRUCTION
    assert [(a.name, a.data) for a in request.attachments] == [(ATTACHED_PROMPT_NAME, prompt.encode())]
