"""Deep research that runs for a while after its confirmation (the simulator's ``research_seconds``):
progress while it runs, the non-stream wait limit, a client that goes away, and the same messages
sent again collecting the report without a second research. The official openai SDK against
uvicorn, the real pool on Chromium and the simulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from simulator.answers import sha16
from tests.e2e.conftest import WAIT, Stack, marker, running_stack

MODEL = "gemini-2.5-pro-deepsearch"
RESEARCH_SECONDS = 3.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("e2e-research")
    # A non-stream request waits 1 s at most, well below the research's 3 s.
    with running_stack(data_dir, ("paid",), research_max_wait=1.0, research_poll_interval=0.2) as running:
        running.sim_config(research_seconds=RESEARCH_SECONDS)
        yield running


def _researches(stack: Stack, topic: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The plan turns asked about ``topic`` and the "Start research" turns in their chats."""
    log = stack.sim_requests()
    plans = [entry for entry in log if topic in entry["prompt"]]
    chats = {entry["cid"] for entry in plans}
    starts = [entry for entry in log if entry["prompt"] == "Start research" and entry["cid"] in chats]
    return plans, starts


def _is_report(content: str | None, topic: str) -> bool:
    return (
        content is not None
        and content.startswith(f"# Research report: {topic}")
        and (f"sha256 {sha16(topic)}" in content and "## Sources\n\n1. [the first source]" in content)
    )


def test_a_stream_waits_for_the_running_research_with_progress(stack: Stack) -> None:
    topic = f"tidal power {marker()}"
    chunks = stack.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": topic}], stream=True
    )
    content, reasoning = [], []
    for chunk in chunks:
        if chunk.choices:
            content.append(chunk.choices[0].delta.content or "")
            reasoning.append(getattr(chunk.choices[0].delta, "reasoning_content", None) or "")
    assert _is_report("".join(content), topic)
    thoughts = "".join(reasoning)
    assert "Researching… " in thoughts and thoughts.rstrip().endswith("Report ready.")
    plans, starts = _researches(stack, topic)
    assert len(plans) == 1 and len(starts) == 1


def test_past_the_wait_limit_the_same_messages_collect_the_report(stack: Stack) -> None:
    topic = f"geothermal {marker()}"
    messages: list[Any] = [{"role": "user", "content": topic}]
    client = stack.client()
    with pytest.raises(openai.APIStatusError) as waited:
        client.chat.completions.create(model=MODEL, messages=messages)
    assert waited.value.status_code == 504 and "Send the same messages again" in waited.value.message
    deadline = time.monotonic() + WAIT
    while True:  # each repeat asks once and, while it still runs, gives up after the limit
        try:
            content = (
                client.chat.completions.create(model=MODEL, messages=messages).choices[0].message.content
            )
            break
        except openai.APIStatusError as again:
            assert again.status_code == 504 and time.monotonic() < deadline
    assert _is_report(content, topic)
    plans, starts = _researches(stack, topic)
    assert len(plans) == 1 and len(starts) == 1  # one research, collected by the repeats


def test_a_client_that_goes_away_does_not_cancel_the_research(stack: Stack) -> None:
    topic = f"ocean currents {marker()}"
    messages: list[Any] = [{"role": "user", "content": topic}]
    body = {"model": MODEL, "messages": messages, "stream": True}
    headers = {"Authorization": f"Bearer {stack.settings.api_keys[0].get_secret_value()}"}
    with httpx.stream(
        "POST", f"{stack.url}/v1/chat/completions", json=body, headers=headers, timeout=60
    ) as response:
        for line in response.iter_lines():
            if "Research started" in line:
                break  # confirmed and running: hang up
    stack.wait_for(lambda: len(_researches(stack, topic)[1]) == 1, "the research to be confirmed")
    deadline = time.monotonic() + WAIT
    while True:
        try:
            again = stack.client().chat.completions.create(model=MODEL, messages=messages)
            break
        except openai.APIStatusError as waiting:
            assert waiting.status_code == 504 and time.monotonic() < deadline
    assert _is_report(again.choices[0].message.content, topic)
    plans, starts = _researches(stack, topic)
    assert len(plans) == 1 and len(starts) == 1


def test_a_free_account_researches_too(tmp_path: Path) -> None:
    """Free accounts have Deep Research in 2026 (fidelity.md D8; a few reports a month)."""
    with running_stack(tmp_path / "data", ("free",)) as free:
        topic = f"wind farms {marker()}"
        answer = free.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": topic}]
        )
        assert _is_report(answer.choices[0].message.content, topic)
        plans, _ = _researches(free, topic)
        assert [entry["account"] for entry in plans] == ["free"]
