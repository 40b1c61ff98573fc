"""What the free tier gets (docs/architecture/evidence.md#d8, FREE): image generation, Canvas, Deep Research
and a limited Pro, no video; its Pro and image turns run out per usage window like Google's, with
the usage-limit error (1037) after a quota frame carrying the window's reset."""

from __future__ import annotations

import time

import httpx

from tests.simulator.batchexecute_wire import one
from tests.simulator.wire import (
    FREE_FLASH,
    FREE_PRO,
    TOOL_CANVAS,
    TOOL_DEEP_RESEARCH,
    TOOL_IMAGE,
    TOOL_VIDEO,
    decode,
    generate,
    requests_log,
)

FREE = "free-fiona"


def test_free_accounts_get_images_canvas_and_research(sim: str) -> None:
    image = decode(generate(sim, "draw a fox", account=FREE, tool=TOOL_IMAGE).content)
    assert image.candidates[-1][12][7][0], "image generation is a free feature"
    canvas = decode(generate(sim, "a page", account=FREE, tool=TOOL_CANVAS).content)
    assert canvas.candidates[-1][30]
    plan = decode(generate(sim, "heat pumps", account=FREE, tool=TOOL_DEEP_RESEARCH).content)
    assert "56" in plan.candidates[-1][-1]


def test_free_video_requests_are_plain_turns(sim: str) -> None:
    decoded = decode(generate(sim, "a video", account=FREE, tool=TOOL_VIDEO).content)
    assert decoded.candidates[-1][12] is None and "video_gen_chip" not in decoded.text
    assert requests_log(sim)[-1]["video"] is None


def _quota_refusal(response: httpx.Response) -> float:
    """The 1037 body: a quota frame (nothing left) then the error; returns its reset time."""
    decoded = decode(response.content)
    assert decoded.errors == [(8, 1037)]
    buckets = decoded.keyed("28")[0]
    assert [bucket[-1] for bucket in buckets] == [0, 0]
    return float(buckets[0][3][0])


def test_free_pro_runs_out_after_free_pro_turns(sim: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"free_pro_turns": 2}, timeout=5).raise_for_status()
    before = time.time()
    for _ in range(2):
        decoded = decode(generate(sim, "pro please", account=FREE, model=FREE_PRO, category=3).content)
        assert decoded.final[42] == "3.1 Pro"
    reset = _quota_refusal(generate(sim, "pro please", account=FREE, model=FREE_PRO, category=3))
    # The window opened with the first turn and frees up five hours later.
    assert before + 5 * 3600 - 2 <= reset <= time.time() + 5 * 3600 + 2
    flash = decode(generate(sim, "flash still works", account=FREE, model=FREE_FLASH).content)
    assert flash.final[42] == "3.8 Flash"
    window = one(sim, "jSf9Qc", [], account=FREE).payload[1][0]
    assert window[0] == 3 and abs(window[3][0][0] - reset) <= 1, "the same window as the quota frame"


def test_free_images_run_out_after_free_image_turns(sim: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"free_image_turns": 1}, timeout=5).raise_for_status()
    assert decode(generate(sim, "a cat", account=FREE, tool=TOOL_IMAGE).content).candidates[-1][12]
    _quota_refusal(generate(sim, "another cat", account=FREE, tool=TOOL_IMAGE))
    assert requests_log(sim)[-1]["error_code"] == 1037
    paid = decode(generate(sim, "a cat", account="paid-pia", tool=TOOL_IMAGE).content)
    assert paid.errors == [], "paid accounts have no such allowance"
