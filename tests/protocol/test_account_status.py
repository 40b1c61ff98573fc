"""decode_account_status reads the otAQ7b layout; capabilities_of maps it to families, tools, tier."""

from __future__ import annotations

from typing import Any

import pytest

from browser._requests import ModeFamily, Tool
from browser._status import capabilities_of
from browser.errors import ProtocolError
from browser.protocol import OfferedModel, decode_account_status

MID_PAID = [
    ["56fdd199312815e2", "3.5 Flash", "All-around help", 1, 1],
    ["8c46e95b1a07cecc", "3.1 Flash-Lite", "Fastest answers", 6, 1],
    ["e6fa609c3fa255c0", "3.1 Pro", "Advanced math and code", 3, 1],
    ["e051ce1aa80aa576", "Standard", "Thinks before answering", 2, 1],
    ["e051ce1aa80aa576", "Extended thinking", "Thinks longer for harder problems", 2, 2],
]


def status(code: int, models: list[Any], tier: list[int], tools: list[int]) -> list[Any]:
    return [None] * 14 + [code, models, tier, tools]


def test_dense_answer_of_a_paid_account() -> None:
    answer = decode_account_status(status(1000, MID_PAID, [2], [1, 2, 14, 15]))
    assert answer.status_code == 1000 and answer.tier_code == 2 and answer.tool_codes == (1, 2, 14, 15)
    assert answer.models[4] == OfferedModel(
        "e051ce1aa80aa576", "Extended thinking", "Thinks longer for harder problems", 2, 2
    )
    caps = capabilities_of(answer)
    assert caps.tier == "paid"
    assert caps.modes == {ModeFamily.FLASH, ModeFamily.PRO, ModeFamily.THINKING}
    assert caps.tools == {Tool.DEEP_RESEARCH, Tool.CANVAS, Tool.IMAGE, Tool.VIDEO}
    # "Standard" names no family: its mode category (2) says thinking; Flash-Lite stays outside.
    assert [(m.label, m.family) for m in caps.models] == [
        ("3.5 Flash", ModeFamily.FLASH),
        ("3.1 Flash-Lite", None),
        ("3.1 Pro", ModeFamily.PRO),
        ("Standard", ModeFamily.THINKING),
        ("Extended thinking", ModeFamily.THINKING),
    ]
    assert caps.models[4].thinking_level == 2


def test_object_tail_form_and_a_free_account() -> None:
    free = [m for m in MID_PAID if m[3] != 3]
    answer = decode_account_status([None, {"15": 1000, "16": free, "17": [1], "18": []}])
    caps = capabilities_of(answer)
    assert (answer.status_code, caps.tier, caps.tools) == (1000, "free", frozenset())
    assert ModeFamily.PRO not in caps.modes and len(caps.models) == 4


def test_tier_is_derived_when_the_flags_are_absent_and_unknown_tools_are_dropped() -> None:
    answer = decode_account_status([None] * 14 + [1000, MID_PAID[:1]])
    assert (answer.tier_code, answer.tool_codes) == (None, ())
    assert capabilities_of(answer).tier == "free"
    unknown = capabilities_of(decode_account_status(status(1000, MID_PAID, [], [99, 14])))
    assert unknown.tools == {Tool.IMAGE} and unknown.tier == "paid"


def test_expired_account_status() -> None:
    answer = decode_account_status(status(1016, [], [], []))
    assert (answer.status_code, answer.models) == (1016, ())


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"15": 1000}, "not a list"),
        ([None] * 14, "no account status"),
        ([None] * 14 + ["1000"], "no account status"),
        ([None] * 14 + [1000, "x"], r"\[15\]"),
        ([None] * 14 + [1000, [["hex"]]], "hex, label"),
        ([None] * 14 + [1000, [[1, "Fast"]]], "hex or label"),
        ([None] * 14 + [1000, [], ["2"]], "tier"),
        ([None] * 14 + [1000, [], [2], ["1"]], "non-integer"),
    ],
)
def test_malformed_answers(payload: Any, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode_account_status(payload)
