"""Temporary chats on the wire (inner[45] = 1): answered and continued by their own page, but in no
chat list, not reopenable by URL, and refused with 1135 once their lifetime is over."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.simulator.batchexecute_wire import LIST_ALL, one
from tests.simulator.wire import cookies, decode, freq, generate, requests_log


def _listed(sim: str) -> list[str]:
    answer = one(sim, "MaZiqc", LIST_ALL)
    return [entry[0] for entry in answer.payload[2]]


def _follow_up(sim: str, first: Any, prompt: str) -> httpx.Response:
    cid, rid = first.final[1]
    rcid = first.candidates[-1][0]
    return generate(sim, prompt, chat=(cid, rid, rcid, ""), turn=1, temporary=True)


def test_a_temporary_chat_answers_and_stays_out_of_the_history(sim: str) -> None:
    saved = decode(generate(sim, "kept").content)
    first = decode(generate(sim, "passing through", temporary=True).content)
    cid = first.final[1][0]
    assert "Turn 1 of chat" in first.text
    entries = requests_log(sim)
    assert [entry["temporary"] for entry in entries] == [False, True]
    assert [entry["chat_temporary"] for entry in entries] == [False, True]
    assert _listed(sim) == [saved.final[1][0]]  # the temporary chat is in no list
    # Its own page goes on with it ...
    second = decode(_follow_up(sim, first, "and again").content)
    assert second.final[1][0] == cid and "Turn 2 of chat" in second.text
    assert requests_log(sim)[-1]["chat_status"] == "continued"
    # ... but its URL opens nothing, unlike a saved chat's.
    page = httpx.get(f"{sim}/app/{cid.removeprefix('c_')}", cookies=cookies("paid-alice"), timeout=10)
    assert "This chat couldn't be loaded" in page.text
    kept = httpx.get(f"{sim}/app/{saved.final[1][0].removeprefix('c_')}", cookies=cookies("paid-alice"))
    assert "This chat couldn't be loaded" not in kept.text


def test_a_temporary_chat_expires_with_1135(sim: str) -> None:
    first = decode(generate(sim, "short-lived", temporary=True).content)
    httpx.post(f"{sim}/_sim/config", json={"temporary_chat_lifetime": 0.001}, timeout=5).raise_for_status()
    late = _follow_up(sim, first, "still there?")
    assert late.status_code == 200
    entry = requests_log(sim)[-1]
    assert entry["outcome"] == "error" and entry["error_code"] == 1135


def test_the_page_has_the_temporary_chat_button_only_when_signed_in(sim: str) -> None:
    for ui in ("oct2026", "mid2026", "early2026"):
        httpx.post(f"{sim}/_sim/config", json={"ui": ui}, timeout=5).raise_for_status()
        signed_in = httpx.get(f"{sim}/app", cookies=cookies("paid-alice"), timeout=10).text
        assert 'data-test-id="temp-chat-button" aria-label="Temporary chat"' in signed_in, ui
        assert "<temp-chat-button" in signed_in
        signed_out = httpx.get(f"{sim}/app", timeout=10).text
        assert "temp-chat-button" not in signed_out, ui


def test_inner_45_must_be_an_integer(sim: str) -> None:
    inner = json.loads(json.loads(freq("x"))[1])
    inner[45] = "1"
    response = httpx.post(
        f"{sim}/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate?rt=c",
        data={"f.req": json.dumps([None, json.dumps(inner)])},
        timeout=10,
    )
    assert response.status_code == 400
    assert requests_log(sim)[-1]["reason"] == "expected an integer"
