"""The ``otAQ7b`` answer: the account's status, the models it may use, its tier and its tools.

The page asks for it alone (payload ``[]``) on every load and builds its mode picker and tools menu
from it (research/protocol.md §8, §9.2). The payload is a dense JSPB list: ``[14]`` the status code,
``[15]`` the models in picker order as ``[hex, label, description, mode_category, thinking_level]``,
``[16]`` tier flags ``[tier_code]``, ``[17]`` the tool codes (request ``inner[49]``) it may use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from browser.errors import ProtocolError
from browser.protocol._jspb import normalise

__all__ = [
    "ACCOUNT_STATUS_RPC",
    "STATUS_AVAILABLE",
    "STATUS_LOCATION_UNSUPPORTED",
    "STATUS_TERMS_OUTDATED",
    "STATUS_TERMS_PENDING",
    "STATUS_UNAUTHENTICATED",
    "AccountStatusAnswer",
    "OfferedModel",
    "decode_account_status",
]

ACCOUNT_STATUS_RPC = "otAQ7b"
# Account status codes at [14] (protocol.md §9.2).
STATUS_AVAILABLE = 1000
STATUS_UNAUTHENTICATED = 1016
STATUS_TERMS_PENDING = 1040
STATUS_TERMS_OUTDATED = 1042
STATUS_LOCATION_UNSUPPORTED = 1060

_STATUS, _MODELS, _TIER, _TOOLS = 14, 15, 16, 17


@dataclass(frozen=True)
class OfferedModel:
    """One model of the account's picker, as the answer lists it."""

    hex: str
    label: str
    description: str
    category: int | None
    thinking_level: int | None


@dataclass(frozen=True)
class AccountStatusAnswer:
    """The decoded answer; ``tier_code`` is 1 (free) or 2 (paid) when given."""

    status_code: int
    models: tuple[OfferedModel, ...]
    tier_code: int | None
    tool_codes: tuple[int, ...]


def decode_account_status(payload: Any) -> AccountStatusAnswer:
    """Read an ``otAQ7b`` payload (dense or with a ``{"15": ...}`` tail); ``ProtocolError`` when the
    status code is missing or a field has the wrong shape."""
    if not isinstance(payload, list):
        raise ProtocolError(f"otAQ7b payload is a JSON {type(payload).__name__}, not a list")
    dense = normalise(payload)
    status = _field(dense, _STATUS)
    if not _is_int(status):
        raise ProtocolError("otAQ7b payload has no account status code at [14]")
    return AccountStatusAnswer(
        status_code=status,
        models=tuple(_model(entry) for entry in _list(dense, _MODELS)),
        tier_code=_tier(_list(dense, _TIER)),
        tool_codes=tuple(_tool(code) for code in _list(dense, _TOOLS)),
    )


def _field(dense: list[Any], index: int) -> Any:
    return dense[index] if index < len(dense) else None


def _list(dense: list[Any], index: int) -> list[Any]:
    value = _field(dense, index)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProtocolError(f"otAQ7b [{index}] is a JSON {type(value).__name__}, not a list")
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _model(entry: Any) -> OfferedModel:
    if not isinstance(entry, list) or len(entry) < 2:
        raise ProtocolError("otAQ7b model entry is not a [hex, label, ...] list")
    hex_id, label = entry[0], entry[1]
    if not isinstance(hex_id, str) or not isinstance(label, str):
        raise ProtocolError("otAQ7b model entry lacks its hex or label")
    description = entry[2] if len(entry) > 2 and isinstance(entry[2], str) else ""
    category = entry[3] if len(entry) > 3 and _is_int(entry[3]) else None
    thinking = entry[4] if len(entry) > 4 and _is_int(entry[4]) else None
    return OfferedModel(hex_id, label, description, category, thinking)


def _tier(flags: list[Any]) -> int | None:
    if not flags:
        return None
    if not _is_int(flags[0]):
        raise ProtocolError("otAQ7b tier flags [16] do not start with a tier code")
    code: int = flags[0]
    return code


def _tool(code: Any) -> int:
    if not _is_int(code):
        raise ProtocolError("otAQ7b tool codes [17] hold a non-integer")
    value: int = code
    return value
