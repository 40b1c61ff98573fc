"""Deltas from cumulative snapshots: flicker held back, nothing lost or duplicated, rewrites safe."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.deltas import DeltaTracker, stable_length

FLICKER = st.sampled_from(["", "\n```", "```", "`", "\\", "\n", " ", "\n\n``", "\\\\"])


def test_plain_growth() -> None:
    tracker = DeltaTracker()
    assert [tracker.update("He"), tracker.update("Hello"), tracker.update("Hello world")] == [
        "He",
        "llo",
        " world",
    ]
    assert tracker.finish("Hello world") == ""
    assert tracker.sent == "Hello world" and not tracker.diverged


def test_dangling_fence_and_partial_escape_are_held_back() -> None:
    tracker = DeltaTracker()
    assert tracker.update("Code:\n```") == "Code:"
    assert tracker.update("Code:\n\n```py\nx = 1\\") == "\n\n```py\nx = 1"
    assert tracker.update("Code:\n\n```py\nx = 1\\_2") == "\\_2"
    assert tracker.finish("Code:\n\n```py\nx = 1\\_2\n```\n") == "\n```\n"
    assert tracker.sent == "Code:\n\n```py\nx = 1\\_2\n```\n"


def test_stable_length() -> None:
    assert stable_length("abc\n```") == 3
    assert stable_length("abc\\") == 3
    assert stable_length("   ") == 0
    assert stable_length("a`b") == 3


def test_rewrite_is_never_resent_and_continues_after_alignment() -> None:
    tracker = DeltaTracker()
    tracker.update("The quick brown fox jumps")
    # The page rewrote an early word; the end of what was sent still aligns.
    delta = tracker.update("A quick brown fox jumps over")
    assert delta == " over" and tracker.diverged
    assert tracker.finish("A quick brown fox jumps over the dog.") == " the dog."
    assert tracker.sent == "The quick brown fox jumps over the dog."


def test_rewrite_without_alignment_emits_nothing() -> None:
    tracker = DeltaTracker()
    tracker.update("Hello wor")
    assert tracker.update("Totally different answer") == ""
    assert tracker.finish("Totally different answer.") == ""
    assert tracker.sent == "Hello wor" and tracker.diverged


def test_a_shrinking_snapshot_emits_nothing_and_growth_resumes() -> None:
    tracker = DeltaTracker()
    tracker.update("abcdef")
    assert tracker.update("abc") == ""
    assert tracker.update("abcdefgh") == "gh"
    assert tracker.sent == "abcdefgh"


@given(
    final=st.text(min_size=0, max_size=200),
    cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12),
    flickers=st.lists(FLICKER, min_size=12, max_size=12),
)
def test_deltas_concatenate_to_the_final_text(final: str, cuts: list[int], flickers: list[str]) -> None:
    tracker = DeltaTracker()
    out: list[str] = []
    for cut, flicker in zip(sorted(cuts), flickers, strict=False):
        out.append(tracker.update(final[: min(cut, len(final))] + flicker))
    out.append(tracker.finish(final))
    assert "".join(out) == final
    assert tracker.sent == final


@given(
    final=st.text(alphabet=st.characters(codec="utf-8"), max_size=120),
    cuts=st.lists(st.integers(min_value=0, max_value=120), max_size=10),
    noise=st.lists(st.text(max_size=6), min_size=10, max_size=10),
)
def test_never_resends_and_concatenates_whenever_final_extends_what_was_sent(
    final: str, cuts: list[int], noise: list[str]
) -> None:
    """Arbitrary tails (not only flicker): deltas only ever append, and end right when possible."""
    tracker = DeltaTracker()
    for cut, tail in zip(cuts, noise, strict=False):
        before = tracker.sent
        delta = tracker.update(final[: min(cut, len(final))] + tail)
        assert tracker.sent == before + delta
    extends = final.startswith(tracker.sent)
    tracker.finish(final)
    if extends:
        assert tracker.sent == final
