"""The memory part of ``python -m bench``: repeated runs reduced to medians, the side-by-side table,
and the checks of a memory-only run (no latency figures), with the persistent mode's own goal."""

from __future__ import annotations

from typing import Any

from bench.__main__ import _variants
from bench.memory import median_of_runs, side_by_side
from bench.report import checks, table
from bench.variants import TRIED_VARIANTS
from browser._launcher import persistent_launch_args
from browser._settings import LaunchMode, PoolSettings


def _run(rss: float, pss: float, processes: int) -> dict[str, Any]:
    side = {"processes": 0, "renderers": 0, "rss_mib": 0.0, "pss_mib": 0.0, "uss_mib": 0.0}
    return {
        "low": {**side, "accounts": 1, "processes": processes, "rss_mib": 500.0},
        "high": {**side, "accounts": 3, "processes": 3 * processes, "rss_mib": 500.0 + 2 * rss},
        "per_account_rss_mib": rss,
        "per_account_pss_mib": pss,
        "per_account_uss_mib": 70.0,
        "per_account_shared_clean_mib": 400.0,
        "per_account_renderers": 1.0,
    }


def test_each_figure_is_its_median_over_the_runs() -> None:
    runs = [_run(510.0, 100.0, 4), _run(490.0, 140.0, 4), _run(500.0, 120.0, 4)]
    median = median_of_runs(runs)
    assert (median["per_account_rss_mib"], median["per_account_pss_mib"]) == (500.0, 120.0)
    assert median["high"]["rss_mib"] == 1500.0  # the run whose RSS is the median
    assert median["runs"] == runs
    assert "runs" not in median_of_runs(runs[:1])


def test_the_side_by_side_table_and_the_goals_of_a_memory_only_run() -> None:
    variants = {
        "shared: adopted defaults": median_of_runs([_run(149.0, 30.0, 1)]),
        "persistent: adopted defaults": median_of_runs([_run(490.0, 110.0, 4), _run(500.0, 120.0, 4)]),
        "persistent: before + --single-process (comparison only)": median_of_runs([_run(290.0, 200.0, 1)]),
    }
    printed = side_by_side(variants)
    assert (
        "| persistent: adopted defaults | 495.0 MiB | 115.0 MiB | 70.0 MiB | 400.0 MiB | 4.0 | 1.0 | 2 |"
        in printed
    )
    rows = {
        row.name.removeprefix("memory per warm account, "): row
        for row in checks({"memory_variants": variants})
    }
    assert len(rows) == 3  # no latency rows without latency figures
    assert (rows["shared: adopted defaults"].goal, rows["shared: adopted defaults"].passed) == (
        "RSS <= 150 MiB",
        True,
    )
    assert (rows["persistent: adopted defaults"].goal, rows["persistent: adopted defaults"].passed) == (
        "RSS <= 300 MiB",
        False,
    )
    comparison = rows["persistent: before + --single-process (comparison only)"]
    assert (comparison.goal, comparison.passed) == ("-", None)
    assert "MISS" in table(list(rows.values()))


def test_each_tried_variant_is_the_persistent_launch_with_one_switch_more() -> None:
    adopted = persistent_launch_args(PoolSettings(launch_mode=LaunchMode.PERSISTENT))
    assert set(TRIED_VARIANTS) <= set(_variants(tried=True))
    assert not set(TRIED_VARIANTS) & set(_variants(tried=False))  # `make bench` stays short
    for name, browser in TRIED_VARIANTS.items():
        tried = persistent_launch_args(PoolSettings(**browser))
        # A feature joins the one --disable-features switch, which then differs: still one switch.
        assert len(set(tried) - set(adopted)) == 1, name
        assert len(set(adopted) - set(tried)) <= 1, name
