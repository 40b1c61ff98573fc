"""The dashboard's data without a browser (real uvicorn over a scripted pool): request ids on every
answer, the last hour's activity per account and overall, cooldowns with their keys as the pool gives
them and their reset times, the live panel behind the admin key, scopes set from the forms, and the
per-account Prometheus series; plus the activity's own arithmetic."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from browser import AccountState, UpstreamRejected
from service.activity import BUCKET_SECONDS, Activity, percentile
from service.admin.charts import counts_chart, latency_chart
from service.request_ids import request_id_for
from tests.service.admin_pool import AdminPool
from tests.service.conftest import API_KEY
from tests.service.scripted_pool import Script, account
from tests.service.test_admin_accounts import ADMIN_KEY, gateway
from tests.service.test_keys_api import chat
from tests.service.test_metrics import samples, scrape


@contextmanager
def signed_in(url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=url + "/admin/ui", timeout=15) as client:
        assert client.post("/login", data={"key": ADMIN_KEY}).status_code == 303
        yield client


def test_every_answer_carries_a_request_id(tmp_path: Path) -> None:
    with gateway(tmp_path / "d", AdminPool(account_list=[account()])) as url:
        made = chat(url, API_KEY)
        assert re.fullmatch(r"req_[0-9a-f]{24}", made.headers["x-request-id"])
        given = httpx.get(
            url + "/v1/models", headers={"Authorization": "Bearer nope", "X-Request-Id": "abc-1"}
        )
        assert given.status_code == 401 and given.headers["x-request-id"] == "abc-1"  # the key gate's too
        odd = httpx.get(url + "/healthz", headers={"X-Request-Id": "a b\tc"})
        assert odd.headers["x-request-id"].startswith("req_")
    assert request_id_for("x" * 129).startswith("req_") and request_id_for("ok.id:7") == "ok.id:7"


def test_the_live_panel_shows_activity_errors_and_cooldowns(tmp_path: Path) -> None:
    resets = time.time() + 3600
    cooling = replace(
        account("acct-2", state=AccountState.COOLING), cooling_until={"pro": resets, "image": resets + 60}
    )
    pool = AdminPool(account_list=[account("acct-1"), cooling])
    with gateway(tmp_path / "d", pool) as url:
        assert chat(url, API_KEY).status_code == 200
        pool.queue(Script([UpstreamRejected(1037, None)], account_id="acct-1"))
        failed = httpx.post(
            url + "/v1/chat/completions",
            json={"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "x"}]},
            headers={"Authorization": f"Bearer {API_KEY}", "X-Request-Id": "fails-1037"},
        )
        assert failed.status_code == 502
        assert httpx.get(url + "/admin/ui/panels").status_code == 401  # behind the admin key
        with signed_in(url) as client:
            panel = client.get("/panels").text
            page = client.get("").text
        text = scrape(url).text
    row = re.search(r'<tr data-request-id="fails-1037">(.*?)</tr>', panel, re.S)
    assert row is not None
    assert "502" in row.group(1) and "gemini_1037" in row.group(1) and "acct-1" in row.group(1)
    assert re.search(r'id="tile-requests">2<', panel) and re.search(r'id="tile-errors">1<', panel)
    own = re.search(r'<tr data-activity="acct-1">(.*?)</tr>', panel, re.S)
    assert own is not None and "2 turns, 1 failed" in own.group(1)
    cooldowns = re.search(r'<tr data-activity="acct-2">(.*?)</tr>', panel, re.S)
    assert cooldowns is not None
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(resets))
    assert re.search(
        rf'<li data-quota="pro"><b>pro</b>: resets {when} \(in 59 min \d+ s\)', cooldowns.group(1)
    )
    assert 'data-quota="image"' in cooldowns.group(1)  # a tool's quota, shown as it comes
    assert '<section id="live"' in page and "fails-1037" in page
    found = samples(text)
    assert found[("gateway_account_turns_total", (("account", "acct-1"), ("outcome", "error")))] == 1
    assert found[("gateway_account_turns_total", (("account", "acct-1"), ("outcome", "ok")))] == 1
    assert (
        found[("gateway_account_cooling_until_seconds", (("account", "acct-2"), ("quota", "pro")))] == resets
    )


def test_the_dashboard_polling_itself_is_not_counted(tmp_path: Path) -> None:
    with gateway(tmp_path / "d", AdminPool(account_list=[account()])) as url, signed_in(url) as client:
        for _ in range(3):
            client.get("/panels").raise_for_status()
        scrape(url)
        assert re.search(r'id="tile-requests">0<', client.get("/panels").text)


def test_keys_get_scopes_from_the_dashboards_forms(tmp_path: Path) -> None:
    with gateway(tmp_path / "d", AdminPool(account_list=[account()])) as url, signed_in(url) as client:
        created = client.post("/keys", data={"name": "img", "scopes": ["images", "flash"]})
        assert created.status_code == 201
        key = re.search(r'<code id="new-key">([^<]+)</code>', created.text)
        assert key is not None
        row = re.search(r'<tr data-key="(key_[0-9a-f]+)">(.*?)</tr>', created.text, re.S)
        assert row is not None and "flash, images" in row.group(2)
        assert chat(url, key.group(1)).status_code == 403
        bad = client.post(f"/keys/{row.group(1)}/scopes", data={"scopes": "chat, dreams"})
        assert bad.status_code == 400 and "dreams" in bad.text
        assert client.post(f"/keys/{row.group(1)}/scopes", data={"scopes": "chat"}).status_code == 303
        assert chat(url, key.group(1)).status_code == 200
        assert client.post(f"/keys/{row.group(1)}/scopes", data={"scopes": ""}).status_code == 303
        assert re.search(r'class="key-scopes">all', client.get("").text)


def test_activity_buckets_percentiles_and_errors() -> None:
    now = [10_000 * BUCKET_SECONDS + 5]
    activity = Activity(clock=lambda: now[0])
    for value in (0.1, 0.2, 0.3, 0.4, 1.0):
        activity.turn("a", first_token=value, duration=value * 2, failed=False)
    activity.turn("a", first_token=None, duration=9.0, failed=True)
    activity.request(200)
    now[0] += BUCKET_SECONDS
    activity.request(502)
    activity.queued(+1)
    activity.queued(+1)
    activity.queued(-1)
    activity.error(request_id="r1", route="turn", status=0, code="gemini_1037", message="m", account="a")
    activity.error(request_id="r1", route="/v1/chat/completions", status=502, code=None, message="m2")
    view = activity.view()
    assert view.overall.requests[-2:] == (1, 1) and view.overall.errors[-2:] == (0, 1)
    assert view.overall.queue[-1] == 2 and view.queue_now == 1
    assert view.accounts["a"].requests[-2:] == (6, 0) and view.accounts["a"].failed == 1
    assert view.accounts["a"].first_token == (
        0.3,
        1.0,
    )  # nearest rank; the failed turn's time is not an answer
    assert view.accounts["a"].duration == (0.6, 2.0)
    assert [(e.request_id, e.status, e.code, e.account) for e in view.errors] == [
        ("r1", 502, "gemini_1037", "a")
    ]
    now[0] += 61 * BUCKET_SECONDS
    assert activity.view().overall.total == 0  # an hour later it is gone
    assert percentile([], 0.5) is None and percentile([3.0], 0.95) == 3.0


def test_charts_scale_and_gaps() -> None:
    bars = counts_chart("c", "t", [0, 4, 3], [0, 1, 0], start=0, step=60)
    assert bars.top == "5" and not bars.empty
    assert [(b.css, b.title) for b in bars.bars] == [
        ("ok", "00:01: 3"),
        ("err", "00:01: 1"),
        ("ok", "00:02: 3"),
    ]
    lines = latency_chart("l", "t", [0.2, None, 0.3, 0.4], [0.5, None, None, 0.9], start=0, step=60)
    p95, p50 = lines.lines
    assert len(p50.segments) == 1 and len(p50.dots) == 3  # a gap splits; a lone minute is a dot
    assert p95.segments == () and len(p95.dots) == 2
    assert latency_chart("e", "t", [None], [None], start=0, step=60).empty


@pytest.mark.parametrize("path", ["/admin/ui", "/admin/ui/panels"])
def test_pages_are_not_cached_and_framing_is_refused(tmp_path: Path, path: str) -> None:
    with gateway(tmp_path / "d", AdminPool(account_list=[account()])) as url, signed_in(url) as client:
        response = client.get(path.removeprefix("/admin/ui"))
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
