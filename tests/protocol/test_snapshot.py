"""TurnDecoder on synthetic turns: rich content, object-form frames, errors, truncation."""

from __future__ import annotations

from typing import Any

import pytest

from browser.errors import ProtocolError
from browser.protocol import (
    GeneratedImage,
    MusicInfo,
    ResearchStep,
    TurnDecoder,
    VideoInfo,
    WebImage,
    clean_text,
    decode_turn,
)
from tests.protocol.bodies import (
    CID,
    RCID,
    RID,
    body,
    candidate,
    content,
    context,
    error,
    locator,
    quota,
    result,
    stats,
    streamed_answer,
)

IMAGE_ID = "http://googleusercontent.com/image_generation_content/0"
JOB = "e3136f2f-29f4-4f33-9223-271d4697c60a"
RESEARCH_ID = "6c0f3b9e-4b1a-4c8e-9a57-1f2d3c4b5a69"


def _turn(*frames: list[Any]) -> bytes:
    return body([[result(locator())], *([result(f)] for f in frames), stats()])


def _image(url: str, alt: str, image_id: str) -> list[Any]:
    return [[None, None, None, [None, 1, alt, url, None, "$Aesy"]], [image_id], None, [0, "a cat"]]


def _rich(**slots: Any) -> list[Any]:
    rich: list[Any] = [None] * 60
    for key, value in slots.items():
        rich[int(key[1:])] = value
    return rich


def test_thoughts_text_and_served_model() -> None:
    text = "Answer with 😄, 你好 and a=b<c>&d."
    snapshot = decode_turn(streamed_answer(text, thoughts="Thinking about 𝄞..."))
    assert snapshot.text == text and snapshot.thoughts == "Thinking about 𝄞..."
    assert (snapshot.cid, snapshot.rid, snapshot.rcid) == (CID, RID, RCID)
    assert (snapshot.served_model_id, snapshot.served_model_label) == ("56fdd199312815e2", "3.5 Flash")
    assert snapshot.completed and snapshot.frames == 4


def test_generated_images_and_placeholder_cleanup() -> None:
    raw = f"Here you go:\n\n{IMAGE_ID}\n\nhttp://googleusercontent.com/image_generation_content/1\nDone."
    images = [
        _image("http://localhost/gg-dl/a=s1024-rj", "cat.png", IMAGE_ID),
        _image(
            "http://localhost/gg-dl/b=s1024-rj",
            "cat2.png",
            "http://googleusercontent.com/image_generation_content/1",
        ),
        [[None, None, None, [None, 1, "no url"]]],
    ]
    snapshot = decode_turn(_turn(content(candidate(raw, done=True, rich=_rich(r7=[images])))))
    assert snapshot.raw_text == raw
    assert snapshot.text == "Here you go:\n\nDone."
    assert snapshot.images == (
        GeneratedImage("http://localhost/gg-dl/a=s1024-rj", IMAGE_ID, "cat.png"),
        GeneratedImage(
            "http://localhost/gg-dl/b=s1024-rj",
            "http://googleusercontent.com/image_generation_content/1",
            "cat2.png",
        ),
    )


def test_image_edit_results_in_the_field_object() -> None:
    edited = [_image("http://localhost/gg-dl/e=s1024-rj", "edit.png", IMAGE_ID)]
    snapshot = decode_turn(_turn(content(candidate("ok", done=True, rich=[{"8": [edited]}]))))
    assert [image.url for image in snapshot.images] == ["http://localhost/gg-dl/e=s1024-rj"]


def test_web_images() -> None:
    entry: list[Any] = [
        [["https://example.test/w.jpg"], None, None, None, "a web alt"],
        *[None] * 6,
        ["Title"],
    ]
    snapshot = decode_turn(_turn(content(candidate("web", rich=_rich(r1=[entry])))))
    assert snapshot.web_images == (WebImage("https://example.test/w.jpg", "a web alt", "Title"),)


def test_video_pending_then_rendered_keeps_the_job_id() -> None:
    chip = "http://googleusercontent.com/video_gen_chip/0"
    info: list[Any] = [None] * 7 + [["http://localhost/thumb.jpg", "http://localhost/download?c=v"]]
    data = _turn(
        content(candidate(f"Rendering.\n\n{chip}", rich=[{"65": [[chip], JOB]}])),
        content(candidate(f"Rendered.\n\n{chip}", done=True, rich=_rich(r59=[[[[info]]]]))),
    )
    decoder = TurnDecoder()
    snapshots = decoder.feed(data)
    pending = next(s.video for s in snapshots if s.frames == 1)
    assert pending == VideoInfo(None, None, JOB, pending=True)
    final = decoder.close()
    assert final.video == VideoInfo("http://localhost/thumb.jpg", "http://localhost/download?c=v", JOB, False)
    assert final.text == "Rendered.\n\n"


def test_a_music_track_at_c12_86_is_kept_once_named() -> None:
    """protocol.md §6 (GA 2026-03): ``[0][1][7] = [mp3 cover, mp3]``, ``[1][1][7] = [mp4 cover, mp4]``."""

    def entry(cover: str, url: str) -> list[Any]:
        return [None, [None] * 7 + [[cover, url]]]

    rich: list[Any] = [None] * 87
    rich[86] = [entry("http://h/c.jpg", "http://h/t.mp3"), entry("http://h/c2.jpg", "http://h/t.mp4")]
    decoder = TurnDecoder()
    snapshots = decoder.feed(
        _turn(content(candidate("Here.")), content(candidate("Here.", done=True, rich=rich)))
    )
    assert snapshots[0].music is None
    final = decoder.close()
    assert final.music == MusicInfo("http://h/t.mp3", "http://h/c.jpg", "http://h/t.mp4", "http://h/c2.jpg")
    assert decode_turn(_turn(content(candidate("no track", done=True, rich=_rich(r59=None))))).music is None


def test_deep_research_plan_in_the_candidates_field_object() -> None:
    plan = [
        "Cats",
        [[None, "Search", "Find sources"], [None, "Write", "Draft"]],
        "~5 min",
        ["Start research"],
    ]
    snapshot = decode_turn(
        _turn(content(candidate("Plan:", done=True, extra={"56": plan, "70": 1, "71": RESEARCH_ID})))
    )
    research = snapshot.research
    assert research is not None
    assert (research.title, research.eta, research.state, research.research_id) == (
        "Cats",
        "~5 min",
        1,
        RESEARCH_ID,
    )
    assert research.steps == (ResearchStep("Search", "Find sources"), ResearchStep("Write", "Draft"))


def test_deep_research_57_and_id_from_the_first_uuid() -> None:
    cand = candidate("Plan:", rich=_rich(r3=["x", RESEARCH_ID]), extra={"57": ["Dogs", [], None], "70": 2})
    research = decode_turn(_turn(content(cand))).research
    assert research is not None and research.research_id == RESEARCH_ID and research.state == 2
    assert research.steps == () and research.eta is None


def test_canvas_takes_the_longest_document_across_frames() -> None:
    short = "```html\n<!DOCTYPE html><p>hi</p>"
    full = short + "<p>there</p>\n```"
    data = _turn(
        content(candidate("Doc", canvas=[["cv_1", "Title", short]])),
        content(candidate("Doc", canvas=[["cv_1", "A much longer title than a short doc"]])),
        content(candidate("Doc", done=True, canvas=[["cv_1", "Title", full]])),
    )
    decoder = TurnDecoder()
    canvases = [s.canvas for s in decoder.feed(data) if s.frames]
    assert canvases == [short, short, full]
    assert decoder.close().canvas == full


def test_card_content_uses_the_expanded_card_text() -> None:
    raw = "http://googleusercontent.com/card_content/0"
    snapshot = decode_turn(_turn(content(candidate(raw, done=True, card="The card's text"))))
    assert snapshot.text == "The card's text" and snapshot.raw_text == raw


def test_first_candidate_wins_in_a_multi_candidate_frame() -> None:
    payload = content(candidate("first draft", done=True), candidate("second draft", rcid="rc_2", done=True))
    snapshot = decode_turn(_turn(payload))
    assert snapshot.text == "first draft" and snapshot.rcid == RCID


def test_object_form_frames() -> None:
    # Content frame with candidates and served model packed into the field object too.
    dense_less = [None, [CID, RID], {"5": [candidate("packed", done=True)], "40": "hex", "43": "Label"}]
    snapshot = decode_turn(_turn(dense_less, quota(reset=1800000000, nanos=500000000), context("tok")))
    assert snapshot.text == "packed" and snapshot.completed
    assert (snapshot.served_model_id, snapshot.served_model_label) == ("hex", "Label")
    assert snapshot.context_token == "tok"
    assert snapshot.quota is not None and snapshot.quota.buckets[0].reset_at == 1800000000.5


def test_anonymous_turn_with_trailing_1096_is_not_a_failure() -> None:
    data = body(
        [[result(locator())], [result(content(candidate("Hi there", done=True)))], [error(13, 1096)], stats()]
    )
    snapshot = decode_turn(data)
    assert snapshot.error_code == 1096 and snapshot.error_status == 13
    assert snapshot.has_content and not snapshot.failed and snapshot.text == "Hi there"


@pytest.mark.parametrize(("status", "code"), [(9, 1060), (8, 1037), (13, 1013)])
def test_error_only_turn_fails(status: int, code: int) -> None:
    decoder = TurnDecoder()
    (snapshot,) = decoder.feed(body([[error(status, code)], stats()]))
    assert (snapshot.error_code, snapshot.error_status) == (code, status)
    assert snapshot.failed and decoder.close() == snapshot


def test_usage_limit_keeps_the_quota_frame() -> None:
    snapshot = decode_turn(body([[result(quota(reset=1900000000))], [error(8, 1037)], stats()]))
    assert snapshot.failed and snapshot.quota is not None
    assert snapshot.quota.buckets[0].reset_at == pytest.approx(1900000000.062)
    assert snapshot.quota.reset_times == pytest.approx((1900000000.062, 1900000000.0))
    assert snapshot.quota.reset_at == 1900000000.0  # earliest; no bucket is exhausted


def test_quota_reset_at_prefers_the_exhausted_bucket() -> None:
    buckets = [[[1, 20, 1], 1, 6, [2000, 0], 15, 0], [[1, 16, 1], 1, 1, [1000, 0], 200, 197]]
    snapshot = decode_turn(_turn([None, [CID, RID], {"28": [buckets, "hex"]}]))
    assert snapshot.quota is not None and snapshot.quota.reset_at == 2000.0
    assert [b.remaining for b in snapshot.quota.buckets] == [0, 197]


def test_truncated_body_raises_but_keeps_the_partial_snapshot() -> None:
    data = body([[result(locator())], [result(content(candidate("partial")))]], trailer=False)
    decoder = TurnDecoder()
    decoder.feed(data)
    with pytest.raises(ProtocolError, match="without its trailer"):
        decoder.close()
    assert decoder.snapshot.text == "partial" and not decoder.finished
    cut = TurnDecoder()
    cut.feed(data[:-5])
    with pytest.raises(ProtocolError, match="truncated"):
        cut.close()
    assert cut.snapshot.rid == RID


def test_items_after_the_trailer_are_an_error() -> None:
    data = body([[result(locator())]]) + body([[result(locator())]])[len(")]}'\n\n") :]
    with pytest.raises(ProtocolError, match="after the trailer"):
        decode_turn(data)


def test_non_list_payload_is_an_error() -> None:
    with pytest.raises(ProtocolError, match="payload"):
        decode_turn(body([[result({"a": 1})]]))


def test_two_segment_placeholders_are_removed() -> None:
    """PWA handles ``image_collection/image_retrieval/<n>`` (fidelity.md F20)."""
    raw = "Look:\nhttp://googleusercontent.com/image_collection/image_retrieval/12345\nThere."
    assert clean_text(raw) == "Look:\nThere."
    assert clean_text("http://googleusercontent.com/youtube_content/3\nok") == "ok"
