"""Tool and mode answers at the candidate paths of protocol.md §6 (checked without our decoder)."""

from __future__ import annotations

import itertools
import json

from tests.simulator.wire import THINKING, decode, generate, mode_header

TOOL_DEEP_RESEARCH = 1
TOOL_CANVAS = 2


def test_thinking_streams_thoughts_before_text(sim: str) -> None:
    decoded = decode(generate(sim, "think", model=THINKING).content)
    first = decoded.candidates[0]
    assert first[1][0] == "" and first[37][0][0]
    assert decoded.final[42] == "Thinking"
    texts = [c[1][0] for c in decoded.candidates]
    assert all(b.startswith(a) for a, b in itertools.pairwise(texts))
    assert [c[8] for c in decoded.candidates][-1] == [2] and decoded.candidates[-2][8] == [1]


def test_extended_thinking_thinks_longer(sim: str) -> None:
    import httpx

    from tests.simulator.wire import PATH, freq, xsrf_token

    form = {"f.req": freq("think"), "at": xsrf_token(sim, "paid-alice")}
    headers = {"x-goog-ext-525001261-jspb": mode_header(THINKING, 2, 2)}
    cookies = {"__Secure-1PSID": "paid-alice"}
    body = httpx.post(f"{sim}{PATH}?rt=c", data=form, headers=headers, cookies=cookies, timeout=20).content
    assert "Thinking longer" in decode(body).candidates[-1][37][0][0]


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


def test_free_accounts_get_no_tools(sim: str) -> None:
    decoded = decode(generate(sim, "draw", account="free-f", tool=14).content)
    assert decoded.candidates[-1][12] is None


def test_start_research_follow_up_answers_with_the_report(sim: str) -> None:
    plan = decode(generate(sim, "tidal energy", tool=TOOL_DEEP_RESEARCH).content)
    chat = (plan.final[1][0], plan.final[1][1], plan.candidates[-1][0], plan.keyed("26"))
    report = decode(generate(sim, "Start research", tool=TOOL_DEEP_RESEARCH, chat=chat, turn=1).content)
    document = report.candidates[-1][30][0][2]
    assert document.startswith("# Research report: tidal energy")
    assert "immersive_entry_chip" in report.text and not isinstance(report.candidates[-1][-1], dict)
