"""The replicas benchmark (``python -m bench.cluster``) runs end to end in its quick form (one and
two replicas, a second of load each, a 2 s lease) and reports every figure; the figures themselves
are never compared with goals here."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import cluster

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(400)]


async def test_throughput_and_failover_report_every_figure(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; `make setup` does)")
    results = await cluster.run(
        tmp_path,
        seconds=1.0,
        clients=2,
        lease_ttl=2.0,
        counts=(1, 2),
        first_token_delay=0.05,
        frame_interval=0.02,
    )

    assert [row["replicas"] for row in results["throughput"]] == [1, 2]
    for row in results["throughput"]:
        assert row["accounts"] == cluster.ACCOUNTS and row["requests"] >= row["clients"]
        # Each replica serves with the accounts it holds: every client is answered.
        assert row["statuses"] == {"200": row["requests"]} and row["ttft"]["n"] == row["requests"]
    failover = results["failover"]
    assert failover["replicas"] == 2 and failover["lease_ttl_s"] == 2.0
    assert 0 < failover["signed_in_again_s"] <= failover["serving_again_s"]
    assert "Failover: kill -9" in cluster.report(results)
