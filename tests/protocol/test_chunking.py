"""Property: however a body is cut into chunks, the decoder sees the same frames and snapshots."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from browser.protocol import TurnDecoder, TurnSnapshot, check_framing, decode_turn
from tests.protocol.bodies import chunked, streamed_answer
from tests.support.paths import realdata

REAL_FILES = [
    "streamgenerate_capture_1.txt",
    "streamgenerate_capture_2.txt",
    "error_1060.txt",
    "error_1096.txt",
]
SYNTHETIC = [
    streamed_answer("Emoji 😄👍🏽 and CJK 你好世界, escapes a=b<c>&d, astral 𝄞.", steps=5),
    streamed_answer("x" * 300 + "😄" * 50 + "中" * 50, steps=7, thoughts="Thoughts = <think> & 🤔"),
]
FAST = settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def _decode_chunked(data: bytes, chunks: list[bytes]) -> tuple[list[TurnSnapshot], TurnSnapshot]:
    assert b"".join(chunks) == data
    decoder = TurnDecoder()
    snapshots = [snapshot for chunk in chunks for snapshot in decoder.feed(chunk)]
    return snapshots, decoder.close()


def _one_shot(data: bytes) -> tuple[list[TurnSnapshot], TurnSnapshot]:
    return _decode_chunked(data, [data])


def _cuts(data: bytes) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(min_value=0, max_value=len(data)), max_size=40)


@FAST
@given(data=st.data())
def test_synthetic_bodies_decode_identically_under_any_chunking(data: Any) -> None:
    body = data.draw(st.sampled_from(SYNTHETIC))
    cuts = data.draw(_cuts(body))
    assert _decode_chunked(body, chunked(body, cuts)) == _one_shot(body)


@FAST
@given(data=st.data())
def test_real_bodies_decode_identically_under_any_chunking(data: Any) -> None:
    name = data.draw(st.sampled_from(REAL_FILES))
    body = realdata("protocol", name).read_bytes()
    cuts = data.draw(_cuts(body))
    assert _decode_chunked(body, chunked(body, cuts)) == _one_shot(body)


TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
        st.sampled_from("=<>&😄你好𝄞\n\\\"'"),
    ),
    min_size=1,
    max_size=120,
)


@FAST
@given(
    text=TEXT, steps=st.integers(min_value=1, max_value=6), cuts=st.lists(st.integers(0, 4000), max_size=30)
)
def test_any_answer_text_round_trips_and_is_well_framed(text: str, steps: int, cuts: list[int]) -> None:
    body = streamed_answer(text, steps=steps)
    assert check_framing(body) == []
    snapshots, final = _decode_chunked(body, chunked(body, cuts))
    assert final == decode_turn(body)
    assert final.raw_text == text and final.completed
    assert all(text.startswith(snapshot.raw_text) for snapshot in snapshots)


def test_byte_by_byte_real_capture() -> None:
    body = realdata("protocol", "streamgenerate_capture_2.txt").read_bytes()
    assert _decode_chunked(body, [body[i : i + 1] for i in range(len(body))]) == _one_shot(body)
