"""The load benchmark's two parts run end to end (short levels, a small burst) and report every
figure; the figures themselves are never compared with goals here."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import load, servers

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


async def test_sweep_and_burst_report_every_figure(tmp_path: Path) -> None:
    with servers.simulator(tmp_path, first_token_delay=0.05, frame_interval=0.02) as sim:
        sweep = await load.sweep(tmp_path, sim.url, seconds=1.0, browser={}, levels=(1, 2))
        burst = await load.burst(tmp_path, sim.url, browser={"queue_size": 2}, count=12)

    assert [level["clients"] for level in sweep["levels"]] == [1, 2]
    for level in sweep["levels"]:
        assert level["requests"] >= level["clients"]
        assert sum(level["statuses"].values()) == level["requests"]
        assert level["answered"] + level["errors"] == level["requests"]
        assert level["ttft"] is not None and level["ttft"]["n"] >= 1
    # Warm: one page per account, counted from Chromium's own target list.
    assert sweep["pages_warm"] == load.SWEEP_ACCOUNTS
    assert sweep["memory_warm"]["renderers"] >= 1

    assert sum(burst["statuses"].values()) == burst["requests"] == 12
    # Two slots and a queue of two: at least eight of twelve are turned away at once, with 429.
    assert burst["responses_429"] >= 8
    assert burst["responses_429_with_retry_after"] == burst["responses_429"]
    assert burst["pages_baseline"] == load.BURST_ACCOUNTS
    assert burst["pages_back_to_baseline"] is True
    assert "Burst:" in load.report({"sweep": sweep, "burst": burst})
