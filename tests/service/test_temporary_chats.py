"""Temporary chats as a request option: the body field (``extra_body``), ``metadata.temporary``, the
``X-Gateway-Temporary`` header and the default setting reach the page as ``TurnRequest.temporary``;
such a chat is never continued nor stored, and a wrong value is a 400 naming its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from service.chat.inputs import FOLD_PREAMBLE
from tests.service.conftest import API_KEY, Served
from tests.service.image_pool import ImagePool
from tests.service.scripted_pool import Script, account, growing
from tests.service.test_compat_tools import ASK, CALL, WEATHER

FIRST = [{"role": "user", "content": "Hi"}]


def _follow_up(answer: str) -> list[dict[str, str]]:
    return [*FIRST, {"role": "assistant", "content": answer}, {"role": "user", "content": "And then?"}]


def _post(gateway: Served, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(
        f"{gateway.url}/v1/{path}",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}", **headers},
        timeout=15,
    )


@pytest.mark.parametrize(
    "how",
    [
        {"extra_body": {"temporary": True}},
        {"metadata": {"temporary": "true"}},
        {"extra_headers": {"X-Gateway-Temporary": "TRUE"}},
    ],
    ids=["extra_body", "metadata", "header"],
)
def test_a_temporary_chat_is_asked_and_never_continued(gateway: Served, how: dict[str, Any]) -> None:
    client = gateway.client()
    gateway.pool.queue(Script(growing("Hello!", cid="c_1")), Script(growing("More.", cid="c_2")))
    first = client.chat.completions.create(model="gemini-2.5-flash", messages=FIRST, **how)  # type: ignore[arg-type]
    answer = first.choices[0].message.content or ""
    client.chat.completions.create(model="gemini-2.5-flash", messages=_follow_up(answer), **how)  # type: ignore[arg-type]
    opening, again = gateway.pool.requests
    assert opening.temporary and again.temporary
    # No mapping was kept: the follow-up is a new chat with the whole history folded in.
    assert again.chat_id is None and again.account_id is None
    assert again.prompt.startswith(FOLD_PREAMBLE) and "[Assistant]\nHello!" in again.prompt


def test_an_ordinary_chat_after_a_temporary_one_is_not_continued_either(gateway: Served) -> None:
    client = gateway.client()
    gateway.pool.queue(Script(growing("Hello!", cid="c_1")), Script(growing("More.", cid="c_2")))
    client.chat.completions.create(model="gemini-2.5-flash", messages=FIRST, extra_body={"temporary": True})  # type: ignore[arg-type]
    client.chat.completions.create(model="gemini-2.5-flash", messages=_follow_up("Hello!"))  # type: ignore[arg-type]
    assert [request.temporary for request in gateway.pool.requests] == [True, False]
    assert gateway.pool.requests[1].chat_id is None


def test_the_setting_makes_every_chat_temporary_unless_asked_otherwise(
    serve_gateway: Callable[..., Served],
) -> None:
    served = serve_gateway(temporary_chats_by_default=True)
    served.pool.queue(*(Script(growing("Hello!", cid=f"c_{n}")) for n in range(3)))
    client = served.client()
    client.chat.completions.create(model="gemini-2.5-flash", messages=FIRST)  # type: ignore[arg-type]
    client.chat.completions.create(model="gemini-2.5-flash", messages=FIRST, metadata={"temporary": "false"})  # type: ignore[arg-type]
    # Deep research continues its chat: refused while the default is on, naming the field.
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="gemini-2.5-flash-deepsearch", messages=FIRST)  # type: ignore[arg-type]
    assert refused.value.body["param"] == "temporary"  # type: ignore[index]
    assert refused.value.body["code"] == "temporary_not_supported"  # type: ignore[index]
    assert [request.temporary for request in served.pool.requests] == [True, False]


@pytest.mark.parametrize(
    ("body", "headers", "param"),
    [
        ({"temporary": "yes"}, {}, "temporary"),
        ({"temporary": 1}, {}, "temporary"),
        ({"metadata": {"temporary": "maybe"}}, {}, "metadata.temporary"),
        ({}, {"X-Gateway-Temporary": "1"}, "X-Gateway-Temporary"),
        ({"temporary": True, "metadata": {"temporary": "false"}}, {}, "temporary"),
    ],
)
def test_invalid_values_are_400s_naming_the_field(
    gateway: Served, body: dict[str, Any], headers: dict[str, str], param: str
) -> None:
    response = _post(
        gateway, "chat/completions", {"model": "gemini-2.5-flash", "messages": FIRST, **body}, **headers
    )
    assert response.status_code == 400, response.text
    assert param in (response.json()["error"]["param"] or "")
    assert gateway.pool.requests == []


def test_a_temporary_response_is_not_stored_nor_continued(gateway: Served) -> None:
    client = gateway.client()
    gateway.pool.queue(Script(growing("Hello!", cid="c_1")))
    result = client.responses.create(model="gemini-2.5-flash", input="Hi", extra_body={"temporary": True})
    assert result.output_text == "Hello!" and result.store is False
    assert gateway.pool.requests[0].temporary
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(result.id)
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="gemini-2.5-flash", input="And then?", previous_response_id=result.id)
    assert refused.value.body["param"] == "previous_response_id"  # type: ignore[index]
    assert "temporary chat" in refused.value.body["message"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"store": True}, "store"),
        ({"background": True}, "background"),
        ({"conversation": "conv_1"}, "conversation"),
    ],
)
def test_a_temporary_response_cannot_be_stored(gateway: Served, body: dict[str, Any], param: str) -> None:
    request = {"model": "gemini-2.5-flash", "input": "Hi", **body}
    response = _post(gateway, "responses", request, **{"X-Gateway-Temporary": "true"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert gateway.pool.requests == []


def test_an_imagen_chat_runs_in_a_temporary_chat_too(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(ImagePool(account_list=[account("acct-1")]), temporary_chats_by_default=True)
    reply = served.client().chat.completions.create(
        model="gemini-2.5-flash-imagen",
        messages=[{"role": "user", "content": "a lighthouse"}],  # type: ignore[list-item]
    )
    assert "![" in (reply.choices[0].message.content or "")
    assert [request.temporary for request in served.pool.requests] == [True]


def test_a_streamed_temporary_chat_keeps_no_mapping_either(gateway: Served) -> None:
    client = gateway.client()
    gateway.pool.queue(Script(growing("Hello there!", cid="c_1")), Script(growing("More.", cid="c_2")))
    header = {"X-Gateway-Temporary": "true"}
    chunks = list(
        client.chat.completions.create(
            model="gemini-2.5-flash", messages=FIRST, stream=True, extra_headers=header
        )  # type: ignore[arg-type]
    )
    answer = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert answer == "Hello there!"
    client.chat.completions.create(model="gemini-2.5-flash", messages=_follow_up(answer))  # type: ignore[arg-type]
    opening, follow = gateway.pool.requests
    assert opening.temporary and not follow.temporary and follow.chat_id is None


def test_a_temporary_retry_is_a_new_temporary_chat_with_the_answer_and_the_ask(gateway: Served) -> None:
    gateway.pool.queue(
        Script(growing("I think it is sunny.", cid="c_tools")), Script(growing(CALL, cid="c_other"))
    )
    result = gateway.client().chat.completions.create(
        model="gemini-2.5-flash",
        messages=ASK,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="required",
        extra_body={"temporary": True},
    )
    assert result.choices[0].finish_reason == "tool_calls"
    first, again = gateway.pool.requests
    assert first.temporary and again.temporary
    assert again.chat_id is None and again.account_id is None  # never typed into the first chat
    assert "[Assistant]\nI think it is sunny." in again.prompt
    assert "did not hold a valid tool call" in again.prompt
