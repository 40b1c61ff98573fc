"""Thinking is a level of the chosen model (docs/architecture/page-model.md#thinking-levels): the level code
rides in the
model header [15] (or inner[80]), the echo adds " Extended" at code 2, thoughts stream first for Pro
and every level but 1, and the request log records the code."""

from __future__ import annotations

import httpx
import pytest

from tests.simulator.wire import (
    FLASH,
    FLASH_LITE,
    FREE_FLASH,
    FREE_THINKING,
    PRO,
    THINKING,
    decode,
    generate,
    requests_log,
)


@pytest.mark.parametrize(
    ("ui", "flash", "pro", "lite"),
    [
        ("oct2026", "3.8 Flash", "3.1 Pro", "3.5 Flash-Lite"),
        ("mid2026", "3.5 Flash", "3.1 Pro", "3.1 Flash-Lite"),
    ],
)
def test_echo_is_the_rows_versioned_label(sim: str, ui: str, flash: str, pro: str, lite: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"ui": ui}, timeout=5).raise_for_status()
    for model, category, label in ((FLASH, 1, flash), (PRO, 3, pro), (FLASH_LITE, 6, lite)):
        decoded = decode(generate(sim, "which model?", model=model, category=category).content)
        assert (decoded.final[39], decoded.final[42]) == (model, label)


@pytest.mark.parametrize(
    ("level", "suffix", "thinks"),
    [(1, "", False), (2, " Extended", True), (4, "", True)],  # Low/Standard/off, High/Extended/on, Medium
)
def test_level_codes_reach_the_echo_thoughts_and_log(sim: str, level: int, suffix: str, thinks: bool) -> None:
    decoded = decode(generate(sim, "think about it", model=FLASH, level=level).content)
    assert decoded.final[42] == "3.8 Flash" + suffix
    assert bool(decoded.candidates[-1][37]) is thinks
    if thinks:  # thoughts stream first: the first content frame has thoughts and no text yet
        first = decoded.candidates[0]
        assert first[1][0] == "" and first[37][0][0].startswith("**Reading the request**")
    [entry] = requests_log(sim)
    assert (entry["thinking_level"], entry["served_thinking_level"], entry["mode_category"]) == (
        level,
        level,
        1,
    )


def test_pro_thinks_at_the_normal_level(sim: str) -> None:
    decoded = decode(generate(sim, "why", model=PRO, category=3).content)
    assert decoded.final[42] == "3.1 Pro" and decoded.candidates[-1][37][0][0]


def test_the_inner_level_counts_when_the_header_has_none(sim: str) -> None:
    decoded = decode(generate(sim, "why", model=None, inner_category=1, inner_level=2).content)
    assert (decoded.final[39], decoded.final[42]) == (FLASH, "3.8 Flash Extended")
    assert requests_log(sim)[-1]["thinking_level"] == 2


def test_a_thinking_model_is_early_2026_only(sim: str) -> None:
    """October 2026 has no Thinking model: its id is known, so it is served by Flash, not 1052."""
    late = decode(generate(sim, "hmm", model=THINKING, category=2).content)
    assert (late.final[39], late.final[42]) == (FLASH, "3.8 Flash")
    httpx.post(f"{sim}/_sim/config", json={"ui": "early2026"}, timeout=5).raise_for_status()
    early = decode(generate(sim, "hmm", model=THINKING, category=2).content)
    assert (early.final[39], early.final[42]) == (THINKING, "Thinking") and early.candidates[-1][37]
    free = decode(generate(sim, "hmm", account="free-f", model=FREE_THINKING, category=2).content)
    assert (free.final[39], free.final[42]) == (FREE_THINKING, "Thinking")
    fast = decode(generate(sim, "hmm", account="free-f", model=FLASH).content)
    assert (fast.final[39], fast.final[42]) == (FREE_FLASH, "Fast")


def test_signed_out_levels_are_ignored(sim: str) -> None:
    """ZX: thinking levels are only honoured for signed-in sessions."""
    decoded = decode(generate(sim, "hi", account=None, at=None, model=PRO, category=3, level=2).content)
    assert decoded.final[42] == "3.5 Flash-Lite" and decoded.candidates[-1][37] is None
