"""Safe access to JSPB (protobuf-as-JSON) arrays in their dense and object forms (protocol.md §4.1).

A message is a list whose index ``k`` holds field ``k + 1``. Trailing high fields are often packed
into a final object keyed by the 1-based field number, so ``[null, x, {"26": t}]`` holds ``t`` at
index 25. Both forms occur in real traffic, sometimes in consecutive frames of one answer, so
every lookup here accepts either.
"""

from __future__ import annotations

from typing import Any

__all__ = ["jspb_get", "normalise"]

_MISSING = object()


def _field_key(key: str) -> int | None:
    return int(key) if key.isdecimal() else None


def _is_field_object(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and k.isdecimal() for k in value)


def _from_list(items: list[Any], index: int) -> Any:
    if 0 <= index < len(items):
        return items[index]
    if index >= 0 and items and _is_field_object(items[-1]):
        return items[-1].get(str(index + 1), _MISSING)
    return _MISSING


def _step(obj: Any, key: int | str) -> Any:
    if isinstance(obj, list):
        if isinstance(key, int):
            return _from_list(obj, key)
        field = _field_key(key)
        if field is None or field < 1:
            return _MISSING
        # A field-number key names index field-1, which the trailing object may hold instead.
        if obj and isinstance(obj[-1], dict) and key in obj[-1]:
            return obj[-1][key]
        return _from_list(obj, field - 1)
    if isinstance(obj, dict):
        name = str(key + 1) if isinstance(key, int) else key
        return obj.get(name, _MISSING)
    return _MISSING


def jspb_get(obj: Any, *path: int | str, default: Any = None) -> Any:
    """The value at ``path`` inside ``obj``, or ``default`` when any step is absent.

    Integer steps are list indexes (0-based); past the dense part they fall through to the trailing
    field object (key ``index + 1``). String steps are field numbers (1-based) looked up in an object,
    or in a list's trailing object, or at dense index ``number - 1``. An integer step on an object
    reads key ``index + 1``. A ``null`` found on the way counts as absent.
    """
    current = obj
    for key in path:
        if isinstance(key, bool):
            return default
        current = _step(current, key)
        if current is _MISSING or current is None:
            return default
    return current


def normalise(items: list[Any]) -> list[Any]:
    """A copy of ``items`` with a trailing field object expanded into dense positions.

    Only the top level is expanded; nested messages are reached through ``jspb_get``. A dense value
    already present at a position wins over the object's entry for the same field.
    """
    if not items or not _is_field_object(items[-1]):
        return list(items)
    fields: dict[str, Any] = items[-1]
    dense = list(items[:-1])
    size = max([len(dense), *(int(k) for k in fields)])
    dense.extend([None] * (size - len(dense)))
    for key, value in fields.items():
        index = int(key) - 1
        if index >= 0 and dense[index] is None:
            dense[index] = value
    return dense
