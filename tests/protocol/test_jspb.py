"""jspb_get and normalise on dense and trailing-object (``{"26": ...}``) forms."""

from __future__ import annotations

from typing import Any

from browser.protocol import jspb_get, normalise

CONTEXT_FRAME: list[Any] = [None, ["c_1", "r_1"], {"26": "token", "44": False}]
DENSE: list[Any] = [None, ["c_1", "r_1"], *([None] * 23), "token"]


def test_dense_and_object_forms_read_the_same_field() -> None:
    assert jspb_get(DENSE, 25) == "token"
    assert jspb_get(CONTEXT_FRAME, 25) == "token"
    assert jspb_get(CONTEXT_FRAME, 43) is False
    assert jspb_get(CONTEXT_FRAME, 1, 1) == "r_1"


def test_string_keys_are_field_numbers_in_objects_and_lists() -> None:
    assert jspb_get(CONTEXT_FRAME, "26") == "token"
    assert jspb_get(DENSE, "26") == "token"
    rich = [{"8": [["edited"]], "65": [["chip"], "job"]}]
    assert jspb_get(rich, 0, "8", 0, 0) == "edited"
    assert jspb_get(rich, 0, "65", 1) == "job"
    # Field 65 of a message whose only element is its field object.
    assert jspb_get(rich, 64, 1) == "job"


def test_integer_step_on_an_object_reads_field_index_plus_one() -> None:
    assert jspb_get({"26": "token"}, 25) == "token"


def test_absent_paths_give_the_default() -> None:
    assert jspb_get(CONTEXT_FRAME, 30) is None
    assert jspb_get(CONTEXT_FRAME, 0, 1, default="x") == "x"  # through a null
    assert jspb_get(CONTEXT_FRAME, 1, 5, default=7) == 7
    assert jspb_get(CONTEXT_FRAME, -1) is None
    assert jspb_get(CONTEXT_FRAME, "x") is None
    assert jspb_get(CONTEXT_FRAME, "0") is None
    assert jspb_get("text", 0) is None
    assert jspb_get(CONTEXT_FRAME, True) is None
    assert jspb_get(CONTEXT_FRAME) is CONTEXT_FRAME


def test_normalise_expands_the_trailing_object() -> None:
    dense = normalise(CONTEXT_FRAME)
    assert len(dense) == 44
    assert dense[1] == ["c_1", "r_1"]
    assert dense[2] is None
    assert dense[25] == "token" and dense[43] is False
    assert normalise(DENSE) == DENSE


def test_normalise_keeps_dense_values_and_non_field_objects() -> None:
    assert normalise([1, {"1": 5, "3": 9}]) == [1, None, 9]
    mapping = [1, {"name": "value"}]
    assert normalise(mapping) == mapping
    assert normalise([]) == []
