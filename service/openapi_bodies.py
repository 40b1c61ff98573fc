"""OpenAPI request bodies for the routes that read their own body (the Images API, ``POST /videos``).

FastAPI documents a request body only when a handler takes it as a typed parameter. These handlers
read JSON or multipart themselves (one reader for both shapes), so the schema would say nothing about
them. Each route family declares its bodies as data with these helpers (``service.images.bodies``,
``service.videos.router``), built from the models and constants its handler validates with, and
passes them to the route decorator's ``openapi_extra``. The ``/gemini_official/v1`` aliases include
the same routers, so one declaration covers both prefixes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from service.catalog import CATALOG, OutputKind

__all__ = [
    "FILE",
    "FORM",
    "JSON",
    "MULTIPART",
    "NON_BLANK",
    "Schema",
    "catalog_models",
    "form_fields",
    "model_schema",
    "refine",
    "request_body",
]

Schema = dict[str, Any]

JSON = "application/json"
MULTIPART = "multipart/form-data"
FORM = "application/x-www-form-urlencoded"
FILE: Schema = {"type": "string", "format": "binary"}
# The handlers strip the prompt and refuse it when nothing is left.
NON_BLANK = r"\S"


def request_body(
    content: Mapping[str, Schema], *, description: str, examples: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``openapi_extra`` for a route: a required body in each media type of ``content``; ``examples``
    (one value per media type) are what schemathesis' examples phase sends first."""
    media: dict[str, Any] = {}
    for kind, schema in content.items():
        media[kind] = {"schema": schema}
        if examples is not None and kind in examples:
            media[kind]["example"] = examples[kind]
    return {"requestBody": {"required": True, "description": description, "content": media}}


def catalog_models(output: OutputKind) -> Schema:
    """The keywords of a ``model`` field: the catalog's models that answer with ``output``, as
    ``Catalog.find`` reads a name."""
    return {
        "enum": [spec.name for spec in CATALOG if spec.output is output],
        "description": f"A model of the catalog that makes {output.value} "
        "(case-insensitive, a `models/` prefix allowed).",
    }


def model_schema(model: type[BaseModel]) -> Schema:
    """The model's JSON schema with its ``$defs`` inlined: inside an OpenAPI document ``#/$defs/...``
    would resolve against the document's root, where they are not."""
    schema = model.model_json_schema()
    definitions: dict[str, Schema] = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(copy.deepcopy(definitions[ref.removeprefix("#/$defs/")]))
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    result: Schema = inline(schema)
    return result


def refine(field: Schema, **keywords: Any) -> Schema:
    """``field`` with ``keywords`` added to its non-null form (a nullable field is an ``anyOf``)."""
    variants = field.get("anyOf")
    if variants is None:
        return {**field, **keywords}
    refined = [variant if variant.get("type") == "null" else {**variant, **keywords} for variant in variants]
    return {**field, "anyOf": refined}


def form_fields(schema: Schema) -> Schema:
    """An object schema as form fields: a form part is always text, so no field can be null."""
    properties = {name: _not_null(field) for name, field in schema["properties"].items()}
    return {**schema, "properties": properties}


def _not_null(field: Schema) -> Schema:
    variants = [variant for variant in field.get("anyOf", ()) if variant.get("type") != "null"]
    if not variants:
        return field
    rest = {key: value for key, value in field.items() if key != "anyOf"}
    if rest.get("default", 0) is None:
        del rest["default"]
    if len(variants) == 1:
        return {**rest, **variants[0]}
    return {**rest, "anyOf": variants}
