"""Deep research through chat completions, end to end: the official openai SDK against uvicorn, the
real pool on Chromium and the simulator (plan card, "Start research", the report document).

Which account serves a research depends on what earlier tests spent (a free account's Pro allowance
runs out in the simulator as at Google's): every test here holds whichever account serves it, and
the free account's spent allowance is the subject of a test of its own, on a stack of its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from pydantic import SecretStr

from simulator.answers import sha16
from tests.e2e.conftest import KEY_A, Stack, marker, running_stack

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
    with pytest.raises(openai.BadRequestError) as refused:
        stack.client().chat.completions.create(
            model=MODELS[0],
            messages=[{"role": "user", "content": "x"}],
            extra_body={"research_confirm": "no"},
        )
    assert refused.value.body is not None and "research_confirm" in str(refused.value.message)


ADMIN_KEY = "adm-research-limit"


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_a_plan_whose_account_runs_out_before_the_start_is_researched_on_another(
    tmp_path: Path, stream: bool
) -> None:
    """The free account's Pro allowance (one turn here) is spent by the plan itself, so its "Start
    research" answers 1037: nothing reached the client yet, so the research is planned again and
    confirmed on the paid account, and the client gets the whole report; the free account cools for
    research until the reset its answer named."""
    with running_stack(tmp_path / "data", ("free",), admin_keys=(SecretStr(ADMIN_KEY),)) as one:
        # The paid account is added after the free one: the pool's first pick among idle accounts
        # is the free one, so the plan goes there (the log below shows it did).
        added = httpx.post(
            f"{one.url}/admin/accounts",
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            json={"name": "e2e-paid", "psid": f"paid-limit-{marker()}"},
            timeout=90,
        )
        assert added.status_code == 201, added.text
        one.wait_for(lambda: [a.state.value for a in one.accounts()] == ["ready", "ready"], "both accounts")
        ids = {account.tier: account.id for account in one.accounts()}
        one.sim_config(free_pro_turns=1)
        topic = f"ocean currents {marker()}"
        request: dict[str, Any] = {"model": MODELS[1], "messages": [{"role": "user", "content": topic}]}
        if stream:
            content, reasoning = [], []
            for chunk in one.client().chat.completions.create(**request, stream=True):
                if chunk.choices:
                    content.append(chunk.choices[0].delta.content or "")
                    reasoning.append(getattr(chunk.choices[0].delta, "reasoning_content", None) or "")
            report = "".join(content)
            assert "".join(reasoning).startswith(f"Research started: Research: {topic}")
        else:
            report = one.client().chat.completions.create(**request).choices[0].message.content or ""
        _report_checks(report, topic)
        plans = one.requests_with(topic)
        starts = [entry for entry in one.sim_requests() if entry["prompt"] == "Start research"]
        # The plan on the free account, its start refused there (1037), then both on the paid one.
        assert [(e["account"], e["outcome"]) for e in plans] == [("free", "completed"), ("paid", "completed")]
        tried = [(e["account"], e["sent_cid"], e.get("error_code")) for e in starts]
        assert tried == [("free", plans[0]["cid"], 1037), ("paid", plans[1]["cid"], None)]
        cooling = {account.id: account.cooling_until for account in one.accounts()}
        assert "deep_research" in cooling[ids["free"]] and not cooling[ids["paid"]]


def test_a_plan_whose_only_account_runs_out_before_the_start_is_a_429(tmp_path: Path) -> None:
    """No other account to plan on: the answer names the wait until the spent quota resets."""
    with running_stack(tmp_path / "data", ("free",)) as one:
        one.sim_config(free_pro_turns=1)
        topic = f"glaciers {marker()}"
        with pytest.raises(openai.RateLimitError) as refused:
            one.client().chat.completions.create(
                model=MODELS[1], messages=[{"role": "user", "content": topic}]
            )
        assert refused.value.code == "no_capacity"
        retry_after = float(refused.value.response.headers["retry-after"])
        assert 3600 < retry_after <= 5 * 3600, "the wait comes from the exhausted quota's reset time"
        starts = [entry for entry in one.sim_requests() if entry["prompt"] == "Start research"]
        assert [e.get("error_code") for e in starts] == [1037] and len(one.requests_with(topic)) == 1
        # A stream's 200 and keep-alives go out before the plan: the same refusal is its error event.
        asked = [{"role": "user", "content": f"fjords {marker()}"}]
        body = {"model": MODELS[1], "stream": True, "messages": asked}
        url, headers = f"{one.url}/v1/chat/completions", {"Authorization": f"Bearer {KEY_A}"}
        with httpx.stream("POST", url, json=body, headers=headers, timeout=90) as sse:
            assert sse.status_code == 200
            events = [json.loads(line[6:]) for line in sse.iter_lines() if line.startswith("data: {")]
        errors = [(event["error"]["type"], event["error"]["code"]) for event in events]
        assert errors == [("rate_limit_error", "no_capacity")]
