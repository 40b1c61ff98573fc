"""Tool and mode answers at the candidate paths of protocol.md §6 (checked without our decoder)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import httpx

from tests.simulator.batchexecute_wire import one, read_payload
from tests.simulator.wire import (
    FLASH,
    PRO,
    TOOL_CANVAS,
    TOOL_DEEP_RESEARCH,
    decode,
    generate,
)


def test_thoughts_stream_before_text(sim: str) -> None:
    decoded = decode(generate(sim, "think", model=PRO, category=3).content)
    first = decoded.candidates[0]
    assert first[1][0] == "" and first[37][0][0]
    assert decoded.final[42] == "3.1 Pro"
    texts = [c[1][0] for c in decoded.candidates]
    assert all(b.startswith(a) for a, b in itertools.pairwise(texts))
    assert [c[8] for c in decoded.candidates][-1] == [2] and decoded.candidates[-2][8] == [1]


def test_extended_thinking_thinks_longer(sim: str) -> None:
    decoded = decode(generate(sim, "think", model=FLASH, level=2).content)
    assert "Thinking longer" in decoded.candidates[-1][37][0][0]


def test_canvas_document_at_c30(sim: str) -> None:
    decoded = decode(generate(sim, "write a page", tool=TOOL_CANVAS).content)
    canvas = decoded.candidates[-1][30]
    assert "```html\n<!DOCTYPE html>" in json.dumps(canvas, ensure_ascii=False).replace("\\n", "\n")
    assert "http://googleusercontent.com/immersive_entry_chip/0" in decoded.text


def test_deep_research_plan_keys(sim: str) -> None:
    decoded = decode(generate(sim, "solar panels in 2026", tool=TOOL_DEEP_RESEARCH).content)
    extra = decoded.candidates[-1][-1]
    assert isinstance(extra, dict) and extra["70"] == 1
    title, steps, eta = extra["56"][:3]
    assert "solar panels" in title and len(steps) == 3 and eta


def _start_research(sim: str, topic: str) -> tuple[list[object], str]:
    plan = decode(generate(sim, topic, tool=TOOL_DEEP_RESEARCH).content)
    chat = (plan.final[1][0], plan.final[1][1], plan.candidates[-1][0], plan.keyed("26"))
    report = decode(generate(sim, "Start research", tool=TOOL_DEEP_RESEARCH, chat=chat, turn=1).content)
    return report.candidates[-1], report.text


def test_the_research_report_is_the_turns_text(sim: str) -> None:
    """research_report "text" (K5, GA ``fetch_latest_chat_response``): the report is c[1][0]."""
    candidate, text = _start_research(sim, "tidal energy")
    assert text.startswith("# Research report: tidal energy")
    assert "https://sources.example/" in text and "googleusercontent.com" not in text
    assert candidate[30] is None and not isinstance(candidate[-1], dict)


def test_the_immersive_research_report_is_a_c30_document(sim: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"research_report": "immersive"}, timeout=5).raise_for_status()
    candidate, text = _start_research(sim, "tidal energy")
    document = candidate[30][0][2]  # type: ignore[index]
    assert document.startswith("# Research report: tidal energy")
    assert "immersive_entry_chip" in text and not isinstance(candidate[-1], dict)


def _run_research(sim: str, topic: str) -> tuple[str, str, Any]:
    """A research that runs on after its "Start research" stub (``research_seconds``)."""
    plan = decode(generate(sim, topic, tool=TOOL_DEEP_RESEARCH).content)
    cid, rid = plan.final[1]
    research_id = plan.candidates[-1][-1]["71"]
    stub = decode(
        generate(
            sim, "Start research", tool=TOOL_DEEP_RESEARCH, chat=(cid, rid, plan.candidates[-1][0], "")
        ).content
    )
    assert "I'm on it" in stub.text and stub.candidates[-1][30] is None
    assert one(sim, "kwDCne", [research_id]).payload[1][0] == 2
    deadline = time.monotonic() + 20
    while one(sim, "kwDCne", [research_id]).payload[1][0] != 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    stub_rid = stub.final[1][1]
    [turn] = [t for t in one(sim, "hNvQHb", read_payload(cid)).payload[0] if t[0][1] == stub_rid]
    return cid, stub_rid, turn[3][0][0]


def test_a_research_that_ran_on_is_read_from_history_as_text(sim: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"research_seconds": 1.0}, timeout=5).raise_for_status()
    _, _, candidate = _run_research(sim, "geothermal power")
    assert candidate[1][0].startswith("# Research report: geothermal power") and candidate[30] is None


def test_a_research_that_ran_on_is_read_from_history_as_a_document(sim: str) -> None:
    config = {"research_seconds": 1.0, "research_report": "immersive"}
    httpx.post(f"{sim}/_sim/config", json=config, timeout=5).raise_for_status()
    _, _, candidate = _run_research(sim, "geothermal power")
    assert "I'm on it" in candidate[1][0]
    assert candidate[30][0][2].startswith("# Research report: geothermal power")
