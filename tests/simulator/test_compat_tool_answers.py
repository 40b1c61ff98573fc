"""The simulator's deterministic tool-call and JSON answers (simulator/tool_answers.py), read back
with the gateway's own parser so the two sides agree on the format."""

from __future__ import annotations

import json

from service.chat.compat_wire import FunctionSpec
from service.chat.tools import loads_tolerant, parse_calls
from simulator.answers import compose
from simulator.lineup import FLASH_HEX
from simulator.models import ServedModel
from simulator.tool_answers import tool_or_json_answer, value_for

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "unit": {"enum": ["C", "F"]}}}
TOOLS = f"- get_weather: Weather\n  parameters: {json.dumps(SCHEMA)}\n\n- get_time\n  parameters: {{}}"
SPECS = {
    "get_weather": FunctionSpec(name="get_weather", parameters=SCHEMA),
    "get_time": FunctionSpec(name="get_time"),
}


def test_a_tool_prompt_gets_a_call_to_the_first_tool() -> None:
    answer = tool_or_json_answer(f"{TOOLS}\n\nweather?", [])
    assert answer is not None
    (call,) = parse_calls(answer, SPECS).calls
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {
        "city": "sim-city",
        "unit": "C",
    }


def test_forced_and_every_tool() -> None:
    forced = tool_or_json_answer(f"{TOOLS}\n\nYou must call the tool get_time now", []) or ""
    assert [c.function.name for c in parse_calls(forced, SPECS).calls] == ["get_time"]
    every = tool_or_json_answer(f"{TOOLS}\n\ncall-every-tool", []) or ""
    assert [c.function.name for c in parse_calls(every, SPECS).calls] == ["get_weather", "get_time"]


def test_malformed_first_then_valid_on_the_retry_in_the_same_chat() -> None:
    first_prompt = f"{TOOLS}\n\nmalformed-first"
    broken = parse_calls(tool_or_json_answer(first_prompt, []) or "", SPECS)
    assert broken.calls == [] and broken.problems
    retry = "Your previous answer did not hold a valid tool call: ..."
    fixed = parse_calls(tool_or_json_answer(retry, [first_prompt]) or "", SPECS)
    assert len(fixed.calls) == 1 and fixed.problems == []


def test_tool_results_get_a_plain_answer() -> None:
    answer = tool_or_json_answer(f"{TOOLS}\n\n[Tool result] get_weather (call call_1):\n21 C\nmore", [])
    assert answer == "Thanks, I used the tool results: get_weather returned 21 C."


def test_json_request_with_schema_and_invalid_first() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "n": {"type": "integer"}}}
    ask = (
        f"Answer with one JSON document (x) that validates against this JSON Schema: {json.dumps(schema)}. "
        "Write it inside a single ```json code block and nothing else."
    )
    assert loads_tolerant((tool_or_json_answer(ask, []) or "").split("```json")[1]) == {
        "name": "sim-name",
        "n": 1,
    }
    bad = tool_or_json_answer(ask + " invalid-json-first", []) or ""
    assert loads_tolerant(bad.split("```json")[1]) == {"n": 1, "unexpected": True}


def test_ordinary_prompts_are_untouched() -> None:
    assert tool_or_json_answer("Hello there", ["earlier"]) is None
    model = ServedModel("flash", FLASH_HEX, "3.8 Flash", 1, 1)
    answer = compose(
        turn=1,
        cid="c_x",
        prompt="Hello",
        earlier_prompts=[],
        files=[],
        model=model,
        tool=None,
        gem=None,
        signed_in=True,
    )
    assert answer.text.startswith("Turn 1 of chat c_x.")


def test_values_follow_pydantic_refs() -> None:
    schema = {
        "$defs": {"Unit": {"enum": ["K"]}},
        "properties": {
            "u": {"$ref": "#/$defs/Unit"},
            "x": {"anyOf": [{"type": "null"}, {"type": "boolean"}]},
        },
    }
    assert value_for(schema) == {"u": "K", "x": True}
