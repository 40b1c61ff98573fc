"""Against the simulator through the real pool: a regenerate never types into the chat again
(issue 11 item 2), and ``delete_chats=after_turn`` deletes exactly the chats nobody will continue,
through the page's own delete RPC (issue 7 point 5)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.e2e.conftest import Stack, marker, running_stack
from tests.simulator.batchexecute_wire import LIST_ALL, one

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def hygiene_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("e2e-hygiene"), ("paid",), delete_chats="after_turn"
    ) as running:
        yield running


def _ask(stack: Stack, messages: list[dict[str, str]]) -> str:
    reply = stack.client().chat.completions.create(model="gemini-2.5-flash", messages=messages)  # type: ignore[arg-type]
    return reply.choices[0].message.content or ""


def _chat_of(answer: str) -> str:
    found = re.search(r"of chat (c_[0-9a-f]{16})", answer)
    assert found, answer
    return found.group(1)


def _rpcs(stack: Stack, rpc_id: str) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = httpx.get(f"{stack.sim_url}/_sim/rpcs", timeout=10).json()
    return [entry for entry in entries if entry.get("rpcid") == rpc_id]


def test_a_regenerate_gets_a_new_chat_not_a_third_turn(hygiene_stack: Stack) -> None:
    word = marker()
    first = [{"role": "user", "content": f"Hello {word}"}]
    opening = _ask(hygiene_stack, first)
    follow = [*first, {"role": "assistant", "content": opening}, {"role": "user", "content": "Go on"}]
    continued = _ask(hygiene_stack, follow)
    assert continued.startswith("Turn 2 of chat") and _chat_of(continued) == _chat_of(opening)
    again = _ask(hygiene_stack, follow)  # the same history once more: a regenerate
    assert not again.startswith("Turn 3"), "the regenerate typed into the chat that already answered it"
    assert again.startswith("Turn 1 of chat") and _chat_of(again) != _chat_of(opening)


def test_after_turn_deletes_the_failed_turns_chat_only(hygiene_stack: Stack) -> None:
    word = marker()
    kept = _ask(hygiene_stack, [{"role": "user", "content": f"Keep me {word}"}])
    # The next turn is cut after some content: its chat exists on the page, but nobody can continue it.
    httpx.post(
        f"{hygiene_stack.sim_url}/_sim/behaviours",
        json={"account": "*", "behaviours": [{"kind": "drop", "after_frames": 3}]},
        timeout=10,
    ).raise_for_status()
    with pytest.raises(openai.APIStatusError):
        _ask(hygiene_stack, [{"role": "user", "content": f"Drop me {word}"}])
    dropped = next(e for e in hygiene_stack.requests_with(f"Drop me {word}"))
    dropped_cid = str(dropped["cid"])
    hygiene_stack.wait_for(lambda: _deleted(hygiene_stack, dropped_cid), "the page's delete RPC")
    assert not _deleted(hygiene_stack, _chat_of(kept)), "a chat that can be continued was deleted"
    # The simulator agrees: the dropped chat is gone from the account, the kept one still opens.
    assert "couldn't be loaded" in _open_chat(hygiene_stack, dropped_cid)
    assert "couldn't be loaded" not in _open_chat(hygiene_stack, _chat_of(kept))


def test_after_turn_deletes_an_image_generations_chat(hygiene_stack: Stack) -> None:
    word = marker()
    result = hygiene_stack.client().images.generate(model="gemini-2.5-flash-imagen", prompt=f"A cat {word}")
    assert result.data and result.data[0].b64_json
    cid = str(hygiene_stack.requests_with(word)[0]["cid"])
    hygiene_stack.wait_for(lambda: _deleted(hygiene_stack, cid), "the image chat's deletion")
    assert "couldn't be loaded" in _open_chat(hygiene_stack, cid)


def _deleted(stack: Stack, cid: str) -> bool:
    return any(entry["payload"] == [cid] for entry in _rpcs(stack, "GzXR5e"))


def _open_chat(stack: Stack, cid: str) -> str:
    psid = stack.settings.accounts[0].psid
    assert psid is not None
    cookies = {"__Secure-1PSID": psid.get_secret_value()}
    return httpx.get(f"{stack.sim_url}/app/{cid.removeprefix('c_')}", cookies=cookies, timeout=10).text


def test_a_temporary_chat_stays_out_of_the_history_and_is_never_continued(hygiene_stack: Stack) -> None:
    """``extra_body={"temporary": True}`` with the official client: the page's Temporary chat mode
    (inner[45] = 1), no row in the account's chat list, no page at its URL; the same history sent
    again starts a new chat; the janitor has nothing of it to delete."""
    word = marker()
    first = [{"role": "user", "content": f"Off the record {word}"}]
    client = hygiene_stack.client()
    temporary = {"extra_body": {"temporary": True}}
    reply = client.chat.completions.create(model="gemini-2.5-flash", messages=first, **temporary)  # type: ignore[arg-type]
    opening = reply.choices[0].message.content or ""
    assert opening.startswith("Turn 1 of chat")
    chat = _chat_of(opening)
    [entry] = hygiene_stack.requests_with(word)
    assert entry["temporary"] is True and entry["chat_temporary"] is True

    psid = hygiene_stack.settings.accounts[0].psid.get_secret_value()
    listed = one(hygiene_stack.sim_url, "MaZiqc", LIST_ALL, account=psid).payload[2]
    assert chat not in [row[0] for row in listed]
    page = httpx.get(
        f"{hygiene_stack.sim_url}/app/{chat.removeprefix('c_')}", cookies={"__Secure-1PSID": psid}, timeout=10
    )
    assert "This chat couldn't be loaded" in page.text

    follow = [*first, {"role": "assistant", "content": opening}, {"role": "user", "content": "Go on"}]
    again = client.chat.completions.create(model="gemini-2.5-flash", messages=follow, **temporary)  # type: ignore[arg-type]
    text = again.choices[0].message.content or ""
    assert text.startswith("Turn 1 of chat") and _chat_of(text) != chat
    entries = hygiene_stack.requests_with(word)  # the follow-up folds the history, the word included
    assert [(e["temporary"], e["chat_status"]) for e in entries] == [(True, "new"), (True, "new")]
    assert all(call.get("payload") != [chat] for call in _rpcs(hygiene_stack, "GzXR5e"))
