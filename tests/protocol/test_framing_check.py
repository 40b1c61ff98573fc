"""check_framing finds each broken rule and passes well-formed bodies."""

from __future__ import annotations

import json

from browser.protocol import check_framing
from tests.protocol.bodies import GUARD, frame, streamed_answer

GOOD = streamed_answer("Hello 😄 你好 a=b&c", steps=3)


def _replace_once(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) >= 1
    return data.replace(old, new, 1)


def test_well_formed_synthetic_body_passes() -> None:
    assert check_framing(GOOD) == []


def test_wrong_length_is_reported_for_that_frame_only() -> None:
    first_length = GOOD.split(b"\n")[2]
    wrong = str(int(first_length) + 1).encode()
    assert len(wrong) == len(first_length)  # keeps the byte total right
    violations = check_framing(_replace_once(GOOD, b"\n" + first_length + b"\n", b"\n" + wrong + b"\n"))
    assert len(violations) == 1 and violations[0].startswith("frame 1: declared length")


def test_length_in_bytes_instead_of_utf16_units_is_reported() -> None:
    text = '[["wrb.fr",null,"😄"]]'
    as_bytes = f"{len(text.encode('utf-8')) + 2}\n{text}\n"
    data = (GUARD + as_bytes).encode("utf-8")
    assert any("declared length" in v for v in check_framing(data))


def _retrailed(count_delta: int = 0, total_delta: int = 0) -> bytes:
    """GOOD with its trailer rewritten; deltas of 0 give back a body equal to GOOD."""
    head, _length, trailer, _ = GOOD.rsplit(b"\n", 3)
    _, count, _, _, total = json.loads(trailer)[0]
    closing = frame([["e", count + count_delta, None, None, total + total_delta]]).encode("utf-8")
    return head + b"\n" + closing


def test_trailer_rewrite_helper_is_faithful() -> None:
    assert _retrailed() == GOOD


def test_wrong_trailer_item_count() -> None:
    assert check_framing(_retrailed(count_delta=-1)) == ["trailer counts 8 items, the body has 9"]


def test_wrong_trailer_byte_total() -> None:
    assert check_framing(_retrailed(total_delta=-10)) == [
        f"trailer says {len(GOOD) - 10} bytes, the body has {len(GOOD)}"
    ]


def test_trailer_not_last_and_duplicated() -> None:
    data = GOOD + frame([["di", 1]]).encode("utf-8")
    assert "trailer is item 9 of 10, not the last" in check_framing(data)
    assert "2 trailer items, expected one" in check_framing(GOOD + GOOD[len(GUARD) :])


def test_missing_guard_trailer_and_bad_json() -> None:
    assert check_framing(GOOD[len(GUARD) :])[0].startswith("body does not start")
    no_trailer = (GUARD + frame([["di", 1]])).encode("utf-8")
    assert check_framing(no_trailer) == ["no trailer ['e', ...] item"]
    bad_json = (GUARD + "5\n[1,]\n").encode("utf-8")
    assert any("JSON does not parse" in v for v in check_framing(bad_json))
    assert check_framing(b"\xff") == ["body is not valid UTF-8 at byte 0"]
    assert "body does not end with a newline" in check_framing(GOOD[:-1])
