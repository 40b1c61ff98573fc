"""Structured output emulated through the prompt (``response_format`` ``json_object`` and
``json_schema``): the instruction asks for one JSON document in a ```` ```json ```` block; the
document is extracted tolerantly (``service.chat.tools.loads_tolerant``) and validated with
``jsonschema``. A failure is reported back to Gemini once in the same chat (``retry_prompt``)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from service.chat.compat_wire import ResponseFormat
from service.chat.tools import loads_tolerant
from service.errors import InvalidRequest

__all__ = ["JsonMode", "JsonResult", "json_mode"]

_FENCE = re.compile(r"```[ \t]*(?:json)?[^\n]*\n(.*?)(?:```|\Z)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class JsonResult:
    document: str | None  # the valid JSON, re-serialised; None when there is none
    problems: tuple[str, ...]


@dataclass(frozen=True)
class JsonMode:
    name: str
    schema: dict[str, Any] | None  # None: any JSON object (``json_object``)

    def instructions(self) -> str:
        if self.schema is None:
            shape = "one JSON object"
        else:
            schema = json.dumps(self.schema, ensure_ascii=False)
            shape = f"one JSON document ({self.name}) that validates against this JSON Schema: {schema}"
        return (
            f"Answer with {shape}. Write it inside a single ```json code block and write nothing "
            "outside the block: no explanation, no comments in the JSON."
        )

    def read(self, text: str) -> JsonResult:
        value = _extract(text)
        if value is None:
            return JsonResult(None, ("the answer holds no JSON document",))
        if self.schema is None:
            if not isinstance(value, dict):
                return JsonResult(None, ("the JSON document is not an object",))
        else:
            errors = sorted(Draft202012Validator(self.schema).iter_errors(value), key=lambda e: list(e.path))
            if errors:
                problems = tuple(
                    f"{'/'.join(str(p) for p in error.path) or '(root)'}: {error.message}"
                    for error in errors[:5]
                )
                return JsonResult(None, problems)
        return JsonResult(json.dumps(value, ensure_ascii=False), ())

    def retry_prompt(self, problems: Sequence[str]) -> str:
        listed = "\n".join(f"- {problem}" for problem in problems)
        return (
            f"Your previous answer was not a valid JSON document for the request:\n{listed}\n\n"
            f"Answer again. {self.instructions()}"
        )


def json_mode(response_format: ResponseFormat | None) -> JsonMode | None:
    """The request's structured-output mode, or None for plain text."""
    if response_format is None or response_format.type == "text":
        return None
    if response_format.type == "json_object":
        return JsonMode(name="response", schema=None)
    spec = response_format.json_schema
    if spec is None or spec.schema_ is None:
        raise InvalidRequest("response_format json_schema needs json_schema.schema.", param="response_format")
    try:
        Draft202012Validator.check_schema(spec.schema_)
    except SchemaError as exc:
        raise InvalidRequest(
            f"response_format.json_schema.schema is not a valid JSON Schema: {exc.message}",
            param="response_format",
        ) from None
    return JsonMode(name=spec.name, schema=spec.schema_)


def _extract(text: str) -> Any:
    for match in _FENCE.finditer(text):
        value = loads_tolerant(match.group(1))
        if value is not None:
            return value
    return loads_tolerant(text)
