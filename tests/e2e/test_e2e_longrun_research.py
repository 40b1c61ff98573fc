"""Deep research through chat completions, end to end: the official openai SDK against uvicorn, the
real pool on Chromium and the simulator (plan card, "Start research", the report document)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from simulator.answers import sha16
from tests.e2e.conftest import KEY_A, Stack, marker

MODELS = ["gemini-2.5-flash-deepsearch", "gemini-2.5-pro-deepsearch"]


def _report_checks(content: str, topic: str) -> None:
    assert content.startswith(f"# Research report: {topic}")
    assert f"sha256 {sha16(topic)}" in content
    digest = sha16(topic)
    # The report's inline citations, gathered as a numbered list of links.
    assert content.rstrip().endswith(
        "## Sources\n\n"
        f"1. [the first source](https://sources.example/{digest}/first)\n"
        f"2. [the second source](https://sources.example/{digest}/second)"
    )


@pytest.mark.parametrize("model", MODELS)
def test_the_plan_is_confirmed_and_the_report_is_the_answer(stack: Stack, model: str) -> None:
    topic = f"tidal energy {marker()}"
    answer = stack.client().chat.completions.create(
        model=model, messages=[{"role": "user", "content": topic}]
    )
    content = answer.choices[0].message.content
    assert content is not None
    _report_checks(content, topic)
    plan, start = stack.requests_with(topic)[-1], stack.sim_requests()[-1]
    assert plan["tool"] == 1 and start["tool"] == 1
    assert start["prompt"] == "Start research" and start["cid"] == plan["cid"]  # the same chat


def test_streamed_research_reports_progress_as_reasoning(stack: Stack) -> None:
    topic = f"wind farms {marker()}"
    chunks = stack.client().chat.completions.create(
        model=MODELS[1], messages=[{"role": "user", "content": topic}], stream=True
    )
    content, reasoning = [], []
    for chunk in chunks:
        if chunk.choices:
            content.append(chunk.choices[0].delta.content or "")
            reasoning.append(getattr(chunk.choices[0].delta, "reasoning_content", None) or "")
    _report_checks("".join(content), topic)
    thoughts = "".join(reasoning)
    assert thoughts.startswith(f"Research started: Research: {topic}") and "Report ready." in thoughts


def test_a_streamed_research_is_never_silent_while_it_is_planned(stack: Stack) -> None:
    """The plan and "Start research" turns come before the first chunk: the stream is open from
    the start, so the first bytes a client reads are a keep-alive, not a wait for the whole plan."""
    body = {
        "model": MODELS[0],
        "stream": True,
        "messages": [{"role": "user", "content": f"tides {marker()}"}],
    }
    headers = {"Authorization": f"Bearer {KEY_A}"}
    with httpx.stream(
        "POST", f"{stack.url}/v1/chat/completions", json=body, headers=headers, timeout=90
    ) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines) == ": keep-alive"
        rest = list(lines)
    assert "data: [DONE]" in rest and any(line.startswith("data: {") for line in rest)


def test_the_plan_on_request_then_a_follow_up_starts_it(stack: Stack) -> None:
    client = stack.client()
    topic = f"coral reefs {marker()}"
    messages: list[Any] = [{"role": "user", "content": topic}]
    plan = (
        client.chat.completions.create(
            model=MODELS[0], messages=messages, extra_body={"research_confirm": False}
        )
        .choices[0]
        .message.content
    )
    assert plan is not None and plan.startswith(f"**Research: {topic}**")
    assert "1. **Research websites**" in plan and "3. **Create report**" in plan and "Reply “start”" in plan
    first = stack.requests_with(topic)
    assert len(first) == 1  # nothing was confirmed
    messages += [{"role": "assistant", "content": plan}, {"role": "user", "content": "Start"}]
    report = client.chat.completions.create(model=MODELS[0], messages=messages).choices[0].message.content
    assert report is not None
    _report_checks(report, topic)
    start = stack.sim_requests()[-1]
    assert start["prompt"] == "Start research" and start["cid"] == first[0]["cid"]


def test_research_confirm_must_be_a_boolean(stack: Stack) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as refused:
        stack.client().chat.completions.create(
            model=MODELS[0],
            messages=[{"role": "user", "content": "x"}],
            extra_body={"research_confirm": "no"},
        )
    assert refused.value.body is not None and "research_confirm" in str(refused.value.message)
