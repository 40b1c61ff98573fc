"""The HTTP API reference, generated from the app's OpenAPI schema.

The gateway serves no schema at run time (``openapi_url=None``); FastAPI builds it all the same
from the routes, as ``tests/service/test_service_schemathesis.py`` does. Building the app starts
nothing (its lifespan does), so the settings here only have to be valid. The ``/gemini_official``
twins of ``/v1`` and ``/admin`` serve the same handlers and are listed once.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from docsite.markdown import plain, sentence
from service.app import create_app
from service.settings import GatewaySettings

__all__ = ["GROUPS", "TWINS", "operations", "render", "schema", "schema_json"]

TWINS = (
    ("/gemini_official/v1/", "/v1/"),
    ("/gemini_official/v1beta/", "/v1beta/"),
    ("/gemini_official/admin/", "/admin/"),
)
# (title, path prefix, what a reader needs to know first); the first prefix that matches wins.
GROUPS = (
    (
        "OpenAI API",
        "/v1/",
        "Bearer API key (`Authorization: Bearer <key>`). The same routes answer under `/gemini_official/v1`.",
    ),
    (
        "Gemini-native API",
        "/v1beta/",
        "API key in `x-goog-api-key` or `?key=` (Google's clients), or `Authorization: Bearer <key>`; "
        "Google's error envelope. The same routes answer under `/gemini_official/v1beta`.",
    ),
    ("Media links", "/media/", "No key: the link's signature is the credential."),
    ("Admin API", "/admin/ui", "The dashboard: a session cookie from `POST /admin/ui/login` (admin key)."),
    ("Admin API", "/admin/", "Bearer admin key. The same routes answer under `/gemini_official/admin`."),
    ("Health and metrics", "/", "`/healthz` and `/readyz` need no key; `/metrics` the admin key."),
)
_METHODS = ("get", "post", "put", "patch", "delete")


def schema() -> dict[str, Any]:
    """The app's OpenAPI document."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = GatewaySettings(
            api_keys=(SecretStr("docs"),), admin_keys=(SecretStr("docs-admin"),), data_dir=Path(tmp)
        )
        document: dict[str, Any] = create_app(settings).openapi()
    return document


def schema_json() -> str:
    """The schema as a file to download beside the page."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) of every route, the ``/gemini_official`` twins left out."""
    paths: dict[str, Any] = document["paths"]
    return [
        (method.upper(), path, operation)
        for path, item in paths.items()
        if not _is_twin(path, paths)
        for method, operation in item.items()
        if method in _METHODS
    ]


def _is_twin(path: str, paths: dict[str, Any]) -> bool:
    return any(path.startswith(twin) and canonical + path[len(twin) :] in paths for twin, canonical in TWINS)


def _group(path: str) -> int:
    return next(index for index, (_, prefix, _) in enumerate(GROUPS) if path.startswith(prefix))


def render(document: dict[str, Any] | None = None) -> str:
    """The API reference page (Markdown)."""
    document = schema() if document is None else document
    out = [
        "# HTTP API reference",
        "",
        "Generated from the app's OpenAPI schema (`service.app.create_app(...).openapi()`) when the",
        "site is built; the schema itself is [openapi.json](openapi.json). The gateway serves no schema",
        "at run time. How to call each route is in the guides; what each error means in",
        "[Errors](errors.md). Request validation failures answer **400** in OpenAI's error shape, not",
        "the 422 that FastAPI declares below.",
        "",
    ]
    listed = sorted(operations(document), key=lambda entry: _group(entry[1]))
    group = -1
    for method, path, operation in listed:
        if _group(path) != group:
            group = _group(path)
            title, _, note = GROUPS[group]
            if group == 0 or GROUPS[group - 1][0] != title:
                out += [f"## {title}", ""]
            out += [f"{note}", ""]
        out += _render_operation(method, path, operation)
    out += ["## Schemas", ""]
    for name, component in document.get("components", {}).get("schemas", {}).items():
        out += [f"### {name} {{#schema-{name.lower()}}}", ""]
        out += _schema_body(component)
    return "\n".join(out) + "\n"


def _render_operation(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    out = [f"### `{method} {path}`", ""]
    summary = operation.get("description") or operation.get("summary") or ""
    if summary:
        out += [plain(sentence(summary)), ""]
    parameters = operation.get("parameters", [])
    if parameters:
        out += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
        for parameter in parameters:
            described = parameter.get("description") or parameter.get("schema", {}).get("description", "")
            out.append(
                f"| `{parameter['name']}` | {parameter['in']} | {_type(parameter.get('schema', {}))} | "
                f"{'yes' if parameter.get('required') else ''} | {plain(described)} |"
            )
        out.append("")
    body = operation.get("requestBody")
    if body:
        out += _render_body(body)
    responses = operation.get("responses", {})
    if responses:
        rows = []
        for status, response in responses.items():
            content = response.get("content", {})
            kinds = ", ".join(
                f"`{media}`" + (f" {_type(item['schema'])}" if item.get("schema") else "")
                for media, item in content.items()
            )
            rows.append(f"| {status} | {plain(response.get('description', ''))} | {kinds} |")
        out += ["| status | meaning | body |", "|---|---|---|", *rows, ""]
    return out


def _render_body(body: dict[str, Any]) -> list[str]:
    out = ["Request body" + (" (required)" if body.get("required") else "") + ":", ""]
    if body.get("description"):
        out += [plain(body["description"]), ""]
    # The image routes declare one body in several media types: shown once, with its types.
    by_schema: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for media, item in body.get("content", {}).items():
        schema_ = item.get("schema", {})
        by_schema.setdefault(json.dumps(schema_, sort_keys=True), (schema_, []))[1].append(f"`{media}`")
    for schema_, media_types in by_schema.values():
        kinds = " or ".join(media_types)
        if "$ref" in schema_ or "properties" not in schema_:
            out += [f"- {kinds}: {_type(schema_)}"]
        else:
            out += [f"- {kinds}:", "", *(f"    {line}" if line else "" for line in _schema_body(schema_))]
    return [*out, ""]


def _schema_body(component: dict[str, Any]) -> list[str]:
    out = []
    if component.get("description"):
        out += [plain(component["description"]), ""]
    properties = component.get("properties", {})
    if not properties:
        return [*out, f"Type: {_type(component)}", ""]
    required = set(component.get("required", []))
    out += ["| field | type | required | default | description |", "|---|---|---|---|---|"]
    for name, field in properties.items():
        default = plain(f"`{json.dumps(field['default'])}`") if "default" in field else ""
        out.append(
            f"| `{name}` | {_type(field)} | {'yes' if name in required else ''} | {default} "
            f"| {plain(field.get('description', ''))} |"
        )
    return [*out, ""]


def _type(node: dict[str, Any]) -> str:
    """A schema node in a few words; components are links to their section."""
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        return f"[{name}](#schema-{name.lower()})"
    for union in ("anyOf", "oneOf"):
        if union in node:
            kinds = [_type(option) for option in node[union] if option.get("type") != "null"]
            return " or ".join(dict.fromkeys(kinds)) or "null"
    if "allOf" in node:
        return " and ".join(_type(part) for part in node["allOf"])
    if "enum" in node:
        return " \\| ".join(f"`{value}`" for value in node["enum"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type")
    if kind == "array":
        return f"list of {_type(node.get('items', {}))}"
    if kind == "object" and isinstance(node.get("additionalProperties"), dict):
        return f"object of {_type(node['additionalProperties'])}"
    if isinstance(kind, list):
        return " or ".join(str(part) for part in kind if part != "null")
    return str(kind or "any")
