"""The wrapper stack assembled once in the app's lifespan carries every read the service makes of the
pool, not only turns: a running research's state and report and a video job's progress are
metered (``gateway_lookups``), confined to the calling key's account group and refused outside its
scopes, the same way its turns are."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from browser import ProtocolError
from service.account_groups import GroupedBackend
from service.auth import CURRENT_CALLER, Caller
from service.chat.longrun_research import report_text
from service.errors import NoHealthyAccount, OutOfScope, UpstreamFailed
from service.key_scopes import ScopedBackend
from service.metrics import MeteredBackend, Metrics
from service.pool_adapter import BrowserBackend
from tests.service.conftest import API_KEY
from tests.service.scripted_pool import ScriptedPool, account, finished_video_pool
from tests.service.test_admin_accounts import gateway
from tests.service.test_longrun_research import REPORT, planned, reported
from tests.service.test_metrics import samples, scrape


def lookups(url: str) -> dict[tuple[str, str], float]:
    return {
        (dict(labels)["lookup"], dict(labels)["outcome"]): value
        for (name, labels), value in samples(scrape(url).text).items()
        if name == "gateway_lookups_total"
    }


def post(url: str, path: str, body: dict[str, object]) -> httpx.Response:
    return httpx.post(url + path, json=body, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=15)


def test_research_polling_is_metered(tmp_path: Path) -> None:
    pool = ScriptedPool()
    pool.queue(planned(), reported(canvas=None))  # a stub: the report is read from the chat later
    pool.research_states.extend(["running", ProtocolError("reloading"), "done"])
    pool.research_reports.append(REPORT)
    with gateway(tmp_path / "data", pool, research_poll_interval=0.01) as url:
        body = {"model": "gemini-2.5-flash-deepsearch", "messages": [{"role": "user", "content": "tides"}]}
        answer = post(url, "/v1/chat/completions", body)
        assert answer.status_code == 200
        assert answer.json()["choices"][0]["message"]["content"] == report_text(REPORT)
        counted = lookups(url)
        errors = samples(scrape(url).text)
    assert counted == {
        ("research_state", "ok"): 2,
        ("research_state", "error"): 1,
        ("research_report", "ok"): 1,
    }
    assert errors[("gateway_upstream_errors_total", (("code", "upstream_error"),))] == 1
    assert [what for what, _ in pool.lookups] == ["research_state"] * 3 + ["research_report"]


def _wait_for(url: str, video_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 15
    while True:
        job: dict[str, object] = httpx.get(
            f"{url}/v1/videos/{video_id}", headers={"Authorization": f"Bearer {API_KEY}"}
        ).json()
        if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_video_job_polling_is_metered(tmp_path: Path) -> None:
    pool = finished_video_pool(b"\x00\x00\x00\x18ftypmp42")
    with gateway(tmp_path / "data", pool, video_poll_interval=0.01) as url:
        created = post(url, "/v1/videos", {"prompt": "a heron at dawn"})
        assert created.status_code == 200
        assert _wait_for(url, created.json()["id"])["status"] == "completed"
        counted = lookups(url)
    assert counted == {("video_job", "ok"): 2, ("chat_video", "ok"): 1}


@contextmanager
def calling(caller: Caller) -> Iterator[None]:
    token = CURRENT_CALLER.set(caller)
    try:
        yield
    finally:
        CURRENT_CALLER.reset(token)


def _stack(pool: ScriptedPool) -> ScopedBackend:
    return ScopedBackend(MeteredBackend(GroupedBackend(BrowserBackend(pool)), Metrics()))


async def test_lookups_outside_the_keys_account_group_never_reach_the_pool() -> None:
    pool = ScriptedPool(account_list=[account("acct-1"), account("acct-2")])
    pool.research_states.append("running")
    stack = _stack(pool)
    with calling(Caller(identity="k", accounts=frozenset({"acct-1"}))):
        with pytest.raises(NoHealthyAccount):
            await stack.research_state("acct-2", "rid")
        with pytest.raises(NoHealthyAccount):
            await stack.research_report("acct-2", "c_1")
        with pytest.raises(NoHealthyAccount):
            await stack.video_job("acct-2", "job", "c_1")
        with pytest.raises(NoHealthyAccount):
            await stack.chat_video("acct-2", "c_1")
        assert pool.lookups == []
        assert await stack.research_state("acct-1", "rid") == "running"
    assert pool.lookups == [("research_state", "acct-1")]


async def test_lookups_need_the_kind_of_work_in_the_keys_scopes() -> None:
    pool = ScriptedPool()
    pool.video_jobs.append(True)
    stack = _stack(pool)
    with calling(Caller(identity="k", scopes=frozenset({"chat", "video"}))):
        with pytest.raises(OutOfScope):
            await stack.research_state("acct-1", "rid")
        assert await stack.video_job("acct-1", "job", None) is True
    with calling(Caller(identity="k", scopes=frozenset({"research"}))), pytest.raises(OutOfScope):
        await stack.chat_video("acct-1", "c_1")
    assert pool.lookups == [("video_job", "acct-1")]


async def test_the_adapter_translates_lookup_errors() -> None:
    pool = ScriptedPool()  # nothing scripted: every read fails as the browser layer would
    with pytest.raises(UpstreamFailed):
        await BrowserBackend(pool).research_state("acct-1", "rid")
