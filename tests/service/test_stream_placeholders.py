"""Streamed answers with every placeholder kind of docs/architecture/wire-protocol.md#placeholders never go
silent.

Snapshots are decoded by the real decoder (``apply_payload``) from content payloads whose raw text
grows in cuts that land inside placeholders, fences and escapes; the answer goes through the real
gateway to the official ``openai`` client, and the concatenated deltas must be the final text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from browser import TurnSnapshot
from browser.protocol._snapshot import apply_payload
from tests.service.conftest import Served
from tests.service.scripted_pool import Script, ScriptedPool, Step

KINDS = (
    "image_generation_content",
    "youtube_content",
    "immersive_entry_chip",
    "video_gen_chip",
    "shopping_content",
)
USER = [{"role": "user", "content": "Tell me everything"}]


def _payload(raw: str, *, card: str | None = None, done: bool = False) -> list[Any]:
    candidate: list[Any] = [None] * 23
    candidate[0] = "rc_1"
    candidate[1] = [raw]
    candidate[8] = [2 if done else 1]
    candidate[22] = [card] if card is not None else None
    return [None, ["c_placeholders", "r_1"], None, None, [candidate]]


def _decoded(payloads: list[list[Any]]) -> list[Step]:
    snapshot, steps = TurnSnapshot(), list[Step]()
    for payload in payloads:
        snapshot = apply_payload(snapshot, payload)
        steps.append(snapshot)
    return steps


def _long_raw() -> str:
    """20 000+ characters: prose, fences, escapes, and every placeholder kind several times."""
    parts: list[str] = []
    for index in range(60):
        kind = KINDS[index % len(KINDS)]
        parts.append(f"Section {index}: some prose with a\\_b and 2\\*3, then `code`.\n\n")
        parts.append(f"```python\nprint({index})  # a fenced block\n```\n\n")
        parts.append(f"http://googleusercontent.com/{kind}/{index}\n\n")
        parts.append("More words after the block, " * 8 + "\n\n")
    return "".join(parts)


def _cuts(raw: str) -> list[int]:
    """Every 97th character, plus cuts inside every placeholder, fence and escape."""
    cuts = set(range(0, len(raw), 97))
    for marker in ("http://googleusercontent.com/", "```", "\\_", "\\*"):
        start = raw.find(marker)
        while start != -1:
            cuts.update(start + offset for offset in (1, 2, len(marker) - 1, len(marker) + 5))
            start = raw.find(marker, start + 1)
    return sorted(cut for cut in cuts if cut < len(raw))


def _streamed(gateway: Served) -> tuple[str, str | None]:
    chunks = list(
        gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=USER, stream=True)
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks[-1].choices[0].finish_reason


def test_long_answer_with_every_placeholder_kind(serve_gateway: Callable[..., Served]) -> None:
    raw = _long_raw()
    assert len(raw) > 20_000
    payloads = [_payload(raw[:cut]) for cut in _cuts(raw)] + [_payload(raw, done=True)]
    steps = _decoded(payloads)
    final = steps[-1]
    assert isinstance(final, TurnSnapshot) and "googleusercontent" not in final.text
    pool = ScriptedPool()
    pool.queue(Script(steps))
    text, finish = _streamed(serve_gateway(pool))
    assert finish == "stop"
    assert text == final.text


def test_card_content_answer_streams_whole(serve_gateway: Callable[..., Served]) -> None:
    """The raw text is the card placeholder, arriving in pieces before the card text does."""
    placeholder = "http://googleusercontent.com/card_content/0"
    card = "| Item | Price |\n|---|---|\n" + "".join(f"| thing {n} | {n}.00 |\n" for n in range(400))
    payloads = [_payload(placeholder[:cut]) for cut in range(1, len(placeholder) + 1)]
    payloads += [_payload(placeholder, card=card[:cut]) for cut in range(0, len(card), 211)]
    payloads.append(_payload(placeholder, card=card, done=True))
    pool = ScriptedPool()
    pool.queue(Script(_decoded(payloads)))
    text, finish = _streamed(serve_gateway(pool))
    assert finish == "stop"
    assert text == card
