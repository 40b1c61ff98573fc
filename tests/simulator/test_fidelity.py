"""Simulator bodies decode, through our own ``browser.protocol``, into exactly what was asked for.

The simulator writes the protocol with its own encoder; this proves the two sides agree on every
scenario the gateway relies on (plain, thinking, tools, errors, emoji/CJK), and that each body passes
the decoder's framing check. Expected values come from the independent reader in ``wire``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from browser import protocol
from tests.simulator.wire import FLASH, PRO, THINKING, Decoded, decode, generate


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a snapshot field, whatever shape (dataclass, model, list, dict) it has."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes | int | float | bool) or value is None:
        return
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name))
    elif hasattr(value, "model_dump"):
        yield from _strings(value.model_dump())


def _checked(body: bytes) -> Any:
    assert protocol.check_framing(body) == []
    return protocol.decode_turn(body)


def _common(snapshot: Any, wire: Decoded) -> None:
    cid, rid = wire.final[1]
    assert (snapshot.cid, snapshot.rid, snapshot.rcid) == (cid, rid, wire.candidates[-1][0])
    assert snapshot.raw_text == wire.text
    assert snapshot.text == protocol.clean_text(wire.text)
    assert "http://googleusercontent.com/" not in snapshot.text
    assert snapshot.completed is True
    assert snapshot.served_model_id == wire.final[39]
    assert snapshot.served_model_label == wire.final[42]


def test_plain_answer(sim: str) -> None:
    body = generate(sim, "plain question", model=FLASH).content
    snapshot, wire = _checked(body), decode(body)
    _common(snapshot, wire)
    assert snapshot.served_model_id == FLASH and snapshot.served_model_label == "3.5 Flash"
    assert snapshot.context_token == wire.keyed("26")
    assert snapshot.error_code is None and not snapshot.thoughts and not snapshot.images
    assert snapshot.quota is not None


def test_emoji_and_cjk_survive(sim: str) -> None:
    prompt = "emoji 😄🎉 and 中文 你好 and = < > & signs"
    body = generate(sim, prompt).content
    snapshot = _checked(body)
    _common(snapshot, decode(body))
    assert f"Echo: {prompt}" in snapshot.text and "😄" in snapshot.text


@pytest.mark.parametrize(("model", "label"), [(THINKING, "Thinking"), (PRO, "3.1 Pro")])
def test_thinking_and_pro_thoughts(sim: str, model: str, label: str) -> None:
    body = generate(sim, "why is the sky blue", model=model).content
    snapshot, wire = _checked(body), decode(body)
    _common(snapshot, wire)
    assert snapshot.served_model_label == label
    assert snapshot.thoughts == wire.candidates[-1][37][0][0]


def test_image_tool(sim: str) -> None:
    body = generate(sim, "a watercolour fox", tool=14).content
    snapshot, wire = _checked(body), decode(body)
    _common(snapshot, wire)
    urls = [entry[0][3][3] for entry in wire.candidates[-1][12][7][0]]
    found = [s for s in _strings(snapshot.images) if "/gg-dl/" in s]
    assert sorted(set(found)) == sorted(urls)


def test_video_tool(sim: str) -> None:
    body = generate(sim, "waves at night", tool=15).content
    snapshot, wire = _checked(body), decode(body)
    _common(snapshot, wire)
    video_url = wire.candidates[-1][12][59][0][0][0][0][7][1]
    assert video_url in set(_strings(snapshot.video))


def test_canvas_tool(sim: str) -> None:
    body = generate(sim, "a landing page", tool=2).content
    snapshot, wire = _checked(body), decode(body)
    _common(snapshot, wire)
    document = wire.candidates[-1][30][0][2]
    assert document in set(_strings(snapshot.canvas))


def test_deep_research_tool(sim: str) -> None:
    body = generate(sim, "heat pumps", tool=1).content
    snapshot, wire = _checked(body), decode(body)
    _common(snapshot, wire)
    plan = wire.candidates[-1][-1]["56"]
    strings = set(_strings(snapshot.research))
    assert plan[0] in strings and all(step[1] in strings for step in plan[1])


@pytest.mark.parametrize(("account", "code"), [("limited-l", 1037), ("blocked-b", 1060)])
def test_account_error_codes(sim: str, account: str, code: int) -> None:
    snapshot = _checked(generate(sim, "x", account=account).content)
    assert snapshot.error_code == code and not snapshot.text and snapshot.completed is not True


def test_transient_error_code(sim: str) -> None:
    behaviour = {"account": "paid-alice", "behaviours": [{"kind": "error", "code": 1013}]}
    httpx.post(f"{sim}/_sim/behaviours", json=behaviour, timeout=5).raise_for_status()
    assert _checked(generate(sim, "x").content).error_code == 1013


def test_anonymous_answer_with_trailing_1096(sim: str) -> None:
    body = generate(sim, "hello", account=None, at=None).content
    snapshot, wire = _checked(body), decode(body)
    assert snapshot.text == wire.text and snapshot.served_model_label == "3.5 Flash-Lite"
