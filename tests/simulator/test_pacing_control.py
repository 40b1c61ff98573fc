"""Pacing (frames arrive one by one) and the one-shot behaviours of the control endpoint."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.simulator.conftest import FAST
from tests.simulator.wire import PRO, Decoded, LiveFrames, decode, generate, requests_log, stream_request


def _queue(base: str, *behaviours: dict[str, Any], account: str = "paid-alice") -> None:
    body = {"account": account, "behaviours": list(behaviours)}
    httpx.post(f"{base}/_sim/behaviours", json=body, timeout=5).raise_for_status()


def _config(base: str, **changes: Any) -> None:
    httpx.post(f"{base}/_sim/config", json=changes, timeout=5).raise_for_status()


def _wait_outcome(base: str, expected: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = requests_log(base)[-1]
        if entry["outcome"] == expected:
            return entry
        time.sleep(0.05)
    raise AssertionError(f"outcome stayed {requests_log(base)[-1]['outcome']!r}, wanted {expected!r}")


def _reads(base: str, read_timeout: float = 5.0) -> Iterator[tuple[LiveFrames, list[list[Any]]]]:
    url, form, headers = stream_request(base, "pace me")
    timeout = httpx.Timeout(5.0, read=read_timeout)
    with httpx.stream("POST", url, data=form, headers=headers, cookies=_cookies(), timeout=timeout) as r:
        live = LiveFrames()
        for chunk in r.iter_raw():
            yield live, live.feed(chunk)


def _cookies() -> dict[str, str]:
    return {"__Secure-1PSID": "paid-alice"}


def test_locator_first_then_content_frames_arrive_separately(sim: str) -> None:
    _config(sim, first_token_delay=0.3, frame_interval=0.05, snapshot_chars=40)
    arrivals = [new for _, new in _reads(sim) if new]
    first = arrivals[0]
    assert len(first) == 1 and '"18"' in first[0][0][2]  # the locator, alone, before any content
    content_reads = [new for new in arrivals if any('"rc_' in str(f) for f in new)]
    assert len(content_reads) >= 4
    entry = requests_log(sim)[-1]
    assert entry["outcome"] == "completed" and entry["frames"] == sum(len(a) for a in arrivals)


def test_error_once_then_ok(sim: str) -> None:
    _queue(sim, {"kind": "error", "code": 1013})
    assert decode(generate(sim, "a").content).errors == [(13, 1013)]
    assert decode(generate(sim, "a").content).text.startswith("Turn 1")


def test_wildcard_queue_applies_to_any_account(sim: str) -> None:
    _queue(sim, {"kind": "error", "code": 1099}, account="*")
    assert decode(generate(sim, "a", account="free-zed").content).errors == [(13, 1099)]


def test_stall_keeps_connection_open_until_the_client_leaves(sim: str) -> None:
    _queue(sim, {"kind": "stall", "after_frames": 2})
    seen = 0
    with pytest.raises(httpx.ReadTimeout):
        for live, _ in _reads(sim, read_timeout=0.6):
            seen = len(live.frames)
    assert seen == 2
    entry = _wait_outcome(sim, "client_disconnected")
    assert entry["stalled"] is True and entry["frames"] == 2


def test_stall_is_bounded(sim: str) -> None:
    _config(sim, max_stall_seconds=0.3)
    _queue(sim, {"kind": "stall", "after_frames": 1})
    response = generate(sim, "a")
    assert response.status_code == 200 and b'"e"' not in response.content
    assert _wait_outcome(sim, "stalled")["frames"] == 1


def test_drop_aborts_the_connection(sim: str) -> None:
    _queue(sim, {"kind": "drop", "after_frames": 3})
    frames = 0
    with pytest.raises(httpx.RemoteProtocolError):
        for live, _ in _reads(sim):
            frames = len(live.frames)
    assert frames == 3
    assert _wait_outcome(sim, "dropped")["frames"] == 3


def test_slow_first_token_delays_only_the_first_content_frame(sim: str) -> None:
    _queue(sim, {"kind": "slow_first_token", "seconds": 1.0})
    with pytest.raises(httpx.ReadTimeout):
        for live, _ in _reads(sim, read_timeout=0.5):
            assert len(live.frames) == 1  # only the locator came before the read timed out
    assert decode(generate(sim, "after").content).text.startswith("Turn 1")


def test_client_disconnect_is_logged(sim: str) -> None:
    _config(sim, frame_interval=0.2)
    for live, _ in _reads(sim):
        if len(live.frames) >= 2:
            break
    entry = _wait_outcome(sim, "client_disconnected")
    assert 2 <= entry["frames"] < 6
    assert entry["time"] < entry["ended"]  # the busy interval ends when the client left


def test_the_log_says_which_page_asked_and_when_its_answer_ended(sim: str) -> None:
    # The model header's [16] is made once per page load (protocol.md F6): it tells two browsers
    # on one account apart, as the replica failover tests need.
    response = generate(sim, "whose page")
    assert response.status_code == 200
    entry = requests_log(sim)[-1]
    assert entry["client_uuid"] == "U" and entry["outcome"] == "completed"
    assert entry["time"] <= entry["frame_times"][-1] <= entry["ended"]
    _queue(sim, {"kind": "error", "code": 1013})
    generate(sim, "an error ends too")
    assert requests_log(sim)[-1]["ended"] >= requests_log(sim)[-1]["time"]


def test_usage_limit_sends_quota_with_reset_then_1037(sim: str) -> None:
    _queue(sim, {"kind": "usage_limit", "reset_seconds": 120})
    before = time.time()
    decoded = decode(generate(sim, "a").content)
    assert decoded.errors == [(8, 1037)]
    buckets = decoded.keyed("28")[0]
    assert all(before + 119 <= b[3][0] <= time.time() + 121 for b in buckets)
    assert requests_log(sim)[-1]["error_code"] == 1037


def test_config_rejects_unknown_fields(sim: str) -> None:
    response = httpx.post(f"{sim}/_sim/config", json={"nope": 1}, timeout=5)
    assert response.status_code == 422


def test_invalid_config_changes_nothing(sim: str) -> None:
    response = httpx.post(f"{sim}/_sim/config", json={"frame_interval": 0.5, "ui": "2030"}, timeout=5)
    assert response.status_code == 422
    assert httpx.get(f"{sim}/_sim/config", timeout=5).json()["frame_interval"] == FAST["frame_interval"]


def _content_texts(decoded: Decoded) -> tuple[list[str], list[str], str]:
    """Thoughts and text of each growing (non-final) content frame, and the final frame's text."""
    growing = [c for c in decoded.candidates if c[8] == [1]]
    thoughts = [c[37][0][0] if c[37] else "" for c in growing]
    return thoughts, [c[1][0] for c in growing], decoded.text


def _grow_by(texts: list[str], step: int) -> None:
    """Each snapshot extends the one before by exactly ``step`` characters; the last by 1..step."""
    assert texts and len(texts[0]) == min(step, len(texts[-1]))
    for before, after in itertools.pairwise(texts):
        assert after.startswith(before)
    growth = [len(after) - len(before) for before, after in itertools.pairwise(texts)]
    assert all(g == step for g in growth[:-1]) and 1 <= growth[-1] <= step


def test_first_token_delay_and_frame_interval_are_kept(sim: str) -> None:
    _config(sim, first_token_delay=0.4, frame_interval=0.05, snapshot_chars=60)
    assert generate(sim, "pace me").status_code == 200
    entry = requests_log(sim)[-1]
    times = entry["frame_times"]
    # Lower bounds only (the server sleeps at least this long; a loaded machine only adds time).
    assert times[0] - entry["locator_time"] >= 0.4 * 0.9
    gaps = [after - before for before, after in itertools.pairwise(times)]
    assert len(gaps) >= 5 and min(gaps) >= 0.05 * 0.8


@pytest.mark.parametrize("step", [1, 7, 50])
def test_each_content_frame_adds_snapshot_chars(sim: str, step: int) -> None:
    _config(sim, snapshot_chars=step, frame_interval=0.0)
    _, texts, final = _content_texts(decode(generate(sim, "grow 😄 by steps").content))
    _grow_by(texts, step)
    assert texts[-1] == final


def test_thoughts_grow_by_snapshot_chars_before_the_text(sim: str) -> None:
    _config(sim, snapshot_chars=13, frame_interval=0.0)
    thoughts, texts, _ = _content_texts(decode(generate(sim, "think", model=PRO).content))
    thinking = [t for t, text in zip(thoughts, texts, strict=True) if not text]
    assert thinking and all(t == thoughts[-1] for t in thoughts[len(thinking) :])
    _grow_by(thinking, 13)
    _grow_by(texts[len(thinking) :], 13)


NEW_SETTINGS = {
    "ui": "early2026",
    "thinking_control": "toggle",
    "label_fill_delay": 1.5,
    "status_code_null": True,
    "free_pro_turns": 7,
    "free_image_turns": 9,
    "tools_label": "Upload & tools",
    "tools_exclusive": True,
    "video_flow": "stream",
    "research_report": "immersive",
}
DEFAULTS = {
    "ui": "oct2026",
    "thinking_control": "auto",
    "label_fill_delay": 0.3,
    "status_code_null": False,
    "free_pro_turns": 3,
    "free_image_turns": 20,
    "tools_label": "Upload and tools",
    "tools_exclusive": False,
    "video_flow": "poll",
    "research_report": "text",
}


def test_every_fidelity_setting_changes_at_runtime_and_reset_restores_it() -> None:
    """The settings' own defaults (not the test fixture's), changed through /_sim/config."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings
    from tests.support.servers import serve

    with serve(create_app(SimulatorSettings())) as base:  # type: ignore[arg-type]
        current = httpx.get(f"{base}/_sim/config", timeout=5).json()
        assert {name: current[name] for name in DEFAULTS} == DEFAULTS
        changed = httpx.post(f"{base}/_sim/config", json=NEW_SETTINGS, timeout=5).json()
        assert {name: changed[name] for name in NEW_SETTINGS} == NEW_SETTINGS
        assert httpx.post(f"{base}/_sim/config", json={"video_flow": "push"}, timeout=5).status_code == 422
        httpx.post(f"{base}/_sim/reset", timeout=5).raise_for_status()
        restored = httpx.get(f"{base}/_sim/config", timeout=5).json()
        assert {name: restored[name] for name in DEFAULTS} == DEFAULTS
