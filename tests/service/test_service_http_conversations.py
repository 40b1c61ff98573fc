"""Conversation reuse over HTTP: a follow-up continues the same chat and sends only the new turn."""

from __future__ import annotations

from collections.abc import Callable

from browser import NoEligibleAccount
from service.chat.inputs import FOLD_PREAMBLE
from tests.service.conftest import Served
from tests.service.scripted_pool import Script, ScriptedPool, account, growing

FIRST = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]


def follow_up(answer: str) -> list[dict[str, str]]:
    return [*FIRST, {"role": "assistant", "content": answer}, {"role": "user", "content": "And then?"}]


def test_follow_up_continues_the_chat_with_only_the_new_turn(gateway: Served) -> None:
    client = gateway.client()
    gateway.pool.queue(Script(growing("Hello!", cid="c_42")), Script(growing("Then more.", cid="c_42")))
    first = client.chat.completions.create(model="gemini-2.5-flash", messages=FIRST)  # type: ignore[arg-type]
    answer = first.choices[0].message.content or ""
    client.chat.completions.create(model="gemini-2.5-flash", messages=follow_up(answer))  # type: ignore[arg-type]
    opening, follow = gateway.pool.requests
    assert opening.prompt.startswith(FOLD_PREAMBLE) and opening.chat_id is None
    assert follow.prompt == "And then?"
    assert (follow.account_id, follow.chat_id) == ("acct-1", "c_42")


def test_streamed_answers_are_remembered_too(gateway: Served) -> None:
    client = gateway.client()
    gateway.pool.queue(Script(growing("Hello there!", cid="c_7")))
    chunks = list(client.chat.completions.create(model="gemini-2.5-pro", messages=FIRST, stream=True))  # type: ignore[arg-type]
    answer = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    client.chat.completions.create(model="gemini-2.5-pro", messages=follow_up(answer))  # type: ignore[arg-type]
    assert gateway.pool.requests[1].chat_id == "c_7"


def test_other_keys_and_other_families_start_new_chats(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("Hello!", cid="c_1")))
    gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=FIRST)  # type: ignore[arg-type]
    gateway.client(key="sk-other-key").chat.completions.create(
        model="gemini-2.5-flash",
        messages=follow_up("Hello!"),  # type: ignore[arg-type]
    )
    gateway.client().chat.completions.create(model="gemini-2.5-pro", messages=follow_up("Hello!"))  # type: ignore[arg-type]
    _, other_key, other_family = gateway.pool.requests
    for request in (other_key, other_family):
        assert request.chat_id is None and request.prompt.startswith(FOLD_PREAMBLE)
        assert request.prompt.endswith("[User]\nAnd then?")


def test_gone_account_falls_back_to_a_folded_new_chat(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool(account_list=[account("acct-1")])
    served = serve_gateway(pool)
    pool.queue(Script(growing("Hello!", cid="c_1"), account_id="acct-1"))
    served.client().chat.completions.create(model="gemini-2.5-flash", messages=FIRST)  # type: ignore[arg-type]
    pool.account_list[:] = [account("acct-2")]
    served.client().chat.completions.create(model="gemini-2.5-flash", messages=follow_up("Hello!"))  # type: ignore[arg-type]
    fallback = pool.requests[1]
    assert fallback.chat_id is None and fallback.account_id is None
    assert "[Assistant]\nHello!" in fallback.prompt


def test_account_that_cannot_serve_now_falls_back(gateway: Served) -> None:
    gateway.pool.queue(
        Script(growing("Hello!", cid="c_1")),
        Script(enter_error=NoEligibleAccount("account 'acct-1' cannot serve flash now")),
    )
    client = gateway.client()
    client.chat.completions.create(model="gemini-2.5-flash", messages=FIRST)  # type: ignore[arg-type]
    result = client.chat.completions.create(model="gemini-2.5-flash", messages=follow_up("Hello!"))  # type: ignore[arg-type]
    _, refused, fresh = gateway.pool.requests
    assert refused.chat_id == "c_1" and fresh.chat_id is None and fresh.prompt.startswith(FOLD_PREAMBLE)
    assert result.choices[0].message.content == f"You said: {fresh.prompt}"
