"""decode_account_status reads the otAQ7b layout public clients read off the real page
(docs/architecture/evidence.md#g2 to G6); capabilities_of maps it to families, the tier and the page's tools.

The payloads below are shaped as the evidence shows them, not as our simulator writes them: the AUTO
source's real-shaped model entry and mock answer (``[14]`` null), the RSDK capture writer's entry
(``[1]`` title, ``[11]`` versioned name, ``[17]`` category), and the ZX test body's flags ``[8], [19]``.
"""

from __future__ import annotations

from typing import Any

import pytest

from browser._capabilities import ThinkingControl
from browser._requests import ModeFamily, Tool
from browser._status import capabilities_of
from browser.errors import ProtocolError
from browser.protocol import capacity_of, decode_account_status

# AUTO (file 68807630420): the entry an extension injects into the real answer, verbatim.
AUTO_ENTRY: list[Any] = [
    "a74ec8485b3b5ce4", "Auto", "Adapts to your needs",
    [2, 49, 52, 53, 140, 3, 4, 5, 6, 7, 8, 62, 9, 10, 11, 231, 12, 55],
    2, None, None, None, None, None, "Auto", "Auto", "Adapts to your needs", None, None, None, None, 4,
    ["https://fonts.gstatic.com/s/i/short-term/release/googlesymbols/hdr_auto/default/24px.svg", True],
]  # fmt: skip


def rsdk_entry(hex_id: str, title: str, description: str, versioned: str, category: int) -> list[Any]:
    """The RSDK capture writer's entry: [0] id, [1] title, [2] description, [11] versioned, [17] category."""
    return [hex_id, title, description, *[None] * 8, versioned, *[None] * 5, category]


OCT_PAID = [
    rsdk_entry("8c46e95b1a07cecc", "Flash-Lite", "Fastest answers", "3.5 Flash-Lite", 6),
    rsdk_entry("56fdd199312815e2", "Flash", "All-around help", "3.8 Flash", 1),
    rsdk_entry("e6fa609c3fa255c0", "Pro", "Advanced reasoning", "3.1 Pro", 3),
]


def answer(
    status: int | None, models: list[Any], tier_flags: list[int], capability_flags: list[int]
) -> list[Any]:
    # AUTO's mock answer: [1] [false,null,false], [2] false, [6] true, [12] false, [13] false.
    body: list[Any] = [1, [False, None, False], False, None, None, None, True, *[None] * 5, False, False]
    return [*body, status, models, tier_flags, capability_flags]


def test_a_paid_account_in_the_real_layout() -> None:
    decoded = decode_account_status(answer(1000, OCT_PAID, [8], [19]))
    assert decoded.status_code == 1000
    assert [(m.hex, m.name, m.label, m.mode_number) for m in decoded.models] == [
        ("8c46e95b1a07cecc", "Flash-Lite", "3.5 Flash-Lite", 6),
        ("56fdd199312815e2", "Flash", "3.8 Flash", 1),
        ("e6fa609c3fa255c0", "Pro", "3.1 Pro", 3),
    ]
    assert (decoded.tier_flags, decoded.capability_flags, decoded.capacity) == ((8,), (19,), 2)
    caps = capabilities_of(decoded, frozenset({Tool.IMAGE, Tool.VIDEO}), ThinkingControl.LEVELS)
    assert caps.tier == "paid"
    assert caps.modes == {ModeFamily.FLASH, ModeFamily.PRO}
    # The tools are the page's menu's, passed in: nothing in the answer names a tool (G6).
    assert caps.tools == {Tool.IMAGE, Tool.VIDEO} and caps.thinking is ThinkingControl.LEVELS
    assert [(m.label, m.family) for m in caps.models] == [
        ("3.5 Flash-Lite", None),
        ("3.8 Flash", ModeFamily.FLASH),
        ("3.1 Pro", ModeFamily.PRO),
    ]


def test_the_capability_flags_are_never_read_as_tools() -> None:
    # The old (contradicted) reading took [17] for tool codes: 19 and 115 are Pro/Plus flags.
    caps = capabilities_of(decode_account_status(answer(1000, OCT_PAID, [], [1, 2, 14, 15])))
    assert caps.tools == frozenset()
    assert caps.tier == "free", "1, 2, 14, 15 are no capacity flags"


def test_the_real_entry_shape_is_read_by_its_fields() -> None:
    (auto,) = decode_account_status(answer(None, [AUTO_ENTRY], [], [])).models
    assert (auto.hex, auto.name, auto.label, auto.description) == (
        "a74ec8485b3b5ce4",
        "Auto",
        "Auto",
        "Adapts to your needs",
    )
    # [3] is a list of per-model capability ints and [17] the mode number (4 = AUTO), not [3].
    assert auto.mode_number == 4 and auto.capabilities[:3] == (2, 49, 52)
    assert capabilities_of(decode_account_status(answer(None, [AUTO_ENTRY], [], []))).modes == frozenset()


def test_a_missing_status_code_reads_as_available() -> None:
    # AUTO's mock answer has null at [14]; gemini_webapi maps a missing code to AVAILABLE (G3).
    assert decode_account_status(answer(None, OCT_PAID, [], [])).status_code == 1000
    assert decode_account_status(answer(1000, OCT_PAID, [], [])[:14]).status_code == 1000


@pytest.mark.parametrize(
    ("tier_flags", "capability_flags", "capacity", "tier"),
    [
        ([], [], 1, "free"),
        ([8], [], 2, "paid"),
        ([], [19], 2, "paid"),
        ([8], [19], 2, "paid"),
        ([16], [], 3, "paid"),
        ([], [106], 3, "paid"),
        ([], [115], 4, "paid"),
        ([21], [115], 1, "free"),
        ([22], [], 2, "paid"),
    ],
)
def test_tier_from_the_flag_sets(
    tier_flags: list[int], capability_flags: list[int], capacity: int, tier: str
) -> None:
    """gemini_webapi's ``compute_capacity`` (G5): more than the free capacity is a paid plan."""
    assert capacity_of(tuple(tier_flags), tuple(capability_flags)) == capacity
    decoded = decode_account_status(answer(1000, OCT_PAID, tier_flags, capability_flags))
    assert capabilities_of(decoded).tier == tier


def test_the_free_tier_has_its_own_hexes_and_a_limited_pro() -> None:
    free = [
        rsdk_entry("cf41b0e0dd7d53e5", "Flash-Lite", "Fastest answers", "3.5 Flash-Lite", 6),
        rsdk_entry("fbb127bbb056c959", "Flash", "All-around help", "3.8 Flash", 1),
        rsdk_entry("9d8ca3786ebdfbea", "Pro", "Advanced reasoning", "3.1 Pro", 3),
    ]
    caps = capabilities_of(decode_account_status(answer(1000, free, [], [])), frozenset({Tool.IMAGE}))
    assert caps.tier == "free" and caps.modes == {ModeFamily.FLASH, ModeFamily.PRO}
    assert caps.tools == {Tool.IMAGE}


def test_early_2026_thinking_model_is_a_flash_that_thinks() -> None:
    early = [
        rsdk_entry("fbb127bbb056c959", "Fast", "Answers quickly", "Fast", 1),
        rsdk_entry("5bf011840784117a", "Thinking", "Solves complex problems", "Thinking", 2),
        rsdk_entry("9d8ca3786ebdfbea", "Pro", "Thinks longer", "Pro", 3),
    ]
    caps = capabilities_of(decode_account_status(answer(1000, early, [], [])))
    assert [(m.family, m.thinks) for m in caps.models] == [
        (ModeFamily.FLASH, False),
        (ModeFamily.FLASH, True),
        (ModeFamily.PRO, False),
    ]


def test_a_label_naming_no_family_falls_back_to_the_mode_number() -> None:
    entry = rsdk_entry("0123456789abcdef", "Nano", "", "Nano", 3)
    (model,) = capabilities_of(decode_account_status(answer(1000, [entry], [], []))).models
    assert model.family is ModeFamily.PRO


def test_object_tail_form() -> None:
    decoded = decode_account_status([None, {"15": 1000, "16": OCT_PAID, "17": [8], "18": [19]}])
    assert (decoded.status_code, len(decoded.models), decoded.capacity) == (1000, 3, 2)


def test_expired_account_status() -> None:
    decoded = decode_account_status(answer(1016, [], [], []))
    assert (decoded.status_code, decoded.models) == (1016, ())


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"15": 1000}, "not a list"),
        ([None] * 14 + ["1000"], "status code"),
        ([None] * 14 + [1000, "x"], r"\[15\]"),
        ([None] * 14 + [1000, ["hex"]], "not a list"),
        ([None] * 14 + [1000, [[1, "Fast"]]], "hex id"),
        ([None] * 14 + [1000, [], "8"], r"\[16\]"),
    ],
)
def test_malformed_answers(payload: Any, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        decode_account_status(payload)
