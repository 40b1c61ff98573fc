"""Deterministic answers for prompts that ask for a tool call or a JSON document, so the gateway's
whole emulation path (service/chat/tools.py, structured.py) runs against the simulator.

The rules read the prompt as a model would (docs/simulator-contract.md "Tool calls and JSON"):

- A prompt (or an earlier prompt of the chat) listing tools as ``- <name>[: description]`` with a
  ``  parameters: <JSON Schema>`` line, and no ``[Tool result]`` in the prompt itself: the answer is a
  ``tool_call`` block calling the named tool ("You must call the tool X") or the first tool, with
  arguments built from the schema (strings ``sim-<property>``, numbers 1, booleans true, the first
  enum value). With ``MALFORMED_KEYWORD`` in the chat's first prompt, the first answer is a block
  whose JSON is broken; the gateway's retry ("did not hold a valid tool call") gets a valid one.
  With ``ESCAPED_KEYWORD`` the block is written markdown-escaped (``tool\\_call``, ``get\\_weather``).
  With ``PARALLEL_KEYWORD`` every tool is called, one block each.
- A prompt asking for a JSON document (``inside a single ```json code block``), optionally with
  ``validates against this JSON Schema: <schema>``: a ``json`` block with a document built from the
  schema (``{"answer": ...}`` without one), preceded by a short sentence. With ``INVALID_JSON_KEYWORD``
  in the chat's first prompt the first answer's JSON misses a required property; the retry
  ("was not a valid JSON document") gets a valid one.
- A prompt holding ``[Tool result]`` blocks: a plain sentence quoting each result's first line.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "ESCAPED_KEYWORD",
    "INVALID_JSON_KEYWORD",
    "MALFORMED_KEYWORD",
    "PARALLEL_KEYWORD",
    "tool_or_json_answer",
    "value_for",
]

MALFORMED_KEYWORD = "malformed-first"
INVALID_JSON_KEYWORD = "invalid-json-first"
ESCAPED_KEYWORD = "escaped-call"
PARALLEL_KEYWORD = "call-every-tool"

_TOOL_LINE = re.compile(r"^- (?P<name>[A-Za-z0-9_.:-]+)(?::[^\n]*)?\n  parameters: (?P<schema>\{.*\})$", re.M)
_FORCED = re.compile(r"You must call the tool (?P<name>[A-Za-z0-9_.:-]+) now")
_JSON_ASK = "inside a single ```json code block"
_SCHEMA = re.compile(r"validates against this JSON Schema: (?P<schema>\{.*\})\. Write it inside", re.S)
_TOOL_RESULT = re.compile(r"^\[Tool result\] (?P<name>\S+)[^\n]*:\n(?P<first>[^\n]*)", re.M)
_TOOL_RETRY = "did not hold a valid tool call"
_JSON_RETRY = "was not a valid JSON document"


def tool_or_json_answer(prompt: str, earlier_prompts: list[str]) -> str | None:
    """The scripted answer for ``prompt`` in a chat whose earlier prompts are ``earlier_prompts``,
    or None when the prompt asks for neither a tool call nor JSON."""
    first = earlier_prompts[0] if earlier_prompts else prompt
    results = _TOOL_RESULT.findall(prompt)
    if results:
        quoted = "; ".join(f"{name} returned {line.strip()[:80]}" for name, line in results)
        return f"Thanks, I used the tool results: {quoted}."
    if _TOOL_RETRY in prompt or _TOOL_LINE.search(prompt):
        source = next(
            (text for text in [prompt, *reversed(earlier_prompts)] if _TOOL_LINE.search(text)), None
        )
        if source is not None:
            broken = MALFORMED_KEYWORD in first and _TOOL_RETRY not in prompt
            return _calls(
                source, broken=broken, escaped=ESCAPED_KEYWORD in first, every=PARALLEL_KEYWORD in first
            )
    if _JSON_RETRY in prompt or _JSON_ASK in prompt:
        source = next((text for text in [prompt, *reversed(earlier_prompts)] if _JSON_ASK in text), prompt)
        invalid = INVALID_JSON_KEYWORD in first and _JSON_RETRY not in prompt
        return _document(source, invalid=invalid)
    return None


def _calls(source: str, *, broken: bool, escaped: bool, every: bool) -> str:
    tools = {match["name"]: json.loads(match["schema"]) for match in _TOOL_LINE.finditer(source)}
    forced = _FORCED.search(source)
    names = (
        [forced["name"]] if forced and forced["name"] in tools else list(tools)[: len(tools) if every else 1]
    )
    blocks = []
    for name in names:
        body = json.dumps({"name": name, "arguments": value_for(tools[name])}, ensure_ascii=False)
        if broken:
            body = body[:-2] + ",,}"  # not JSON, and not repairable by closing brackets
        fence, shown = ("tool\\_call", name.replace("_", "\\_")) if escaped else ("tool_call", name)
        body = body.replace(json.dumps(name), '"' + shown + '"', 1)
        blocks.append(f"```{fence}\n{body}\n```")
    return f"I will call {', '.join(names)}.\n\n" + "\n\n".join(blocks)


def _document(source: str, *, invalid: bool) -> str:
    match = _SCHEMA.search(source)
    schema: dict[str, Any] | None = json.loads(match["schema"]) if match else None
    value = value_for(schema) if schema is not None else {"answer": "sim-answer"}
    if invalid and isinstance(value, dict) and value:
        value.pop(next(iter(value)))  # the first (required) property goes missing
        value["unexpected"] = True
    return (
        "Here is the JSON you asked for.\n\n```json\n"
        + json.dumps(value, ensure_ascii=False, indent=2)
        + "\n```"
    )


def value_for(schema: Any, name: str = "value") -> Any:
    """A value valid against the simple JSON Schemas clients send (objects, arrays, scalars,
    enums, anyOf/$defs as pydantic writes them)."""
    if not isinstance(schema, dict):
        return f"sim-{name}"
    return _value(schema, name, schema.get("$defs") or schema.get("definitions") or {})


def _value(schema: dict[str, Any], name: str, defs: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _value(defs.get(str(schema["$ref"]).rsplit("/", 1)[-1], {}), name, defs)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            options = [o for o in schema[key] if isinstance(o, dict) and o.get("type") != "null"]
            return _value(options[0] if options else schema[key][0], name, defs)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema or not schema:  # {} accepts anything; {} is a value
        properties: dict[str, Any] = schema.get("properties") or {}
        return {key: _value(sub, key, defs) for key, sub in properties.items()}
    if kind == "array":
        return [_value(schema.get("items") or {}, name, defs)]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return float(max(1, schema.get("minimum", 1)))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return f"sim-{name}"
