"""The measurements: latency through the gateway vs. the raw client, relay and driving overhead,
and Chromium memory per warm account. Each function returns a plain JSON-able dict of figures.

Clocks: every timestamp is ``time.time()``, taken by the client here and by the simulator (another
process on the same machine) in its request log (``time`` = request received, ``frame_times`` =
each frame written), so differences across the two are meaningful.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openai
from openai.types.chat import ChatCompletionMessageParam

from bench import servers
from bench.memory import chromium_memory
from bench.raw_client import RawClient
from bench.stats import summary

__all__ = ["GatewayTurn", "LatencySamples", "measure_latency", "measure_memory", "new_psid"]

MODEL = "gemini-2.5-flash"
_MIB = 1024


def new_psid(kind: str = "paid") -> str:
    return f"{kind}-bench{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class GatewayTurn:
    """One streamed completion: send time, first-content time, (receive time, text length so far)
    per content delta, and the text as received."""

    sent_at: float
    first_text_at: float
    deltas: list[tuple[float, int]]
    text: str


@dataclass
class LatencySamples:
    """Raw samples in seconds; ``summarise`` turns them into the reported figures."""

    ttft_gateway: list[float] = field(default_factory=list)
    ttft_raw: list[float] = field(default_factory=list)
    relay: list[float] = field(default_factory=list)
    driving_new: list[float] = field(default_factory=list)
    driving_follow_up: list[float] = field(default_factory=list)
    follow_ups_continued: int = 0

    def summarise(self) -> dict[str, Any]:
        gateway, raw = summary(self.ttft_gateway), summary(self.ttft_raw)
        return {
            "ttft": {
                "gateway": gateway,
                "raw": raw,
                "ratio_of_medians": round(float(gateway["p50_ms"]) / float(raw["p50_ms"]), 3),
            },
            "relay": summary(self.relay),
            "driving": {
                "new_chat": summary(self.driving_new),
                "follow_up": summary(self.driving_follow_up),
                "follow_ups_continued": self.follow_ups_continued,
            },
        }


async def _stream(client: openai.AsyncOpenAI, messages: list[ChatCompletionMessageParam]) -> GatewayTurn:
    deltas: list[tuple[float, int]] = []
    text = ""
    sent_at = time.time()
    stream = await client.chat.completions.create(model=MODEL, messages=messages, stream=True)
    async for chunk in stream:
        piece = chunk.choices[0].delta.content if chunk.choices else None
        if piece:
            text += piece
            deltas.append((time.time(), len(text)))
    if not deltas:
        raise RuntimeError("the gateway streamed no content")
    return GatewayTurn(sent_at, deltas[0][0], deltas, text)


def relay_delays(turn: GatewayTurn, frame_times: list[float], snapshot_chars: int) -> list[float]:
    """Each delta is matched to the frame whose text first contains the delta's last character:
    content frame ``k`` carries the first ``(k + 1) * snapshot_chars`` characters of the answer (a
    Flash answer: no thoughts stream before the text)."""
    delays = []
    for received_at, length in turn.deltas:
        frame = min(math.ceil(length / snapshot_chars) - 1, len(frame_times) - 1)
        delays.append(received_at - frame_times[frame])
    return delays


class _Sim:
    """The simulator's request log, read after each turn."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def entry(self, marker: str) -> dict[str, Any]:
        log: list[dict[str, Any]] = (await self.http.get("/_sim/requests")).json()
        found = [entry for entry in log if marker in str(entry.get("prompt", ""))]
        if len(found) != 1:
            raise RuntimeError(f"expected one simulator request carrying {marker!r}, found {len(found)}")
        return found[0]


async def _gateway_round(
    client: openai.AsyncOpenAI, sim: _Sim, samples: LatencySamples, tag: str, snapshot_chars: int
) -> None:
    # Markers in brackets: none is a substring of another, so each log lookup finds one request.
    first_prompt = f"Benchmark [gw:{tag}]: say something about latency."
    first = await _stream(client, [{"role": "user", "content": first_prompt}])
    entry = await sim.entry(f"[gw:{tag}]")
    samples.ttft_gateway.append(first.first_text_at - first.sent_at)
    samples.driving_new.append(float(entry["time"]) - first.sent_at)
    samples.relay += relay_delays(first, entry["frame_times"], snapshot_chars)

    follow_tag = f"[gwf:{tag}]"
    history: list[ChatCompletionMessageParam] = [
        {"role": "user", "content": first_prompt},
        {"role": "assistant", "content": first.text},
        {"role": "user", "content": f"Benchmark {follow_tag}: and throughput?"},
    ]
    second = await _stream(client, history)
    follow = await sim.entry(follow_tag)
    samples.driving_follow_up.append(float(follow["time"]) - second.sent_at)
    samples.relay += relay_delays(second, follow["frame_times"], snapshot_chars)
    samples.follow_ups_continued += follow.get("chat_status") == "continued"


async def measure_latency(sim_url: str, gateway_url: str, rounds: int) -> dict[str, Any]:
    """Interleaved rounds (the order alternates) after one unrecorded warm-up turn of each client."""
    samples = LatencySamples()
    async with (
        httpx.AsyncClient(base_url=sim_url, timeout=10, trust_env=False) as control,
        openai.DefaultAsyncHttpxClient(timeout=120, trust_env=False) as http,
        RawClient(sim_url, new_psid()) as raw,
    ):
        snapshot_chars = int((await control.get("/_sim/config")).json()["snapshot_chars"])
        client = openai.AsyncOpenAI(
            api_key=servers.API_KEY, base_url=f"{gateway_url}/v1", http_client=http, max_retries=0
        )
        sim = _Sim(control)
        await _stream(client, [{"role": "user", "content": "Benchmark warm-up."}])
        await raw.ask("Benchmark warm-up.")
        for index in range(rounds):
            await control.delete("/_sim/requests")
            tag = f"r{index}-{uuid.uuid4().hex[:8]}"
            raw_first = index % 2 == 1
            if raw_first:
                samples.ttft_raw.append((await raw.ask(f"Benchmark [raw:{tag}].")).ttft)
            await _gateway_round(client, sim, samples, tag, snapshot_chars)
            if not raw_first:
                samples.ttft_raw.append((await raw.ask(f"Benchmark [raw:{tag}].")).ttft)
    return samples.summarise()


async def _memory_with(
    workdir: Path, sim_url: str, accounts: int, settle: float, browser: dict[str, Any]
) -> dict[str, Any]:
    psids = [new_psid() for _ in range(accounts)]
    with servers.gateway(workdir, sim_url, psids, browser=browser) as gateway:
        await asyncio.sleep(settle)  # let page loads and their caches settle before reading /proc
        memory = chromium_memory(gateway.pid)
    return {
        "accounts": accounts,
        "processes": memory.processes,
        "renderers": memory.renderers,
        "rss_mib": round(memory.rss_kib / _MIB, 1),
        "pss_mib": round(memory.pss_kib / _MIB, 1),
        "uss_mib": round(memory.uss_kib / _MIB, 1),
        "shared_clean_mib": round(memory.shared_clean_kib / _MIB, 1),
    }


async def measure_memory(
    workdir: Path,
    sim_url: str,
    counts: tuple[int, int] = (1, 3),
    settle: float = 3.0,
    browser: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Chromium's RSS/PSS with ``counts[0]`` and ``counts[1]`` warm accounts (one gateway each),
    with the pool settings ``browser`` (launch mode, Chromium switches)."""
    low = await _memory_with(workdir, sim_url, counts[0], settle, browser or {})
    high = await _memory_with(workdir, sim_url, counts[1], settle, browser or {})
    extra = counts[1] - counts[0]
    shared_clean = high["shared_clean_mib"] - low["shared_clean_mib"]
    return {
        "low": low,
        "high": high,
        "per_account_rss_mib": round((high["rss_mib"] - low["rss_mib"]) / extra, 1),
        "per_account_pss_mib": round((high["pss_mib"] - low["pss_mib"]) / extra, 1),
        "per_account_uss_mib": round((high["uss_mib"] - low["uss_mib"]) / extra, 1),
        "per_account_shared_clean_mib": round(shared_clean / extra, 1),
        "per_account_renderers": round((high["renderers"] - low["renderers"]) / extra, 1),
    }
