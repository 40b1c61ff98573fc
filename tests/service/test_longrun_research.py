"""Deep research's serving logic on a scripted pool (service.chat.longrun_research): the plan is
confirmed in its own chat, on its own account; the plan on request; a follow-up that confirms; the
report's sources; a stub with no way to follow it is a clear error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import openai
import pytest

from browser import ResearchInfo, TurnSnapshot, UpstreamRejected
from browser.protocol import ResearchStep
from service.chat.longrun_registry import ResearchRegistry
from service.chat.longrun_research import CONFIRM_PROMPT, plan_text, report_text
from tests.service.conftest import Served
from tests.service.scripted_pool import Script, ScriptedPool, account

MODEL = "gemini-2.5-flash-deepsearch"
PLAN = ResearchInfo(
    title="Research: tides",
    steps=(ResearchStep("Research websites", "Look for sources"), ResearchStep("Create report", None)),
    eta="Ready in a few mins",
    state=1,
    research_id="0b7b5b0e-1111-4222-8333-444455556666",
)
REPORT = "# Tides\n\nThe moon pulls, says [NOAA](https://noaa.example/t) and [NASA](https://nasa.example/m)."


def planned(cid: str = "c_plan", on: str = "acct-1") -> Script:
    return Script(
        [TurnSnapshot(cid=cid, text="Here's a research plan.", research=PLAN, completed=True, frames=1)],
        account_id=on,
    )


def reported(cid: str = "c_plan", canvas: str | None = REPORT, on: str = "acct-1") -> Script:
    text = "I've completed your research."
    done = TurnSnapshot(cid=cid, text=text, canvas=canvas, completed=True, frames=1)
    return Script([done], account_id=on)


def limited(on: str) -> Script:
    """The account's usage limit (1037) before any content, as the pool raises it for a pinned turn."""
    return Script([UpstreamRejected(1037, 8)], account_id=on)


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


@pytest.mark.parametrize("stream", [False, True])
def test_a_start_at_its_usage_limit_is_planned_again_elsewhere(
    serve_gateway: Callable[..., Served], stream: bool
) -> None:
    pool = ScriptedPool(account_list=[account("acct-1", tier="free"), account("acct-2")])
    pool.queue(planned(), limited("acct-1"), planned("c_two", on="acct-2"), reported("c_two", on="acct-2"))
    client = serve_gateway(pool).client()
    request = {"model": MODEL, "messages": [{"role": "user", "content": "tides"}]}
    if stream:
        chunks = client.chat.completions.create(**request, stream=True)  # type: ignore[call-overload]
        content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        content = client.chat.completions.create(**request).choices[0].message.content  # type: ignore[call-overload]
    assert content == report_text(REPORT)
    asked = [(r.prompt, r.account_id, r.chat_id) for r in pool.requests]
    assert asked == [
        ("tides", None, None),
        (CONFIRM_PROMPT, "acct-1", "c_plan"),
        ("tides", None, None),  # planned again: the pool picks an account that is not cooling
        (CONFIRM_PROMPT, "acct-2", "c_two"),
    ]
    assert pool.active == 0 and pool.leases == pool.released == 4


def test_the_plan_left_on_the_spent_account_goes_to_the_janitor(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool(account_list=[account("acct-1", tier="free"), account("acct-2")])
    pool.queue(planned(), limited("acct-1"), planned("c_two", on="acct-2"), reported("c_two", on="acct-2"))
    served = serve_gateway(pool, delete_chats="after_turn")
    messages = [{"role": "user", "content": "tides"}]
    answer = served.client().chat.completions.create(model=MODEL, messages=messages)  # type: ignore[arg-type]
    assert answer.choices[0].message.content == report_text(REPORT)
    assert pool.deletion_seen.wait(10)
    assert pool.deleted == [("acct-1", "c_plan")], "the answered research's chat stays"


def test_a_second_limit_on_a_spent_account_is_the_error(serve_gateway: Callable[..., Served]) -> None:
    """An account is tried once: the pool placing the new plan on the spent account again (its
    cooldown already over) ends the request instead of a loop."""
    pool = ScriptedPool()
    pool.queue(planned(), limited("acct-1"), planned(), limited("acct-1"))
    with pytest.raises(openai.InternalServerError) as failed:
        serve_gateway(pool).client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "tides"}]
        )
    assert failed.value.code == "gemini_1037" and "usage limit" in failed.value.message
    assert len(pool.requests) == 4 and pool.active == 0


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
