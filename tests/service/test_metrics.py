"""``/metrics``: Prometheus text, behind the admin key unless ``metrics_open``; requests by route,
model and status, turn timings, queue, accounts by state and upstream error codes."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from browser import AccountState, UpstreamRejected
from tests.service.admin_pool import AdminPool
from tests.service.conftest import API_KEY
from tests.service.scripted_pool import Script, account
from tests.service.test_admin_accounts import ADMIN_KEY, gateway
from tests.service.test_keys_api import chat


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scrape(url: str, key: str | None = ADMIN_KEY) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(url + "/metrics", headers=headers)


def test_metrics_need_the_admin_key_unless_open(tmp_path: Path) -> None:
    with gateway(tmp_path / "a", AdminPool()) as url:
        assert scrape(url, None).status_code == 401
        assert scrape(url, API_KEY).status_code == 401
        assert scrape(url).status_code == 200
    with gateway(tmp_path / "b", AdminPool(), metrics_open=True) as url:
        assert scrape(url, None).status_code == 200


def test_metrics_count_requests_turns_accounts_and_errors(tmp_path: Path) -> None:
    pool = AdminPool(account_list=[account("a"), account("b")])
    with gateway(tmp_path / "d", pool) as url:
        assert chat(url, API_KEY).status_code == 200
        assert chat(url, "wrong-key").status_code == 401
        pool.queue(Script([UpstreamRejected(1037, None)]))
        assert chat(url, API_KEY).status_code == 502
        pool.account_list = [account("a"), account("b", state=AccountState.COOLING)]
        text = scrape(url).text

    found = samples(text)
    route = "/v1/chat/completions"
    ok = (("model", "gemini-2.5-flash"), ("route", route), ("status", "200"))
    assert found[("gateway_requests_total", ok)] == 1
    assert (
        found[("gateway_requests_total", (("model", "none"), ("route", "unmatched"), ("status", "401")))] == 1
    )
    assert found[("gateway_requests_total", (("model", "none"), ("route", route), ("status", "502")))] == 1
    assert found[("gateway_time_to_first_token_seconds_count", (("family", "flash"),))] == 1
    assert found[("gateway_turn_duration_seconds_count", (("family", "flash"),))] == 2
    assert found[("gateway_upstream_errors_total", (("code", "gemini_1037"),))] == 1
    assert found[("gateway_queue_length", ())] == 0
    assert found[("gateway_accounts", (("state", "ready"),))] == 1
    assert found[("gateway_accounts", (("state", "cooling"),))] == 1
