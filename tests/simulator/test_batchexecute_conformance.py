"""Every RPC's batchexecute answer passes the framing checks the real captures pass
(``browser.protocol.check_framing``) and decodes with our decoder (``decode_batchexecute``, I1)
into the layout of protocol.md §8."""

from __future__ import annotations

from typing import Any

import pytest

from browser.protocol import check_framing, decode_batchexecute
from tests.simulator.batchexecute_wire import LIST_ALL, batchexecute, image_payload, read_payload
from tests.simulator.wire import TOOL_VIDEO, decode, generate


def _state(base: str) -> dict[str, Any]:
    """A chat with an image turn, a research plan and a video turn, to aim every RPC at."""
    image = decode(generate(base, "a red bicycle 😄 你好", tool=14).content)
    cid, rid = image.final[1]
    cand = image.candidates[-1]
    research = decode(generate(base, "heat pumps", tool=1).content)
    video = decode(generate(base, "a cat video", tool=TOOL_VIDEO).content)
    vcid, vrid = video.final[1]
    return {
        "otAQ7b": [],
        "ESY5D": [[["bard_activity_enabled"]]],
        "MaZiqc": LIST_ALL,
        "hNvQHb": read_payload(cid),
        "CNgdBe": [3, ["en"], 0],
        "c8o8Fe": image_payload(cand[12][7][0][0][1][0], cid, rid, cand[0]),
        "kwDCne": [research.candidates[-1][-1]["71"]],
        "jSf9Qc": [],
        "MUAZcd": [None, [["unread_metadata"]], [vcid, None, None, None, None, None, [[vcid, vrid], 0]]],
        "qWymEb": [cid, [1, None, 0, 1]],  # last: it deletes the chat the others read
    }


def _layout(rpc_id: str, payload: Any) -> None:
    """The answer slots protocol.md §8 names (and interfaces I3/I4 fix)."""
    if rpc_id == "otAQ7b":
        assert len(payload) >= 18 and payload[14] == 1000 and payload[16] == [8]
        assert all(isinstance(m[0], str) and len(m[0]) == 16 and isinstance(m[11], str) for m in payload[15])
        assert payload[17] == [19]
    elif rpc_id == "MaZiqc":
        assert all(isinstance(e[0], str) and isinstance(e[1], str) and len(e[5]) == 2 for e in payload[2])
    elif rpc_id == "hNvQHb":
        turn = payload[0][0]
        assert (
            turn[0][1].startswith("r_")
            and isinstance(turn[2][0][0], str)
            and turn[3][0][0][0].startswith("rc_")
        )
    elif rpc_id == "CNgdBe":
        assert "storybook" in [gem[0] for gem in payload[2]]
    elif rpc_id == "c8o8Fe":
        assert "/gg-dl/" in payload[0]
    elif rpc_id == "kwDCne":
        assert "deep_research_confirmation_content" in str(payload)
    elif rpc_id == "jSf9Qc":
        assert [window[2] for window in payload[1]] == [2, 1]
    elif rpc_id == "MUAZcd":
        assert "video.mp4" in payload[1][0][1]


def test_each_rpc_alone_conforms(sim: str) -> None:
    calls = _state(sim)
    for rpc_id, payload in calls.items():
        body = batchexecute(sim, [(rpc_id, payload)]).content
        assert check_framing(body) == [], rpc_id
        [result] = decode_batchexecute(body.decode("utf-8"))
        assert (result.rpc_id, result.identifier, result.error_code) == (rpc_id, "generic", None)
        _layout(rpc_id, result.payload)


def test_all_rpcs_in_one_call_conform_in_both_forms(sim: str) -> None:
    calls = list(_state(sim).items())
    for chunked in (True, False):
        body = batchexecute(sim, calls, chunked=chunked).content
        if chunked:
            assert check_framing(body) == []
        results = decode_batchexecute(body.decode("utf-8"))
        assert [r.rpc_id for r in results] == [rpc_id for rpc_id, _ in calls]
        # Only the first pass finds the chat: its last call (qWymEb) deleted it.
        if chunked:
            for result in results:
                assert result.error_code is None, result.rpc_id
                _layout(result.rpc_id, result.payload)


@pytest.mark.parametrize(("account", "code"), [(None, 7), ("expired-x", 7)])
def test_rejections_conform(sim: str, account: str | None, code: int) -> None:
    body = batchexecute(sim, [("MaZiqc", LIST_ALL), ("nosuch", [])], account=account).content
    assert check_framing(body) == []
    results = decode_batchexecute(body.decode("utf-8"))
    assert [(r.rpc_id, r.payload, r.error_code) for r in results] == [
        ("MaZiqc", None, code),
        ("nosuch", None, code),
    ]


def test_unknown_rpc_rejection_conforms(sim: str) -> None:
    body = batchexecute(sim, [("nosuch", [])]).content
    assert check_framing(body) == []
    assert [(r.rpc_id, r.error_code) for r in decode_batchexecute(body.decode("utf-8"))] == [("nosuch", 12)]
