"""The simulator's framing, checked by the independent checker in ``wire`` and against real bytes."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.encoder import BodyWriter, dumps, error_envelope, result_envelope
from tests.simulator.wire import split_frames, utf16_units
from tests.support.paths import realdata


def _body(payloads: list[object]) -> bytes:
    writer = BodyWriter()
    parts = [writer.guard()]
    parts += [writer.frame([result_envelope(p)]) for p in payloads]
    parts.append(writer.frame([["di", 12], ["af.httprm", 12, "-1", 3]]))
    parts.append(writer.trailer())
    return b"".join(parts)


def test_lengths_count_utf16_units_including_emoji_and_cjk() -> None:
    body = _body([[None, ["c_1", "r_1"], "😄 你好 a=b <x> & y"]])
    frames = split_frames(body)
    inner = json.loads(frames[0][0][2])
    assert inner[2] == "😄 你好 a=b <x> & y"
    first_line = body.decode().split("\n")[2]
    json_line = body.decode().split("\n")[3]
    assert int(first_line) == utf16_units(json_line) + 2
    assert int(first_line) != len(json_line.encode()) + 2


def test_special_characters_escaped_at_both_levels() -> None:
    text = dumps([["wrb.fr", None, dumps(["=<>&"])]])
    assert not set("=<>&") & set(text)
    assert "\\\\u003d\\\\u003c\\\\u003e\\\\u0026" in text
    assert json.loads(json.loads(text)[0][2]) == ["=<>&"]


def test_trailer_counts_items_and_its_own_bytes() -> None:
    frames = split_frames(_body([[1], [2], [3]]))
    assert frames[-1][0][1] == 6  # 3 results + di + af.httprm + e


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_any_text_frames_correctly(texts: list[str]) -> None:
    split_frames(_body([[None, text] for text in texts]))


def test_reproduces_real_error_body_byte_for_byte() -> None:
    real = realdata("protocol", "error_1060.txt").read_bytes()
    writer = BodyWriter()
    body = writer.guard() + writer.frame([error_envelope(9, 1060)])
    body += writer.frame([["di", 193], ["af.httprm", 193, "6599874813400492976", 64]]) + writer.trailer()
    assert body == real
