"""Deep research's serving logic on a scripted pool (service.chat.longrun_research): the plan is
confirmed in its own chat, on its own account; the plan on request; a follow-up that confirms; the
report's sources; a stub with no way to follow it is a clear error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openai
import pytest

from browser import ResearchInfo, TurnSnapshot
from browser.protocol import ResearchStep
from service.chat.longrun_registry import ResearchRegistry
from service.chat.longrun_research import CONFIRM_PROMPT, plan_text, report_text
from tests.service.conftest import Served
from tests.service.scripted_pool import Script, ScriptedPool

MODEL = "gemini-2.5-flash-deepsearch"
PLAN = ResearchInfo(
    title="Research: tides",
    steps=(ResearchStep("Research websites", "Look for sources"), ResearchStep("Create report", None)),
    eta="Ready in a few mins",
    state=1,
    research_id="0b7b5b0e-1111-4222-8333-444455556666",
)
REPORT = "# Tides\n\nThe moon pulls, says [NOAA](https://noaa.example/t) and [NASA](https://nasa.example/m)."


def planned(cid: str = "c_plan") -> Script:
    return Script(
        [TurnSnapshot(cid=cid, text="Here's a research plan.", research=PLAN, completed=True, frames=1)]
    )


def reported(cid: str = "c_plan", canvas: str | None = REPORT) -> Script:
    return Script(
        [TurnSnapshot(cid=cid, text="I've completed your research.", canvas=canvas, completed=True, frames=1)]
    )


def test_report_sources_become_a_numbered_list() -> None:
    text = report_text(REPORT + " Again [NOAA](https://noaa.example/t).")
    assert text.endswith("## Sources\n\n1. [NOAA](https://noaa.example/t)\n2. [NASA](https://nasa.example/m)")
    with_sources = "# R\n\n[a](https://a.example)\n\n## Sources\n\n1. [a](https://a.example)"
    assert report_text(with_sources) == with_sources  # already listed: left as it is
    assert report_text("# R\n\nno links") == "# R\n\nno links"


def test_plan_text_numbers_the_steps() -> None:
    text = plan_text(PLAN)
    assert text.startswith(
        "**Research: tides**\n\n1. **Research websites**: Look for sources\n2. **Create report**"
    )
    assert "Ready in a few mins" in text and "Reply “start”" in text


def test_the_plan_is_confirmed_in_its_chat(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool()
    pool.queue(planned(), reported())
    served = serve_gateway(pool)
    answer = served.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "tides"}]
    )
    assert answer.choices[0].message.content == report_text(REPORT)
    first, confirm = pool.requests
    assert first.prompt == "tides" and first.tool is not None and first.tool.value == "deep_research"
    assert confirm.prompt == CONFIRM_PROMPT and confirm.chat_id == "c_plan" and confirm.account_id == "acct-1"
    assert confirm.tool is not None and confirm.tool.value == "deep_research"
    assert pool.active == 0 and pool.leases == pool.released == 2


def test_the_plan_on_request_and_a_follow_up_that_starts_it(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool()
    pool.queue(planned(), reported())
    served = serve_gateway(pool)
    client = served.client()
    messages: list[dict[str, str]] = [{"role": "user", "content": "tides"}]
    plan = (
        client.chat.completions.create(
            model=MODEL,
            messages=messages,
            extra_body={"research_confirm": False},  # type: ignore[arg-type]
        )
        .choices[0]
        .message.content
    )
    assert plan == plan_text(PLAN) and len(pool.requests) == 1
    messages += [{"role": "assistant", "content": plan}, {"role": "user", "content": "Yes!"}]
    report = client.chat.completions.create(model=MODEL, messages=messages).choices[0].message.content  # type: ignore[arg-type]
    assert report == report_text(REPORT)
    assert pool.requests[1].prompt == CONFIRM_PROMPT and pool.requests[1].chat_id == "c_plan"


def test_a_running_research_the_pool_cannot_follow_is_a_clear_502(
    serve_gateway: Callable[..., Served],
) -> None:
    pool = ScriptedPool()
    pool.queue(planned(), reported(canvas=None))  # a stub: the report would come later
    served = serve_gateway(pool, research_poll_interval=0.01)
    with pytest.raises(openai.InternalServerError) as failed:
        served.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "tides"}])
    assert failed.value.status_code == 502 and "cannot follow a running research" in failed.value.message


def test_the_registry_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "researches.sqlite3"
    registry = ResearchRegistry(path)
    registry.record("k", "acct", "c_1", "rid", "title")
    registry.close()
    again = ResearchRegistry(path)
    entry = again.find("k")
    again.close()
    assert entry is not None and (entry.account_id, entry.chat_id, entry.research_id) == (
        "acct",
        "c_1",
        "rid",
    )
    assert path.stat().st_mode & 0o777 == 0o600
