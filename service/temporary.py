"""Temporary chats as a request option: whether a request asked for one, and what that rules out.

A request asks with the body field ``temporary`` (what the OpenAI SDKs send as ``extra_body``),
with ``metadata.temporary`` (OpenAI's metadata values are strings: ``"true"``/``"false"``), or
with the header ``X-Gateway-Temporary`` for clients that cannot add fields; the setting
``temporary_chats_by_default`` decides when none is given. Booleans and the strings ``"true"`` and
``"false"`` (any case) are accepted; anything else, or two ways that disagree, is a 400.

A temporary chat runs in Gemini's own temporary mode (``browser.TurnRequest.temporary``): it is
never continued (no conversation mapping is kept, each turn resends the history) and nothing of it
is stored (docs/guides/temporary-chats.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.errors import InvalidRequest

__all__ = ["FIELD", "HEADER", "asked", "flag"]

FIELD = "temporary"
HEADER = "X-Gateway-Temporary"


def flag(value: object, *, param: str) -> bool | None:
    """``value`` as a yes/no (None when absent); a 400 naming ``param`` for anything else."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidRequest(f'{param} must be true or false (or the strings "true" and "false").', param=param)


def asked(*, field: object, metadata: Mapping[str, Any] | None, header: str | None) -> bool | None:
    """What the request says (None: nothing; the setting's default applies then,
    ``service.chat.serving.ServingOptions.temporary``)."""
    said = {
        value
        for value in (
            flag(field, param=FIELD),
            flag((metadata or {}).get(FIELD), param=f"metadata.{FIELD}"),
            flag(header, param=HEADER),
        )
        if value is not None
    }
    if len(said) > 1:
        raise InvalidRequest(
            f"The request says both temporary and not temporary ({FIELD}, metadata.{FIELD}, {HEADER}).",
            param=FIELD,
        )
    return said.pop() if said else None
