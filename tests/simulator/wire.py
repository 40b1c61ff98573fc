"""Test-side helpers: build StreamGenerate requests and check/parse the framing independently.

The framing checker is written from protocol.md §4 on its own, so it does not share a bug with the
simulator's encoder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

PATH = "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate"
# Written here from docs/architecture/evidence.md (OCT, M5), not imported from the simulator.
FLASH = "56fdd199312815e2"
PRO = "e6fa609c3fa255c0"
FLASH_LITE = "8c46e95b1a07cecc"
THINKING = "e051ce1aa80aa576"  # early 2026's Thinking model (paid)
FREE_FLASH = "fbb127bbb056c959"
FREE_PRO = "9d8ca3786ebdfbea"
FREE_FLASH_LITE = "cf41b0e0dd7d53e5"
FREE_THINKING = "5bf011840784117a"
ANON = FREE_FLASH_LITE
TOOL_DEEP_RESEARCH = 1
TOOL_CANVAS = 2
TOOL_VIDEO = 11  # inner[49] of the real Create-video request (VID HAR 2026-08-03)
TOOL_IMAGE = 14
TOOL_MUSIC = 21


def cookies(value: str | None) -> dict[str, str]:
    return {} if value is None else {"__Secure-1PSID": value, "__Secure-1PSIDTS": "sidts-test"}


def xsrf_token(base: str, account: str) -> str:
    """Read ``SNlM0e`` from the app page, as the browser does."""
    page = httpx.get(f"{base}/app", cookies=cookies(account), timeout=10).text
    marker = '"SNlM0e":"'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def freq(
    prompt: str,
    *,
    chat: tuple[str, str, str, str] = ("", "", "", ""),
    files: list[list[Any]] | None = None,
    tool: int | None = None,
    gem: str | None = None,
    turn: int = 0,
    inner_category: int | None = None,
    inner_level: int | None = None,
    temporary: bool = False,
) -> str:
    inner: list[Any] = [None] * 97
    inner[0] = [prompt, 0, None, files, None, None, 0]
    inner[1] = ["en"]
    cid, rid, rcid, token = chat
    inner[2] = [cid, rid, rcid, None, None, None, None, None, None, token]
    inner[7] = 1
    inner[17] = [[turn]]
    inner[19] = gem
    inner[49] = tool
    inner[59] = "5C7CD49B-0000-4000-8000-000000000001"
    inner[79], inner[80] = inner_category, inner_level
    inner[45] = 1 if temporary else None  # a temporary chat (protocol.md inner[45])
    return json.dumps([None, json.dumps(inner)])


def mode_header(hex_id: str, category: int = 1, thinking: int = 1) -> str:
    header: list[Any] = [1, None, None, None, hex_id, None, None, 0, [4, 5, 6, 8], None, None, 2]
    return json.dumps([*header, None, None, category, thinking, "U"])


def generate(
    base: str,
    prompt: str,
    *,
    account: str | None = "paid-alice",
    at: str | None = "auto",
    model: str | None = FLASH,
    category: int = 1,
    level: int = 1,
    timeout: float = 30,
    chunked: bool = True,
    **kwargs: Any,
) -> httpx.Response:
    """One StreamGenerate call; ``category``/``level`` go to the model header's [14]/[15]."""
    form = {"f.req": freq(prompt, **kwargs)}
    if at == "auto" and account is not None and "-" in account:
        at = xsrf_token(base, account)
    if at not in (None, "auto"):
        form["at"] = at
    headers = {"x-same-domain": "1"}
    if model is not None:
        headers["x-goog-ext-525001261-jspb"] = mode_header(model, category, level)
    return httpx.post(
        f"{base}{PATH}?{'rt=c&' if chunked else ''}hl=en&_reqid=1",
        data=form,
        headers=headers,
        cookies=cookies(account),
        timeout=timeout,
        follow_redirects=False,
    )


def utf16_units(text: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)


def split_frames(body: bytes) -> list[list[Any]]:
    """Check every framing rule and return the decoded frames (each a list of items)."""
    text = body.decode("utf-8")
    assert text.startswith(")]}'\n\n"), "missing guard"
    pos = len(")]}'\n\n")
    frames: list[list[Any]] = []
    while pos < len(text):
        newline = text.index("\n", pos)
        declared = int(text[pos:newline])
        units = 0
        end = newline
        while units < declared:
            units += 2 if ord(text[end]) > 0xFFFF else 1
            end += 1
        chunk = text[newline:end]
        assert chunk.startswith("\n") and chunk.endswith("\n"), "frame not newline-delimited"
        json_text = chunk[1:-1]
        assert utf16_units(json_text) + 2 == declared
        for raw in "=<>&":
            assert raw not in json_text, f"raw {raw!r} in a frame"
        frames.append(json.loads(json_text))
        pos = end
    items = [item for frame in frames for item in frame]
    trailer = items[-1]
    assert trailer[0] == "e", "last item is not the trailer"
    assert trailer[1] == len(items), "trailer item count"
    assert trailer[4] == len(body), "trailer byte total"
    return frames


@dataclass
class Decoded:
    frames: list[list[Any]]
    payloads: list[Any]
    errors: list[tuple[int, int]]

    @property
    def candidates(self) -> list[list[Any]]:
        return [p[4][0] for p in self.payloads if len(p) > 4 and isinstance(p[4], list)]

    @property
    def final(self) -> list[Any]:
        finals: list[list[Any]] = [p for p in self.payloads if len(p) > 4 and isinstance(p[4], list)]
        return finals[-1]

    @property
    def text(self) -> str:
        return str(self.candidates[-1][1][0])

    def keyed(self, key: str) -> Any:
        for payload in self.payloads:
            if len(payload) > 2 and isinstance(payload[2], dict) and key in payload[2]:
                return payload[2][key]
        return None


def decode(body: bytes) -> Decoded:
    frames = split_frames(body)
    payloads: list[Any] = []
    errors: list[tuple[int, int]] = []
    for frame in frames:
        for item in frame:
            if item[0] != "wrb.fr":
                continue
            if isinstance(item[2], str):
                payloads.append(json.loads(item[2]))
            else:
                errors.append((item[5][0], item[5][2][0][1][0]))
    return Decoded(frames, payloads, errors)


def requests_log(base: str) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = httpx.get(f"{base}/_sim/requests", timeout=5).json()
    return log


def stream_request(
    base: str, prompt: str, account: str = "paid-alice"
) -> tuple[str, dict[str, Any], dict[str, str]]:
    """URL, form and headers for an ``httpx.stream`` StreamGenerate call."""
    form = {"f.req": freq(prompt), "at": xsrf_token(base, account)}
    headers = {"x-goog-ext-525001261-jspb": mode_header(FLASH)}
    return f"{base}{PATH}?rt=c", form, headers


class LiveFrames:
    """Counts complete frames as bytes arrive (frame lengths are UTF-16 units of the decoded text)."""

    def __init__(self) -> None:
        self.buffer = b""
        self.pos = len(")]}'\n\n")
        self.frames: list[list[Any]] = []

    def feed(self, data: bytes) -> list[list[Any]]:
        self.buffer += data
        text = self.buffer.decode("utf-8", errors="ignore")
        new: list[list[Any]] = []
        while True:
            newline = text.find("\n", self.pos)
            if newline < 0 or not text[self.pos : newline].isdigit():
                break
            declared = int(text[self.pos : newline])
            end, units = newline, 0
            while units < declared and end < len(text):
                units += 2 if ord(text[end]) > 0xFFFF else 1
                end += 1
            if units < declared:
                break
            new.append(json.loads(text[newline + 1 : end - 1]))
            self.pos = end
        self.frames += new
        return new
