"""Simulator bodies decode, through our own ``browser.protocol``, into exactly what was asked for.

The simulator writes the protocol with its own encoder; this proves the two sides agree on every
scenario the gateway relies on (plain, thinking, tools, errors, emoji/CJK), and that each body passes
the decoder's framing check. Expected values come from the independent reader in ``wire``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from browser import protocol
from tests.simulator.wire import (
    FLASH,
    PRO,
    THINKING,
    TOOL_VIDEO,
    Decoded,
    decode,
    generate,
    split_frames,
)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


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
    assert snapshot.served_model_id == FLASH and snapshot.served_model_label == "3.8 Flash"
    assert snapshot.context_token == wire.keyed("26")
    assert snapshot.error_code is None and not snapshot.thoughts and not snapshot.images
    assert snapshot.quota is not None


def test_emoji_and_cjk_survive(sim: str) -> None:
    prompt = "emoji 😄🎉 and 中文 你好 and = < > & signs"
    body = generate(sim, prompt).content
    snapshot = _checked(body)
    _common(snapshot, decode(body))
    assert f"Echo: {prompt}" in snapshot.text and "😄" in snapshot.text


@pytest.mark.parametrize(
    ("model", "level", "label"),
    [(FLASH, 2, "3.8 Flash Extended"), (FLASH, 4, "3.8 Flash"), (PRO, 1, "3.1 Pro")],
)
def test_thinking_and_pro_thoughts(sim: str, model: str, level: int, label: str) -> None:
    body = generate(sim, "why is the sky blue", model=model, level=level).content
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


def _stream_video(base: str) -> None:
    """``video_flow: stream``: the final frame carries the URL (today's behaviour, J4)."""
    httpx.post(f"{base}/_sim/config", json={"video_flow": "stream"}, timeout=5).raise_for_status()


def test_video_tool_streamed(sim: str) -> None:
    _stream_video(sim)
    body = generate(sim, "waves at night", tool=TOOL_VIDEO).content
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


def _sha16(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _expected_head(turn: int, cid: str, prompt: str, earlier: list[str]) -> str:
    """The answer's opening lines, written from docs/simulator-contract.md "Answers" alone."""
    digest = _sha16("\x1e".join(earlier)) if earlier else "none"
    return (
        f"Turn {turn} of chat {cid}. I received {len(prompt)} characters (sha256 {_sha16(prompt)}).\n"
        f"Earlier turns seen: {turn - 1} (digest {digest}).\n"
        f"Echo: {prompt[:200]}"
    )


def test_text_follows_the_contract_formula_over_two_turns(sim: str) -> None:
    first_prompt = "Zeile eins\nligne deux 😄 第三行 = < > & " * 12  # > 200 chars: the echo is cut
    first = _checked(generate(sim, first_prompt).content)
    assert first.cid is not None and re.fullmatch(r"c_[0-9a-f]{16}", first.cid)
    head = _expected_head(1, first.cid, first_prompt, [])
    assert first.text.startswith(head + "\n\n")
    assert "😄" in first.text[len(head) :] and "你好" in first.text[len(head) :]

    chat = (first.cid, first.rid or "", first.rcid or "", first.context_token or "")
    second_prompt = "and now the follow-up"
    second = _checked(generate(sim, second_prompt, chat=chat, turn=1).content)
    assert second.cid == first.cid and second.rid != first.rid
    assert second.text.startswith(_expected_head(2, first.cid, second_prompt, [first_prompt]) + "\n\n")


def test_generated_images_decode_in_full(sim: str) -> None:
    prompt = "a watercolour fox"
    body = generate(sim, prompt, tool=14).content
    snapshot, wire = _checked(body), decode(body)
    count = 1 + int(_sha16(prompt)[0], 16) % 2  # the contract: 1 or 2 images from the sha256
    urls = [entry[0][3][3] for entry in wire.candidates[-1][12][7][0]]
    assert len(urls) == count
    assert all(url.startswith(f"{sim}/gg-dl/") and url.endswith("=s1024-rj") for url in urls)
    expected = tuple(
        protocol.GeneratedImage(
            url, f"http://googleusercontent.com/image_generation_content/{i}", f"image_{i}.png"
        )
        for i, url in enumerate(urls)
    )
    assert snapshot.images == expected
    assert all(image.image_id in snapshot.raw_text for image in expected if image.image_id)


def test_polled_video_decodes_as_a_pending_job(sim: str) -> None:
    """``video_flow: poll`` (J1): every frame carries only the job chip, no URL."""
    body = generate(sim, "waves at night", tool=TOOL_VIDEO).content
    snapshot, wire = _checked(body), decode(body)
    _common(snapshot, wire)
    job = wire.candidates[-1][12][0]["65"][1]
    assert snapshot.video == protocol.VideoInfo(None, None, job, pending=True)
    assert "/download?" not in body.decode()


def test_video_info_decodes_in_full(sim: str) -> None:
    _stream_video(sim)
    body = generate(sim, "waves at night", tool=TOOL_VIDEO).content
    snapshot, wire = _checked(body), decode(body)
    chips = [
        c[12][0]["65"] for c in wire.candidates if isinstance(c[12], list) and isinstance(c[12][0], dict)
    ]
    assert chips, "no pending video chip before the rendered video"
    job_id = chips[0][1]
    thumbnail, video = wire.candidates[-1][12][59][0][0][0][0][7]
    assert thumbnail.startswith(f"{sim}/download?c=") and thumbnail.endswith("filename=thumbnail.jpg")
    assert video.startswith(f"{sim}/download?c=") and video.endswith("filename=video.mp4")
    assert snapshot.video == protocol.VideoInfo(thumbnail, video, job_id, pending=False)
    assert _UUID.fullmatch(job_id)


def test_research_plan_decodes_in_full(sim: str) -> None:
    prompt = "heat pumps"
    body = generate(sim, prompt, tool=1).content
    snapshot, wire = _checked(body), decode(body)
    extra = wire.candidates[-1][-1]
    title, steps, eta = extra["56"][:3]
    assert snapshot.research == protocol.ResearchInfo(
        title=title,
        steps=tuple(protocol.ResearchStep(label, text) for _, label, text in steps),
        eta=eta,
        state=1,
        research_id=extra["71"],
    )
    assert title == f"Research: {prompt}" and len(steps) == 3 and eta and _UUID.fullmatch(extra["71"])


def test_quota_numbers(sim: str) -> None:
    before = time.time()
    snapshot = _checked(generate(sim, "quota please").content)
    after = time.time()
    quota = snapshot.quota
    assert quota is not None and quota.model_id == FLASH
    # The two buckets mirror the real capture (protocol.md §5 item 4), resetting in five hours.
    assert [(b.feature, b.limit, b.remaining) for b in quota.buckets] == [
        ((1, 20, 1), 15, 14),
        ((1, 16, 1), 200, 197),
    ]
    assert all(before + 5 * 3600 - 1 <= t <= after + 5 * 3600 + 1 for t in quota.reset_times)


@pytest.mark.parametrize(("model", "label"), [(FLASH, "Fast"), (THINKING, "Thinking"), (PRO, "Pro")])
def test_early_2026_labels(sim: str, model: str, label: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"ui": "early2026"}, timeout=5).raise_for_status()
    body = generate(sim, "which model?", model=model).content
    snapshot = _checked(body)
    _common(snapshot, decode(body))
    assert (snapshot.served_model_id, snapshot.served_model_label) == (model, label)


def test_unknown_model_1052_decodes(sim: str) -> None:
    snapshot = _checked(generate(sim, "x", model="0000000000000000").content)
    assert (snapshot.error_code, snapshot.error_status) == (1052, 9)
    assert snapshot.failed and not snapshot.has_content


def test_unknown_upload_1100_decodes(sim: str) -> None:
    files = [[["/contrib_service/ttl_1d/not-uploaded", 1, None, "image/png"], "x.png"]]
    snapshot = _checked(generate(sim, "look at this", files=files).content)
    assert (snapshot.error_code, snapshot.error_status) == (1100, 7)
    assert snapshot.failed and not snapshot.has_content


def _frame_kinds(body: bytes) -> list[str]:
    """What each frame is, read with the independent reader in ``wire``."""
    kinds = []
    for frame in split_frames(body):
        names = [item[0] for item in frame]
        if names in (["e"], ["di", "af.httprm"]):
            kinds.append(names[0])
            continue
        assert names == ["wrb.fr"], names
        if not isinstance(frame[0][2], str):
            kinds.append("error")
            continue
        payload = json.loads(frame[0][2])
        fields = payload[2] if isinstance(payload[2], dict) else {}
        if "18" in fields:
            kinds.append("locator")
        elif "28" in fields or "26" in fields:
            kinds.append("quota" if "28" in fields else "context")
        elif payload[4][0][8] == [2]:
            assert (payload[39], payload[42]) != (None, None), "final frame without the model echo"
            kinds.append("final")
        else:
            assert payload[4][0][8] == [1] and payload[39] is None
            kinds.append("content")
    return kinds


def _collapse(kinds: list[str]) -> list[str]:
    return [kind for kind, _ in itertools.groupby(kinds)]


def test_frame_order_of_an_answer(sim: str) -> None:
    kinds = _frame_kinds(generate(sim, "in order").content)
    assert kinds.count("content") >= 2
    assert _collapse(kinds) == ["locator", "content", "final", "quota", "context", "di", "e"]


def test_frame_order_of_an_anonymous_answer(sim: str) -> None:
    kinds = _frame_kinds(generate(sim, "in order", account=None, at=None).content)
    assert _collapse(kinds) == ["locator", "content", "final", "error", "di", "e"]
