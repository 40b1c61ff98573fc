"""The ``otAQ7b`` answer: the account's status, the models it may use, and its tier and capability flags.

The page asks for it alone (payload ``[]``) on every load and builds its mode picker from it
(docs/architecture/evidence.md#g1). The payload is a dense JSPB list (G2–G6; the later gemini_webapi
``AvailableModel.from_rpc`` and a real-shaped entry of the AUTO source, docs/architecture/evidence.md#g4):

- ``[14]`` the status code (1000 available, 1016 …); missing or null reads as available (G3, GA);
- ``[15]`` the models in picker order, each ``[hex, name, description, [capabilities…], …,
  [10] category name, [11] versioned label, [12] description, …, [17] mode number, …]``;
- ``[16]`` tier flags and ``[17]`` account capability flags (sets of ints, not codes).

Nothing in it names the tools: those come from the page's own tools menu (G6).
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
    "capacity_of",
    "decode_account_status",
]

ACCOUNT_STATUS_RPC = "otAQ7b"
# Account status codes at [14] (protocol.md §9.2).
STATUS_AVAILABLE = 1000
STATUS_UNAUTHENTICATED = 1016
STATUS_TERMS_PENDING = 1040
STATUS_TERMS_OUTDATED = 1042
STATUS_LOCATION_UNSUPPORTED = 1060

_STATUS, _MODELS, _TIER_FLAGS, _CAPABILITY_FLAGS = 14, 15, 16, 17
# Inside a model entry (GAF ``from_rpc``): the category name at [1] (else [10]), the label the
# picker shows at [11] (else [19], else [1]), the description at [12] (else [2]), the mode number
# at [17] (else [9]); [3] is a list of per-model capability ints.
_NAME, _DESCRIPTION, _CAPABILITIES, _CATEGORY_NAME, _DISPLAY, _DESCRIPTION_LONG = 1, 2, 3, 10, 11, 12
_MODE_NUMBER, _MODE_NUMBER_OLD, _DISPLAY_OLD = 17, 9, 19


@dataclass(frozen=True)
class OfferedModel:
    """One model of the account's picker, as the answer lists it: ``name`` is the short category
    name ("Flash"), ``label`` the versioned one the picker shows ("3.8 Flash")."""

    hex: str
    name: str
    label: str
    description: str
    mode_number: int | None
    capabilities: tuple[int, ...] = ()


@dataclass(frozen=True)
class AccountStatusAnswer:
    """The decoded answer."""

    status_code: int
    models: tuple[OfferedModel, ...]
    tier_flags: tuple[int, ...]
    capability_flags: tuple[int, ...]

    @property
    def capacity(self) -> int:
        return capacity_of(self.tier_flags, self.capability_flags)


def capacity_of(tier_flags: tuple[int, ...], capability_flags: tuple[int, ...]) -> int:
    """The account's model capacity as gemini_webapi derives it from the flags (G5, G6): 4 Plus
    (capability 115), 3 (tier 16 or capability 106), 2 (tier 8 or capability 19; tier 22), else 1,
    the free tier's (tier 21 included)."""
    if 22 in tier_flags:
        return 2
    if 21 in tier_flags:
        return 1
    if 115 in capability_flags:
        return 4
    if 16 in tier_flags or 106 in capability_flags:
        return 3
    if 8 in tier_flags or 19 in capability_flags:
        return 2
    return 1


def decode_account_status(payload: Any) -> AccountStatusAnswer:
    """Read an ``otAQ7b`` payload (dense or with a ``{"15": ...}`` tail); ``ProtocolError`` when a
    field has the wrong shape."""
    if not isinstance(payload, list):
        raise ProtocolError(f"otAQ7b payload is a JSON {type(payload).__name__}, not a list")
    dense = normalise(payload)
    status = _field(dense, _STATUS)
    if status is None:
        status = STATUS_AVAILABLE
    elif not _is_int(status):
        raise ProtocolError("otAQ7b [14] is not an account status code")
    return AccountStatusAnswer(
        status_code=status,
        models=tuple(_model(entry) for entry in _list(dense, _MODELS)),
        tier_flags=_flags(dense, _TIER_FLAGS),
        capability_flags=_flags(dense, _CAPABILITY_FLAGS),
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


def _flags(dense: list[Any], index: int) -> tuple[int, ...]:
    return tuple(flag for flag in _list(dense, index) if _is_int(flag))


def _text(entry: list[Any], *indices: int) -> str:
    for index in indices:
        value = entry[index] if index < len(entry) else None
        if isinstance(value, str) and value:
            return value
    return ""


def _model(entry: Any) -> OfferedModel:
    if not isinstance(entry, list) or not entry:
        raise ProtocolError("otAQ7b model entry is not a list")
    entry = normalise(entry)
    hex_id = entry[0]
    if not isinstance(hex_id, str) or not hex_id:
        raise ProtocolError("otAQ7b model entry lacks its hex id")
    name = _text(entry, _NAME, _CATEGORY_NAME)
    label = _text(entry, _DISPLAY, _DISPLAY_OLD, _NAME, _CATEGORY_NAME) or hex_id
    number = next(
        (entry[i] for i in (_MODE_NUMBER, _MODE_NUMBER_OLD) if i < len(entry) and _is_int(entry[i])), None
    )
    raw = entry[_CAPABILITIES] if len(entry) > _CAPABILITIES else None
    capabilities = tuple(v for v in raw if _is_int(v)) if isinstance(raw, list) else ()
    return OfferedModel(
        hex=hex_id,
        name=name,
        label=label,
        description=_text(entry, _DESCRIPTION_LONG, _DESCRIPTION),
        mode_number=number,
        capabilities=capabilities,
    )
