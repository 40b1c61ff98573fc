"""Parse and validate a StreamGenerate request the way the real server does (protocol.md §3, §9.3).

Wrong shapes are rejected with HTTP 400; a signed-in account with a missing or stale ``at`` gets the
400 ``er`` body naming ``xsrf``; signed-out visitors need no ``at``. A prompt longer than
``max_request_bytes`` UTF-8 bytes is cut from the end silently (Google truncates over-long requests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from simulator.accounts import Account
from simulator.encoder import GUARD, dumps

MODEL_HEADER = "x-goog-ext-525001261-jspb"
UUID_HEADER = "x-goog-ext-525005358-jspb"
TEMPORARY_CHAT = 1  # inner[45]


class RequestRejected(Exception):
    """The request must be answered with an HTTP error and this body."""

    def __init__(self, status: int, body: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.body = body
        self.reason = reason


@dataclass(frozen=True)
class FileRef:
    ref: str
    kind: int
    mime: str
    name: str


@dataclass(frozen=True)
class ModeHeader:
    hex: str
    category: int | None
    thinking: int | None
    # [16]: a UUID the page makes once per load (protocol.md F6, a HAR of the real page): it tells
    # one loaded page (so one browser) from another on the same account.
    client_uuid: str | None = None


@dataclass(frozen=True)
class GenerateRequest:
    """Everything the simulator reads from one StreamGenerate call."""

    prompt: str
    prompt_truncated: bool
    lang: str
    files: list[FileRef]
    cid: str
    rid: str
    rcid: str
    context_token: str
    turn_index: int | None
    gem: str | None
    tool: int | None
    request_uuid: str | None
    mode: ModeHeader | None
    inner_mode_category: int | None
    inner_thinking: int | None
    # inner[45] = 1: a temporary chat, kept out of the history (protocol.md inner[45]: GA 2026-03, W2A).
    temporary: bool = False


def error_body(token: str | None = None) -> str:
    """The ``er`` body of a 400; with ``token`` it is the xsrf form (protocol.md §4)."""
    details: list[object] = [{"48448350": ["xsrf", token]}] if token is not None else []
    return GUARD + dumps([["er", None, None, None, None, 400, None, None, None, 3, None, details]]) + "\n"


def _reject(reason: str) -> RequestRejected:
    return RequestRejected(400, error_body(), reason)


def check_xsrf(account: Account, at: str | None) -> None:
    """Signed-in accounts must send back the page's ``SNlM0e``; signed-out ones send none."""
    if account.signed_in and at != account.xsrf_token:
        raise RequestRejected(400, error_body(account.xsrf_token), "missing or stale at")


def parse_generate(form_freq: str | None, headers: dict[str, str], max_bytes: int) -> GenerateRequest:
    """Decode ``f.req`` (double-encoded) and the model headers; raise RequestRejected on bad shapes."""
    if not form_freq:
        raise _reject("no f.req")
    inner = _inner(form_freq)
    message = _index(inner, 0)
    if not isinstance(message, list) or not message or not isinstance(message[0], str):
        raise _reject("inner[0] is not [prompt, ...]")
    prompt, truncated = _truncate(message[0], max_bytes)
    meta = _index(inner, 2)
    meta_list: list[Any] = meta if isinstance(meta, list) else []
    return GenerateRequest(
        prompt=prompt,
        prompt_truncated=truncated,
        lang=_lang(_index(inner, 1)),
        files=_files(message[3] if len(message) > 3 else None),
        cid=_str_at(meta_list, 0),
        rid=_str_at(meta_list, 1),
        rcid=_str_at(meta_list, 2),
        context_token=_str_at(meta_list, 9),
        turn_index=_turn_index(_index(inner, 17)),
        gem=_opt_str(_index(inner, 19)),
        tool=_opt_int(_index(inner, 49)),
        request_uuid=_opt_str(_index(inner, 59)),
        mode=_mode_header(headers.get(MODEL_HEADER)),
        inner_mode_category=_opt_int(_index(inner, 79)),
        inner_thinking=_opt_int(_index(inner, 80)),
        temporary=_opt_int(_index(inner, 45)) == TEMPORARY_CHAT,
    )


def _inner(form_freq: str) -> list[Any]:
    try:
        outer = json.loads(form_freq)
    except ValueError as exc:
        raise _reject("f.req is not JSON") from exc
    if not isinstance(outer, list) or len(outer) < 2 or not isinstance(outer[1], str):
        raise _reject('f.req is not [null, "<inner json>"]')
    try:
        inner = json.loads(outer[1])
    except ValueError as exc:
        raise _reject("inner f.req is not JSON") from exc
    if not isinstance(inner, list):
        raise _reject("inner f.req is not a list")
    return inner


def _truncate(prompt: str, max_bytes: int) -> tuple[str, bool]:
    data = prompt.encode("utf-8")
    if len(data) <= max_bytes:
        return prompt, False
    return data[:max_bytes].decode("utf-8", errors="ignore"), True


def _index(values: list[Any], i: int) -> Any:
    return values[i] if len(values) > i else None


def _str_at(values: list[Any], i: int) -> str:
    value = _index(values, i)
    if value is not None and not isinstance(value, str):
        raise _reject(f"chat metadata slot {i} is not a string")
    return value or ""


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _reject("expected a string")
    return value


def _opt_int(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _reject("expected an integer")
    return value


def _lang(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return "en"


def _turn_index(value: Any) -> int | None:
    if isinstance(value, list) and value and isinstance(value[0], list) and value[0]:
        return _opt_int(value[0][0])
    return None


def _files(value: Any) -> list[FileRef]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _reject("inner[0][3] is not a list of files")
    files: list[FileRef] = []
    for entry in value:
        if not isinstance(entry, list) or not entry or not isinstance(entry[0], list) or not entry[0]:
            raise _reject("file entry is not [[ref, kind, null, mime], name]")
        spec = entry[0]
        ref = spec[0]
        if not isinstance(ref, str):
            raise _reject("file ref is not a string")
        kind = spec[1] if len(spec) > 1 and isinstance(spec[1], int) else 3
        mime = spec[3] if len(spec) > 3 and isinstance(spec[3], str) else ""
        name = entry[1] if len(entry) > 1 and isinstance(entry[1], str) else ""
        files.append(FileRef(ref=ref, kind=kind, mime=mime, name=name))
    return files


def _mode_header(raw: str | None) -> ModeHeader | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise _reject("model header is not JSON") from exc
    if not isinstance(value, list) or len(value) < 5 or not isinstance(value[4], str):
        raise _reject("model header has no model id at [4]")
    category = value[14] if len(value) > 14 and isinstance(value[14], int) else None
    thinking = value[15] if len(value) > 15 and isinstance(value[15], int) else None
    client = value[16] if len(value) > 16 and isinstance(value[16], str) else None
    return ModeHeader(hex=value[4], category=category, thinking=thinking, client_uuid=client)
