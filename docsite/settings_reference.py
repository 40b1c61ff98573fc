"""The configuration reference, generated from the settings models' field descriptions.

Every field of ``GatewaySettings`` and of the models it holds (``accounts[]``, ``browser.*`` from
``browser.PoolSettings`` and its page overrides, ``media.*`` and ``media.s3.*``) gets its name, its
environment variable, its type, its default and its ``Field(description=...)``. A field without a
description is listed by ``undocumented()``, which the build and ``tests/test_docs.py`` refuse.
"""

from __future__ import annotations

import enum
import json
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from browser import PoolSettings
from service.settings import GatewaySettings

__all__ = ["Section", "render", "sections", "undocumented"]

ENV_PREFIX = "GATEWAY_"
ENV_NESTING = "__"
MIB = 1024 * 1024
# A field typed as a plain dict that the gateway validates as a model of its own.
VALIDATED_AS: dict[tuple[type[BaseModel], str], type[BaseModel]] = {
    (GatewaySettings, "browser"): PoolSettings
}
# Fields whose values are durations in seconds, for a readable hint beside large defaults.
_SECONDS_SUFFIXES = ("timeout", "ttl", "interval", "wait", "backoff", "backoff_max", "age", "_default")


@dataclass(frozen=True)
class Section:
    """One settings model as it appears in the configuration: where it sits and its fields."""

    path: str  # "" for the top level, "media.s3", "accounts[]"
    model: type[BaseModel]
    env: str | None  # the environment prefix of its fields, None inside a list
    description: str | None  # the description of the field that holds it


def sections(root: type[BaseModel] = GatewaySettings) -> list[Section]:
    """Every settings model reachable from ``root``, in reading order."""
    return list(_walk(Section("", root, ENV_PREFIX, None)))


def _walk(section: Section) -> Iterator[Section]:
    yield section
    for name, field in section.model.model_fields.items():
        child = _nested_model(section.model, name, field)
        if child is None:
            continue
        is_list = get_origin(_bare(field.annotation)) is tuple
        path = f"{section.path}.{name}" if section.path else name
        env = None if is_list or section.env is None else f"{section.env}{name.upper()}{ENV_NESTING}"
        yield from _walk(Section(path + ("[]" if is_list else ""), child, env, field.description))


def _nested_model(owner: type[BaseModel], name: str, field: FieldInfo) -> type[BaseModel] | None:
    if (owner, name) in VALIDATED_AS:
        return VALIDATED_AS[(owner, name)]
    annotation = _bare(field.annotation)
    candidates = get_args(annotation) if get_origin(annotation) in (tuple, Union, types.UnionType) else ()
    for candidate in (annotation, *candidates):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def undocumented(root: type[BaseModel] = GatewaySettings) -> list[str]:
    """The dotted names of the settings fields that have no description."""
    return [
        _dotted(section, name)
        for section in sections(root)
        for name, field in section.model.model_fields.items()
        if not (field.description or "").strip()
    ]


def _dotted(section: Section, name: str) -> str:
    return f"{section.path}.{name}" if section.path else name


def render() -> str:
    """The configuration reference page (Markdown)."""
    out = [
        "# Configuration reference",
        "",
        "Generated from the settings models (`service/settings.py`, `browser/_settings.py`,",
        "`browser/_overrides.py`, `service/media/config.py`) when the site is built.",
        "",
        "Settings come from, strongest first: the environment (`GATEWAY_` and the name in capitals,",
        "nested names joined with `__`), the config file named by `GATEWAY_CONFIG` (or `serve --config`;",
        "TOML or JSON, nested names as tables), then the defaults below. Lists and tables given in the",
        "environment are JSON (`api_keys` and `admin_keys` also take comma-separated keys). Times are",
        "seconds and sizes bytes. A setting the gateway does not know, or a value it refuses, stops it at",
        "start with the setting named (never its value).",
        "",
    ]
    for section in sections():
        out += _render_section(section)
    return "\n".join(out) + "\n"


def _render_section(section: Section) -> list[str]:
    title = f"`{section.path}` {{#{_anchor(section.path)}}}" if section.path else "Gateway"
    out = [f"## {title}", ""]
    if section.description:
        out += [section.description, ""]
    if section.path.endswith("[]"):
        out += [f"Each entry of the list `{section.path[:-2]}` (in the environment: one JSON list).", ""]
    for name, field in section.model.model_fields.items():
        dotted = _dotted(section, name)
        if _nested_model(section.model, name, field) is not None:
            continue  # a section of its own, below
        facts = [f"`{section.env}{name.upper()}`"] if section.env else []
        facts += [_type_text(field.annotation), f"default {_default_text(name, field)}"]
        out += [
            f"### `{dotted}` {{#{_anchor(dotted)}}}",
            "",
            " · ".join(facts),
            "",
            (field.description or "").strip() or "*(no description)*",
            "",
        ]
    return out


def _anchor(dotted: str) -> str:
    return dotted.replace("[]", "").replace(".", "-").replace("_", "-")


def _bare(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


_SCALARS: dict[Any, str] = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "text",
    Path: "path",
    SecretStr: "secret text",
    Any: "any",
}


def _type_text(annotation: Any) -> str:
    annotation = _bare(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if origin in (Union, types.UnionType):
        return " or ".join(_type_text(arg) for arg in args if arg is not type(None))
    if origin is Literal:
        return " \\| ".join(f"`{value}`" for value in args)
    if origin is tuple:
        return f"list of {_type_text(args[0])}" if args else "list"
    if origin is dict:
        return f"table of {_type_text(args[0])} to {_type_text(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return f"`{annotation}`"


def _default_text(name: str, field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "none (required)"
    else:
        value = field.default
    if value is None:
        return "unset"
    text = f"`{json.dumps(_plain(value), ensure_ascii=False)}`"
    return text + _hint(name, value)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(_plain(key)): _plain(item) for key, item in value.items()}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_defaults=True)
    return value


def _hint(name: str, value: Any) -> str:
    """A readable size or duration beside a large number (bytes in MiB, seconds in hours or days)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    if name.endswith("bytes") and value >= MIB and value % MIB == 0:
        return f" ({int(value // MIB)} MiB)"
    if name.endswith(_SECONDS_SUFFIXES) and value >= 3600:
        days, hours = divmod(value / 3600, 24)
        return f" ({days:g} days)" if days and not hours else f" ({value / 3600:g} h)"
    return ""
