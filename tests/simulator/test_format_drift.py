"""The ``format_drift`` behaviour: a well-framed answer whose candidate sits where our decoder never looks."""

from __future__ import annotations

import httpx

from browser import protocol
from tests.simulator.wire import decode, generate, requests_log


def test_drifted_answer_is_well_framed_but_carries_no_content_for_the_decoder(sim: str) -> None:
    plain = generate(sim, "drift me").content
    body = {"account": "paid-alice", "behaviours": [{"kind": "format_drift"}]}
    httpx.post(f"{sim}/_sim/behaviours", json=body, timeout=5).raise_for_status()
    drifted = generate(sim, "drift me").content

    assert protocol.check_framing(drifted) == []
    snapshot = protocol.decode_turn(drifted)
    assert not snapshot.has_content and snapshot.text == "" and snapshot.error_code is None
    assert snapshot.cid and snapshot.served_model_id == protocol.decode_turn(plain).served_model_id

    # The whole answer is still there, in the new slot (trailing object key "61" = index 60).
    payloads = decode(drifted).payloads
    assert decode(drifted).candidates == [], "no payload keeps a candidate at inner[4]"
    moved = [p[-1]["61"][0] for p in payloads if isinstance(p[-1], dict) and "61" in p[-1]]
    expected = decode(plain).text.replace(protocol.decode_turn(plain).cid or "?", snapshot.cid)
    assert moved and moved[-1][1][0] == expected
    assert [e["behaviour"] for e in requests_log(sim)] == [None, {"kind": "format_drift"}]
