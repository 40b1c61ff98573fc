"""Answers name the turn and digest the earlier turns; follow-ups continue the chat."""

from __future__ import annotations

import hashlib

from tests.simulator.wire import decode, generate, requests_log


def _sha16(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_follow_up_continues_the_chat(sim: str) -> None:
    first = decode(generate(sim, "first question").content)
    cid, rid = first.final[1]
    rcid = first.candidates[-1][0]
    token = first.keyed("26")
    assert cid.startswith("c_") and rid.startswith("r_") and rcid.startswith("rc_")
    second = decode(generate(sim, "second", chat=(cid, rid, rcid, token), turn=1).content)
    assert second.final[1][0] == cid
    assert f"Turn 2 of chat {cid}." in second.text
    assert f"Earlier turns seen: 1 (digest {_sha16('first question')})." in second.text
    third = decode(
        generate(sim, "third", chat=(cid, *second.final[1][1:], second.candidates[-1][0], "t")).content
    )
    assert f"digest {_sha16(chr(0x1E).join(['first question', 'second']))}" in third.text
    assert [e["chat_status"] for e in requests_log(sim)] == ["new", "continued", "continued"]


def test_unknown_cid_starts_a_new_chat(sim: str) -> None:
    decoded = decode(generate(sim, "x", chat=("c_0000000000000000", "r_1", "rc_1", "")).content)
    assert decoded.final[1][0] != "c_0000000000000000"
    assert "Turn 1 of chat" in decoded.text
    assert requests_log(sim)[-1]["chat_status"] == "unknown_cid"


def test_long_unicode_prompt_arrives_intact(sim: str) -> None:
    line = "línea 😄 你好 = <tag> & more, then plenty of plain ASCII padding to stay under the limit\n"
    prompt = (line * 2000)[:100_000]
    assert len(prompt.encode()) < 130_000
    decoded = decode(generate(sim, prompt).content)
    digest = hashlib.sha256(prompt.encode()).hexdigest()
    assert f"I received {len(prompt)} characters (sha256 {digest[:16]})" in decoded.text
    entry = requests_log(sim)[-1]
    assert entry["prompt_sha256"] == digest and entry["prompt"] == prompt
    assert entry["prompt_truncated"] is False


def test_prompt_over_the_byte_limit_is_truncated_from_the_end(sim: str) -> None:
    prompt = "a" * 131_000
    decoded = decode(generate(sim, prompt).content)
    assert "I received 130000 characters" in decoded.text
    entry = requests_log(sim)[-1]
    assert entry["prompt_truncated"] is True and entry["prompt"] == "a" * 130_000


def test_same_prompt_same_answer_across_resets(sim: str) -> None:
    import httpx

    first = decode(generate(sim, "deterministic").content)
    httpx.post(f"{sim}/_sim/reset", timeout=5)
    again = decode(generate(sim, "deterministic").content)
    assert first.text == again.text and first.final[1] == again.final[1]
