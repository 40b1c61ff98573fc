"""The service's side of pacing per egress: a pool's ``EgressBusy`` is a 429 with ``Retry-After``
(streamed or not), ``/metrics`` shows each egress by its name (never a proxy's credentials), and the
admin API shows each account's egress."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from browser import EgressBusy, EgressInfo
from browser._egress import Limits
from tests.service.conftest import API_KEY
from tests.service.scripted_pool import Script, ScriptedPool, account
from tests.service.test_admin_accounts import admin, gateway
from tests.service.test_metrics import samples, scrape

PROXY = "socks5://10.0.0.2:1080"


def info(name: str, **values: object) -> EgressInfo:
    base = EgressInfo(
        name=name,
        limits=Limits(5, 10, 400),
        paced=True,
        running=0,
        waiting=0,
        started=0,
        rejected=0,
        started_last_minute=0,
        started_last_hour=0,
        next_start_in=0.0,
        cooling_until=None,
    )
    return replace(base, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("stream", [False, True])
def test_egress_busy_is_429_with_retry_after(tmp_path: Path, stream: bool) -> None:
    pool = ScriptedPool()
    busy = EgressBusy(f"the egress {PROXY} are at their pace", retry_after=41.3, egresses=(PROXY,))
    pool.queue(Script(enter_error=busy))
    with gateway(tmp_path / "data", pool) as url:
        body = {
            "model": "gemini-2.5-flash",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": stream,
        }
        response = httpx.post(
            f"{url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=15,
        )
    assert response.status_code == 429 and response.headers["Retry-After"] == "42"
    assert response.json()["error"]["type"] == "rate_limit_error"


def test_metrics_and_admin_show_each_egress(tmp_path: Path) -> None:
    pool = ScriptedPool(
        account_list=[replace(account("a1"), egress=PROXY, proxy=PROXY), account("d1")],
        egress_list=[
            info("direct", started=3, running=1),
            info(PROXY, started=7, rejected=2, waiting=1, started_last_minute=4, cooling_until=1.9e9),
        ],
    )
    with gateway(tmp_path / "data", pool) as url:
        found = samples(scrape(url).text)
        with admin(url) as client:
            egresses = {a["id"]: a["egress"] for a in client.get("/accounts").json()["data"]}
    proxy, direct = (("egress", PROXY),), (("egress", "direct"),)
    assert found[("gateway_egress_turns_started_total", proxy)] == 7
    assert found[("gateway_egress_turns_started_total", direct)] == 3
    assert found[("gateway_egress_rejected_total", proxy)] == 2
    assert found[("gateway_egress_turns_waiting", proxy)] == 1
    assert found[("gateway_egress_turns_running", direct)] == 1
    assert found[("gateway_egress_turns_last_minute", proxy)] == 4
    assert (found[("gateway_egress_cooling", proxy)], found[("gateway_egress_cooling", direct)]) == (1, 0)
    assert found[("gateway_egress_cooling_until_seconds", proxy)] == 1.9e9
    assert ("gateway_egress_cooling_until_seconds", direct) not in found
    assert egresses == {"a1": PROXY, "d1": "direct"}
