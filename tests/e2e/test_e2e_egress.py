"""Pacing per egress through the whole gateway: a request over its egress's budget is answered 429
with an honest ``Retry-After`` (the seconds until the minute window frees a slot), and ``/metrics``
and the admin API show the egress (``direct`` here: the account has no proxy)."""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import SecretStr

from tests.e2e.conftest import KEY_A, running_stack
from tests.service.test_metrics import samples

ADMIN_KEY = "adm-e2e-egress-0123456789"


def test_over_the_egress_budget_is_429_with_retry_after(tmp_path: Path) -> None:
    # One turn a minute through the machine's own address; the queue waits 5 s at most, far less
    # than the minute, so the second request is told when to come back instead of waiting.
    browser = {"egress_pacing": "on", "egress_per_minute": 1, "queue_timeout": 5.0}
    with running_stack(tmp_path, ("paid",), browser=browser, admin_keys=(SecretStr(ADMIN_KEY),)) as stack:
        body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "pace me"}]}
        auth = {"Authorization": f"Bearer {KEY_A}"}
        first = httpx.post(f"{stack.url}/v1/chat/completions", json=body, headers=auth, timeout=90)
        assert first.status_code == 200, first.text
        refused = httpx.post(f"{stack.url}/v1/chat/completions", json=body, headers=auth, timeout=90)
        assert refused.status_code == 429, refused.text
        assert 5 < int(refused.headers["Retry-After"]) <= 60
        error = refused.json()["error"]
        assert error["type"] == "rate_limit_error" and "direct" in error["message"]

        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        metrics = samples(httpx.get(f"{stack.url}/metrics", headers=admin, timeout=30).text)
        direct = (("egress", "direct"),)
        assert metrics[("gateway_egress_turns_started_total", direct)] == 1
        assert metrics[("gateway_egress_rejected_total", direct)] == 1
        assert metrics[("gateway_egress_turns_running", direct)] == 0
        assert metrics[("gateway_egress_cooling", direct)] == 0
        accounts = httpx.get(f"{stack.url}/admin/accounts", headers=admin, timeout=30).json()["data"]
        assert [account["egress"] for account in accounts] == ["direct"]
