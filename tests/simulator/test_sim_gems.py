"""Custom Gems: added per account through /_sim/gems, listed by CNgdBe kind 2, their /gem/<id> page
and a StreamGenerate carrying the gem id at inner[19] (docs/simulator-contract.md "Gems")."""

from __future__ import annotations

import json
import re

import httpx

from tests.simulator.batchexecute_wire import one
from tests.simulator.wire import cookies, decode, generate, requests_log


def _add(sim: str, account: str, *names: str) -> list[str]:
    gems = [{"name": name, "description": f"about {name}", "prompt": f"You are {name}."} for name in names]
    response = httpx.post(f"{sim}/_sim/gems", json={"account": account, "gems": gems}, timeout=5)
    response.raise_for_status()
    return [gem["id"] for gem in response.json()["gems"]]


def test_custom_gems_are_listed_for_their_owners_only(sim: str) -> None:
    [for_kind] = _add(sim, "paid", "Pirate")
    [for_one] = _add(sim, "paid-alice", "Poet")
    alice = one(sim, "CNgdBe", [2, ["en"], 0], account="paid-alice").payload[2]
    assert alice == [
        [for_kind, ["Pirate", "about Pirate"], ["You are Pirate."]],
        [for_one, ["Poet", "about Poet"], ["You are Poet."]],
    ]
    bob = one(sim, "CNgdBe", [2, ["en"], 0], account="paid-bob").payload[2]
    assert [row[0] for row in bob] == [for_kind]
    assert one(sim, "CNgdBe", [2, ["en"], 0], account="free-carol").payload[2] == []
    # Premade gems stay apart from the custom ones.
    assert for_kind not in [row[0] for row in one(sim, "CNgdBe", [4, ["en"], 0]).payload[2]]


def test_a_gem_page_shows_the_gem_and_its_turn_answers_as_it(sim: str) -> None:
    [gem_id] = _add(sim, "paid-alice", "Pirate")
    page = httpx.get(f"{sim}/gem/{gem_id}", cookies=cookies("paid-alice"), timeout=5).text
    assert 'data-test-id="bot-name">Pirate<' in page
    decoded = decode(generate(sim, "hello there", gem=gem_id).content)
    said = f"Answering as the Gem \u201cPirate\u201d ({gem_id}); its instructions: You are Pirate."
    assert said in decoded.text
    assert requests_log(sim)[-1]["gem"] == gem_id


def test_a_gem_chat_page_has_the_gem_and_the_chat(sim: str) -> None:
    [gem_id] = _add(sim, "paid-alice", "Pirate")
    cid = decode(generate(sim, "first words", gem=gem_id).content).final[1][0]
    page = httpx.get(f"{sim}/gem/{gem_id}/{cid.removeprefix('c_')}", cookies=cookies("paid-alice"), timeout=5)
    config = json.loads(re.search(r'id="sim-page-config">(.*?)</script>', page.text, re.S)[1])  # type: ignore[index]
    assert config["gem"] == gem_id and config["chat"]["cid"] == cid
    assert 'data-test-id="bot-name">Pirate<' in page.text


def test_another_accounts_gem_is_not_applied(sim: str) -> None:
    [gem_id] = _add(sim, "paid-alice", "Pirate")
    decoded = decode(generate(sim, "hello there", account="paid-bob", gem=gem_id).content)
    assert "Answering as the Gem" not in decoded.text
    plain = decode(generate(sim, "hello there").content)
    assert "Answering as the Gem" not in plain.text


def test_reset_forgets_custom_gems(sim: str) -> None:
    _add(sim, "paid", "Pirate")
    httpx.post(f"{sim}/_sim/reset", timeout=5).raise_for_status()
    assert one(sim, "CNgdBe", [2, ["en"], 0]).payload[2] == []
