"""A minimal raw-protocol Gemini client: the baseline the gateway's latency is compared against.

No browser: it reads ``SNlM0e`` from the app page once (as the page does at load), POSTs
StreamGenerate with a correct ``f.req``/``at``/model header, and decodes the body as it arrives with
``browser.protocol.TurnDecoder``. It only does what any client of Gemini must do, so the difference
to the gateway is the price of driving a real page.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from browser.protocol import TurnDecoder, TurnSnapshot

__all__ = ["FLASH_HEX", "RawClient", "RawTurn", "build_freq", "mode_header"]

PATH = "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate"
FLASH_HEX = "56fdd199312815e2"
_INNER_SLOTS = 97
_XSRF = re.compile(r'"SNlM0e":"([^"]+)"')


def build_freq(prompt: str, request_uuid: str, lang: str = "en") -> str:
    """The double-encoded ``f.req`` of a new chat's first turn (docs/simulator-contract.md)."""
    inner: list[Any] = [None] * _INNER_SLOTS
    inner[0] = [prompt, 0, None, None, None, None, 0]
    inner[1] = [lang]
    inner[2] = ["", "", "", None, None, None, None, None, None, ""]
    inner[7] = 1
    inner[17] = [[0]]
    inner[59] = request_uuid
    inner[79] = 1
    inner[80] = 1
    return json.dumps([None, json.dumps(inner)])


def mode_header(model_hex: str, request_uuid: str, capacity: int = 2) -> str:
    header: list[Any] = [1, None, None, None, model_hex, None, None, 0, [4, 5, 6, 8], None, None, capacity]
    return json.dumps([*header, None, None, 1, 1, request_uuid])


@dataclass(frozen=True)
class RawTurn:
    """One answer: wall-clock send time, first-text time and the final snapshot."""

    sent_at: float
    first_text_at: float
    final: TurnSnapshot

    @property
    def ttft(self) -> float:
        return self.first_text_at - self.sent_at


class RawClient:
    """StreamGenerate over plain httpx with one account's ``__Secure-1PSID``."""

    def __init__(self, base_url: str, psid: str, *, timeout: float = 60.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            cookies={"__Secure-1PSID": psid},
            timeout=timeout,
            trust_env=False,  # loopback only: a developer's proxy must not sit in the path
        )
        self._xsrf: str | None = None

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def load(self) -> None:
        """Read ``SNlM0e`` from the app page, once, like the page does when it loads."""
        page = await self._http.get("/app", params={"hl": "en"})
        page.raise_for_status()
        match = _XSRF.search(page.text)
        if match is None:
            raise RuntimeError("the app page has no SNlM0e (is the account signed in?)")
        self._xsrf = match.group(1)

    async def ask(self, prompt: str) -> RawTurn:
        """One new-chat turn; times are ``time.time()`` so they compare with the simulator's log."""
        if self._xsrf is None:
            await self.load()
        request_uuid = str(uuid.uuid4()).upper()
        headers = {
            "x-same-domain": "1",
            "x-goog-ext-525001261-jspb": mode_header(FLASH_HEX, request_uuid),
            "x-goog-ext-525005358-jspb": json.dumps([request_uuid, 1]),
        }
        form = {"f.req": build_freq(prompt, request_uuid), "at": self._xsrf or ""}
        decoder = TurnDecoder()
        first_text_at = 0.0
        sent_at = time.time()
        async with self._http.stream(
            "POST", PATH, params={"hl": "en", "rt": "c"}, data=form, headers=headers
        ) as response:
            response.raise_for_status()
            async for chunk in response.aiter_raw():
                snapshots = decoder.feed(chunk)
                if not first_text_at and any(s.text for s in snapshots):
                    first_text_at = time.time()
        final = decoder.close()
        if not first_text_at:
            raise RuntimeError(f"no text in the answer (error {final.error_code})")
        return RawTurn(sent_at, first_text_at, final)
