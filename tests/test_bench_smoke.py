"""The benchmark's measurement functions run end to end (one round, fast pacing) and report every
figure; the figures themselves are never compared with goals here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import servers
from bench.measure import measure_latency, measure_memory, new_psid
from bench.report import checks, table

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(180)]

SUMMARY_KEYS = {"n", "p50_ms", "p95_ms", "min_ms", "max_ms"}


def _assert_summary(figures: dict[str, Any]) -> None:
    assert set(figures) == SUMMARY_KEYS
    assert figures["n"] >= 1
    assert 0 < figures["min_ms"] <= figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]


async def test_measurements_report_every_figure(tmp_path: Path) -> None:
    with servers.simulator(tmp_path, first_token_delay=0.05, frame_interval=0.02) as sim:
        with servers.gateway(tmp_path, sim.url, [new_psid()]) as gateway:
            results = await measure_latency(sim.url, gateway.url, rounds=1)
        results["memory"] = await measure_memory(tmp_path, sim.url, counts=(1, 2), settle=0.2)

    assert set(results) == {"ttft", "relay", "driving", "memory"}
    for figures in (results["ttft"]["gateway"], results["ttft"]["raw"], results["relay"]):
        _assert_summary(figures)
    assert results["ttft"]["gateway"]["n"] == results["ttft"]["raw"]["n"] == 1
    assert results["ttft"]["ratio_of_medians"] > 0
    # Two streamed answers of several frames each: more than one delta per answer was matched.
    assert results["relay"]["n"] > 2
    _assert_summary(results["driving"]["new_chat"])
    _assert_summary(results["driving"]["follow_up"])
    assert results["driving"]["follow_ups_continued"] == 1

    memory = results["memory"]
    assert memory["low"]["accounts"] == 1 and memory["high"]["accounts"] == 2
    for side in (memory["low"], memory["high"]):
        assert side["processes"] > 0 and side["rss_mib"] > 0 and side["pss_mib"] > 0
        assert 0 < side["shared_clean_mib"] < side["rss_mib"]
    assert memory["high"]["processes"] > memory["low"]["processes"]

    rows = checks(results)
    assert len(rows) == 7 and "TTFT ratio of medians" in table(rows)
