"""FrameSplitter and split_body: UTF-16 lengths, chunk boundaries anywhere, malformed bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from browser.errors import ProtocolError
from browser.protocol import FrameSplitter, _frames, split_body, utf16_len
from tests.protocol.bodies import GUARD, dumps, frame, result


def _feed_all(chunks: list[bytes]) -> list[str]:
    splitter = FrameSplitter()
    frames = [text for chunk in chunks for text in splitter.feed(chunk)]
    return frames + splitter.close()


ITEMS: list[list[Any]] = [
    [["wrb.fr", None, '["😄 emoji", "你好 CJK", "a=b&c<d>"]']],
    [["di", 5], ["af.httprm", 5, "-1", 2]],
    [["wrb.fr", None, dumps(["𝄞 astral", "url?x=1&y=2"])]],
]
BODY = (GUARD + "".join(frame(items) for items in ITEMS)).encode("utf-8")


def test_split_body_returns_each_frame_json() -> None:
    assert [json.loads(text) for text in split_body(BODY)] == ITEMS


def test_lengths_count_utf16_units_not_bytes_or_code_points() -> None:
    text = split_body(BODY)[0]
    assert utf16_len("😄") == 2
    # The frame holds an astral emoji and CJK: UTF-8 bytes and code points both disagree with units.
    assert utf16_len(text) != len(text)
    assert utf16_len(text) != len(text.encode("utf-8"))


def test_escaped_characters_stay_six_ascii_units() -> None:
    text = split_body(BODY)[2]
    assert "\\\\u003d" in text and "\\\\u0026" in text
    assert json.loads(json.loads(text)[0][2]) == ["𝄞 astral", "url?x=1&y=2"]


def test_byte_by_byte_feeding_splits_inside_characters_and_digits() -> None:
    chunks = [BODY[i : i + 1] for i in range(len(BODY))]
    assert _feed_all(chunks) == split_body(BODY)


def test_cut_inside_a_four_byte_character() -> None:
    emoji = BODY.index("😄".encode())
    splitter = FrameSplitter()
    assert splitter.feed(BODY[: emoji + 2]) == []
    rest = splitter.feed(BODY[emoji + 2 :])
    assert rest == split_body(BODY)
    assert splitter.close() == []


def test_guard_split_across_chunks() -> None:
    assert _feed_all([b")]", b"}", b"'\n", b"\n", BODY[len(GUARD) :]]) == split_body(BODY)


def test_frame_is_returned_as_soon_as_its_last_byte_arrives() -> None:
    first_end = len((GUARD + frame(ITEMS[0])).encode("utf-8"))
    splitter = FrameSplitter()
    assert splitter.feed(BODY[: first_end - 1]) == []
    assert len(splitter.feed(BODY[first_end - 1 : first_end])) == 1


def test_body_without_rt_c_framing_is_one_json_array() -> None:
    items = [result([None, ["c_1", "r_1"], None, None, [["rc_1", ["plain body 😄"]]]])]
    plain = (GUARD + dumps(items) + "\n").encode("utf-8")
    assert [json.loads(text) for text in split_body(plain)] == [items]
    splitter = FrameSplitter()
    assert splitter.feed(plain[:20]) == [] and splitter.feed(plain[20:]) == []
    assert splitter.framed is False
    assert [json.loads(text) for text in splitter.close()] == [items]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>", "guard"),
        (b")]}'\n\n12", "length digits"),
        (BODY[:-3], "truncated"),
        (b")]}'\n\nabc\n", "expected a frame length"),
        (b")]}'\n\n1\n", "too small"),
        (')]}\'\n\n4\n["😄"]\n'.encode(), "inside a character"),
        (b")]}'\n\n4\n[1]]\n", "newline"),
        (b")]}'\n\n5\n[\xff]\n", "UTF-8"),
        (b")]}", "guard"),
        (b"", "guard"),
    ],
)
def test_malformed_bodies_raise_protocol_error(data: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        split_body(data)


def test_length_ending_inside_a_surrogate_pair_is_rejected_even_when_chunked() -> None:
    data = ')]}\'\n\n4\n["😄"]\n'.encode()
    splitter = FrameSplitter()
    with pytest.raises(ProtocolError, match="inside a character"):
        for i in range(len(data)):
            splitter.feed(data[i : i + 1])


def test_feed_after_close_is_an_error() -> None:
    splitter = FrameSplitter()
    splitter.feed(BODY)
    splitter.close()
    with pytest.raises(ProtocolError):
        splitter.feed(b"1")


def test_splitting_is_linear_in_the_body_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # One 1 MB frame fed in 100-byte chunks: re-measuring the pending frame per chunk would be
    # ~5 GB of work; the incremental splitter touches each character about once. Counted, not timed:
    # every character the splitter measures or cuts in UTF-16 passes through these two helpers.
    measured = [0]
    real_len, real_prefix = _frames.utf16_len, _frames._utf16_prefix

    def counting_len(text: str) -> int:
        measured[0] += len(text)
        return real_len(text)

    def counting_prefix(text: str, units: int) -> str:
        measured[0] += len(text)
        return real_prefix(text, units)

    monkeypatch.setattr(_frames, "utf16_len", counting_len)
    monkeypatch.setattr(_frames, "_utf16_prefix", counting_prefix)
    big = frame([["wrb.fr", None, "界" * 350_000]])
    data = (GUARD + big).encode("utf-8")
    splitter = FrameSplitter()
    frames = [text for i in range(0, len(data), 100) for text in splitter.feed(data[i : i + 100])]
    assert len(frames) == 1 and utf16_len(frames[0]) == 350_020
    assert 0 < measured[0] <= 2 * len(big)
