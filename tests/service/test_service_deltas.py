"""Deltas from cumulative snapshots: flicker held back, nothing lost or duplicated, rewrites safe."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from browser.protocol import clean_text
from service.deltas import DeltaTracker, stable_length

# What an answer's raw text is made of (docs/architecture/wire-protocol.md#placeholders): prose, code fences,
# escaped
# markdown markers, inline code, and a placeholder of every kind with the newlines GA strips.
PLACEHOLDER_KINDS = (
    "card_content",
    "image_generation_content",
    "youtube_content",
    "immersive_entry_chip",
    "video_gen_chip",
    "shopping_content",
)
PIECES = st.sampled_from(
    [
        "Hello",
        " world",
        ", then",
        " https://example.com/x",
        " the http way",
        "\n\n",
        "\n",
        "\n```python\nprint(1)\n```\n",
        "`x`",
        " a\\_b",
        " 2\\*3",
        "\\",
        "é",
        *(f"\n\nhttp://googleusercontent.com/{kind}/{n}\n\n" for kind in PLACEHOLDER_KINDS for n in (0, 12)),
    ]
)


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


def test_rewrite_without_alignment_keeps_emitting_from_the_common_prefix() -> None:
    tracker = DeltaTracker()
    tracker.update("Hello wor")
    # Nothing sent can be taken back, but nothing the new text says after "Hello " is lost either.
    assert tracker.update("Hello there, a different answer") == "there, a different answer"
    assert tracker.finish("Hello there, a different answer.") == "."
    assert tracker.sent == "Hello worthere, a different answer." and tracker.diverged


def test_raw_text_switching_to_the_card_text_keeps_streaming() -> None:
    """The reported stall: after the switch every later delta was empty (59 of 530 characters)."""
    tracker = DeltaTracker()
    raw = "Here is what I found.\n\nInterim notes that the card replaces " * 3
    tracker.update(raw)
    card = "Here is what I found.\n\n| Name | Value |\n|---|---|\n" + "| row | 1 |\n" * 40
    delivered = tracker.update(card) + tracker.finish(card + "Done.")
    assert tracker.diverged
    common = len("Here is what I found.\n\n")
    assert delivered == (card + "Done.")[common:]


def test_a_shrinking_snapshot_emits_nothing_and_growth_resumes() -> None:
    tracker = DeltaTracker()
    tracker.update("abcdef")
    assert tracker.update("abc") == ""
    assert tracker.update("abcdefgi") == "gi"
    assert tracker.sent == "abcdefgi" and not tracker.diverged


def test_every_placeholder_prefix_is_held_back() -> None:
    for kind in PLACEHOLDER_KINDS:
        token = f"http://googleusercontent.com/{kind}/3"
        for cut in range(1, len(token)):
            snapshot = "See this:\n\n" + token[:cut]
            assert stable_length(snapshot) == len("See this:"), snapshot
    # A URL that leaves the placeholder shape is text again.
    assert stable_length("see http://example.com") == len("see http://example.com")
    assert stable_length("say h") == len("say")  # "h" may start a placeholder: one frame late


@given(
    pieces=st.lists(PIECES, max_size=40),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=25),
    close_fences=st.lists(st.booleans(), min_size=25, max_size=25),
)
def test_deltas_of_raw_prefixes_concatenate_to_the_final_text(
    pieces: list[str], cuts: list[int], close_fences: list[bool]
) -> None:
    """Snapshots are what the decoder makes of prefixes of the raw text (cut anywhere: inside a
    placeholder, a fence, an escape), sometimes with the dangling fence the renderer adds."""
    raw = "".join(pieces)
    final = clean_text(raw)
    tracker = DeltaTracker()
    out: list[str] = []
    for cut, close in zip(sorted(cuts), close_fences, strict=False):
        snapshot = clean_text(raw[: min(cut, len(raw))])
        if close and snapshot.count("```") % 2:
            snapshot += "\n```"
        out.append(tracker.update(snapshot))
    out.append(tracker.finish(final))
    assert "".join(out) == final
    assert tracker.sent == final and not tracker.diverged


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
