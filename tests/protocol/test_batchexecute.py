"""decode_batchexecute on hand-made bodies: several RPCs, chunking, rejections, both forms, bad input."""

from __future__ import annotations

import codecs
from typing import Any

import pytest

from browser.errors import ProtocolError
from browser.protocol import BatchResult, check_framing, decode_batchexecute
from tests.protocol.bodies import GUARD, body, chunked, dumps, stats


def answer(rpc_id: str, payload: Any, identifier: str = "generic") -> list[Any]:
    return ["wrb.fr", rpc_id, dumps(payload), None, None, None, identifier]


def rejection(rpc_id: str, code: int) -> list[Any]:
    return ["wrb.fr", rpc_id, None, None, None, [code], "generic"]


STATUS = [None] * 14 + [1000, [["9d8ca3786ebdfbea", "Fast", "Answers quickly", 1, 0]], [2], [1, 2, 14, 15]]
CHATS = [None, "token:2", [["c_1", "Émoji 🎉 title", False, None, None, [1774263794, 0]]]]


def test_several_rpcs_in_one_body_in_order() -> None:
    raw = body([[answer("otAQ7b", STATUS)], [answer("MaZiqc", CHATS, "list")], stats()])
    assert check_framing(raw) == []
    assert decode_batchexecute(raw.decode("utf-8")) == [
        BatchResult("otAQ7b", "generic", STATUS, None),
        BatchResult("MaZiqc", "list", CHATS, None),
    ]


def test_several_rpcs_sharing_one_frame() -> None:
    raw = body([[answer("ESY5D", [[["bard_activity_enabled", True]]]), answer("otAQ7b", [])], stats()])
    results = decode_batchexecute(raw.decode("utf-8"))
    assert [(r.rpc_id, r.payload) for r in results] == [
        ("ESY5D", [[["bard_activity_enabled", True]]]),
        ("otAQ7b", []),
    ]


def test_frames_split_across_network_chunks() -> None:
    """The capture joins chunks cut anywhere (even inside an emoji); the text decodes the same."""
    raw = body([[answer("MaZiqc", CHATS)], [answer("otAQ7b", STATUS)], stats()])
    whole = decode_batchexecute(raw.decode("utf-8"))
    emoji_at = raw.index("🎉".encode()) + 1
    for cuts in ([emoji_at], [emoji_at, 7, 40], list(range(0, len(raw), 3))):
        decoder = codecs.getincrementaldecoder("utf-8")()
        text = "".join(decoder.decode(piece) for piece in chunked(raw, cuts))
        text += decoder.decode(b"", final=True)
        assert decode_batchexecute(text) == whole
    assert whole[0].payload[2][0][1] == "Émoji 🎉 title"


def test_rejection_forms() -> None:
    full = ["wrb.fr", "c8o8Fe", None, None, None, [13, None, [["type.googleapis.com/x", [1060]]]], "generic"]
    raw = body([[rejection("otAQ7b", 7)], [full], [answer("hNvQHb", [[]])], stats()])
    results = decode_batchexecute(raw.decode("utf-8"))
    assert results == [
        BatchResult("otAQ7b", "generic", None, 7),
        BatchResult("c8o8Fe", "generic", None, 13),
        BatchResult("hNvQHb", "generic", [[]], None),
    ]
    assert [r.rejected for r in results] == [True, True, False]


def test_answer_without_payload_or_error_is_an_empty_success() -> None:
    raw = body([[["wrb.fr", "GzXR5e", None, None, None, None, "generic"]]])
    assert decode_batchexecute(raw.decode("utf-8")) == [BatchResult("GzXR5e", "generic", None, None)]


def test_single_array_form() -> None:
    items = [answer("otAQ7b", STATUS), answer("ESY5D", [1]), ["di", 12], ["af.httprm", 11, "-1", 2]]
    text = GUARD + dumps(items)
    assert decode_batchexecute(text) == [
        BatchResult("otAQ7b", "generic", STATUS, None),
        BatchResult("ESY5D", "generic", [1], None),
    ]


def test_stats_trailer_and_unknown_items_are_ignored() -> None:
    raw = body([[["zz.new", 1]], stats()])
    assert decode_batchexecute(raw.decode("utf-8")) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "guard"),
        ('[["wrb.fr","otAQ7b","[]"]]', "guard"),
        (GUARD + '12\n[["wrb.fr"]]\n', "newline"),
        (GUARD + "99\n[]\n", "truncated"),
        (GUARD + "4\n{}\n", "not a list"),
        (GUARD + "5\n[[\n\n", "valid JSON"),
        (GUARD + dumps([7]), "tagged list"),
        (GUARD + dumps([["wrb.fr", None, "[]"]]), "no rpc id"),
        (GUARD + dumps([["wrb.fr", "otAQ7b", "[1,"]]), "not valid JSON"),
        (GUARD + dumps([["wrb.fr", "otAQ7b", [1]]]), "not a string"),
        (GUARD + dumps([["wrb.fr", "otAQ7b", None, None, None, ["x"]]]), "integer code"),
        (GUARD + dumps([["wrb.fr", "otAQ7b", "[]", None, None, None, 5]]), "identifier"),
        (GUARD + dumps([["er", None, 400, [{"1": ["xsrf", "AD1_secret:1"]}]]]), "refused"),
    ],
)
def test_malformed_input_raises_protocol_error(text: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message) as caught:
        decode_batchexecute(text)
    assert "AD1_secret" not in str(caught.value)
