"""Create video in the ``poll`` flow (docs/architecture/evidence.md#j1 to J3; VID HAR 2026-08-03, VJOB): the
StreamGenerate answer carries only the job chip; kwDCne ``[job uuid]`` reports the job pending then
finished; hNvQHb shows the turn with the chip, then the video at field 60 of ``c[12]``."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx

from tests.simulator.batchexecute_wire import one, read_payload
from tests.simulator.wire import TOOL_VIDEO, cookies, decode, generate, requests_log

CHIP = "http://googleusercontent.com/video_gen_chip/0"
# VID's poll_done: a finished answer ends with a second [secs, nanos] pair and a trailing 1.
FINISHED = re.compile(r"\[\d{10},\d+\],\[\d{10},\d+\],1\]$")
# ... and a pending one with a single pair, after the task's own list.
PENDING = re.compile(r"\]\],\[\d{10},\d+\]\]$")


def _config(base: str, **changes: Any) -> None:
    httpx.post(f"{base}/_sim/config", json=changes, timeout=5).raise_for_status()


def _submit(base: str, prompt: str = "a cat surfing", **kwargs: Any) -> tuple[str, str, str]:
    """The answer's chat, turn and job uuid; checks that no frame names a URL."""
    response = generate(base, prompt, tool=TOOL_VIDEO, **kwargs)
    decoded = decode(response.content)
    assert decoded.payloads[0][2]["44"] is True  # the locator marks an async job
    for candidate in decoded.candidates:
        assert candidate[12] == [{"65": [[CHIP], candidate[12][0]["65"][1]]}]
    assert CHIP in decoded.text and "/download?" not in response.text
    cid, rid = decoded.final[1]
    return cid, rid, decoded.candidates[-1][12][0]["65"][1]


def _history_c12(base: str, cid: str, rid: str) -> Any:
    turns = one(base, "hNvQHb", read_payload(cid)).payload[0]
    [turn] = [t for t in turns if t[0][1] == rid]
    return turn[3][0][0][12]


def _kwdcne_text(base: str, job: str) -> str:
    """kwDCne's payload as compact JSON, the form VID's regex reads it in."""
    return json.dumps(one(base, "kwDCne", [job]).payload, separators=(",", ":"))


def test_poll_flow_chip_then_kwdcne_then_history(sim: str) -> None:
    _config(sim, video_render_seconds=3600)
    cid, rid, job = _submit(sim)
    assert requests_log(sim)[-1]["video_job"] == job
    pending = one(sim, "kwDCne", [job]).payload
    assert pending[0] == job and pending[1][0] == 2 and pending[1][3] == [cid, rid]
    assert PENDING.search(_kwdcne_text(sim, job)) and not FINISHED.search(_kwdcne_text(sim, job))
    assert _history_c12(sim, cid, rid) == [{"65": [[CHIP], job]}]
    video_url = requests_log(sim)[-1]["video"]
    assert httpx.get(video_url, cookies=cookies("paid-alice"), timeout=10).status_code == 206

    _config(sim, video_render_seconds=0)
    finished = one(sim, "kwDCne", [job]).payload
    assert finished[1][0] == 3 and finished[-1] == 1 and len(finished) == 5
    assert FINISHED.search(_kwdcne_text(sim, job))
    rich = _history_c12(sim, cid, rid)
    # The chat's first turn: the sparse form, field 60 in a trailing object (VJOB Go test).
    assert rich[0] is None and set(rich[1]) == {"60"}
    thumbnail, url = rich[1]["60"][0][0][0][0][7]
    assert url == video_url and "filename=thumbnail.jpg" in thumbnail
    ready = httpx.get(url, cookies=cookies("paid-alice"), timeout=10)
    assert ready.status_code == 200 and ready.content[4:8] == b"ftyp"
    assert one(sim, "kwDCne", [job], account="paid-bob").code == 5


def test_the_second_video_of_a_chat_is_in_the_dense_form(sim: str) -> None:
    _config(sim, video_render_seconds=0)
    cid, rid, _ = _submit(sim)
    rcid = one(sim, "hNvQHb", read_payload(cid)).payload[0][0][3][0][0][0]
    second = decode(generate(sim, "and a dog", tool=TOOL_VIDEO, chat=(cid, rid, rcid, ""), turn=1).content)
    assert second.final[1][0] == cid
    rich = _history_c12(sim, cid, second.final[1][1])
    assert len(rich) == 60 and rich[59][0][0][0][0][7][1].endswith("filename=video.mp4")


def test_stream_flow_still_puts_the_url_in_the_final_frame(sim: str) -> None:
    _config(sim, video_flow="stream", video_render_seconds=3600)
    decoded = decode(generate(sim, "waves", tool=TOOL_VIDEO).content)
    assert "65" in decoded.candidates[0][12][0]
    url = decoded.candidates[-1][12][59][0][0][0][0][7][1]
    assert httpx.get(url, cookies=cookies("paid-alice"), timeout=10).status_code == 206
    cid, rid = decoded.final[1]
    assert _history_c12(sim, cid, rid)[59][0][0][0][0][7][1] == url


def test_a_finished_job_reports_when_it_finished(sim: str) -> None:
    _config(sim, video_render_seconds=0.2)
    before = time.time()
    _, _, job = _submit(sim)
    deadline = time.monotonic() + 20
    while (status := one(sim, "kwDCne", [job]).payload)[-1] != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    created, finished = status[2], status[3]
    assert before - 1 <= created[0] <= time.time() and finished[0] + finished[1] / 1e9 >= created[0]
