"""``python -m bench.load [--seconds S] [--out PATH] [--browser JSON]``: the gateway under load.

Two parts, each against its own gateway (real pool, real Chromium) and one simulator:

- **sweep**: ``SWEEP_ACCOUNTS`` accounts x ``SWEEP_TABS`` tabs (16 slots); for each level of
  ``LEVELS`` that many clients stream new chats back to back for ``--seconds``: throughput, status
  counts, TTFT p50/p95; then the Chromium memory and the page count with every tab opened.
- **burst**: ``BURST`` streamed requests at once against ``BURST_ACCOUNTS`` accounts (one tab
  each, the default queue): status counts, whether every 429 carries ``Retry-After``, and the page
  count (Chromium's own target list) before, at its highest, and after.

Figures are printed and written (default ``bench/results/load.json``), never compared with goals.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import servers
from bench.measure import MODEL, new_psid
from bench.memory import chromium_memory, chromium_processes
from bench.stats import summary
from browser._settings import DEFAULT_ARGS

__all__ = ["Outcome", "burst", "figures", "load_client", "main", "page_count", "streamed", "sweep"]

LEVELS = (1, 4, 8, 16)
SWEEP_ACCOUNTS = 4
SWEEP_TABS = 4
BURST = 200
BURST_ACCOUNTS = 2
FIRST_TOKEN_DELAY = 0.5
FRAME_INTERVAL = 0.05
REQUEST_TIMEOUT = 120.0
BASELINE_WAIT = 60.0  # longest wait for the page count to come back after the burst
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "load.json"
_MIB = 1024
# Chromium's target list over HTTP, for counting pages from outside the gateway; only the benchmark
# opens this port (on loopback, a random port).
_DEBUG_PORT_ARG = "--remote-debugging-port=0"
_USER_DATA_DIR = re.compile(r"--user-data-dir=([^\0 ]+)")


@dataclass(frozen=True)
class Outcome:
    """One streamed request: HTTP status (0: no answer), seconds to the first content delta,
    ``Retry-After`` as sent, and whether the stream ended cleanly (``[DONE]``)."""

    status: int
    ttft: float | None
    retry_after: str | None
    complete: bool


async def streamed(http: httpx.AsyncClient, prompt: str) -> Outcome:
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": prompt}]}
    sent = time.monotonic()
    ttft: float | None = None
    try:
        async with http.stream("POST", "/v1/chat/completions", json=body) as response:
            if response.status_code != 200:
                await response.aread()
                return Outcome(response.status_code, None, response.headers.get("retry-after"), False)
            async for line in response.aiter_lines():
                if line == "data: [DONE]":
                    return Outcome(200, ttft, None, ttft is not None)
                if ttft is None and line.startswith("data: ") and _has_content(line[6:]):
                    ttft = time.monotonic() - sent
            return Outcome(200, ttft, None, False)
    except httpx.HTTPError:
        return Outcome(0, ttft, None, False)


def _has_content(data: str) -> bool:
    with contextlib.suppress(ValueError, LookupError, TypeError):
        return bool(json.loads(data)["choices"][0]["delta"].get("content"))
    return False


def load_client(url: str, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {servers.API_KEY}"},
        timeout=REQUEST_TIMEOUT,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        trust_env=False,
    )


def figures(outcomes: list[Outcome], elapsed: float) -> dict[str, Any]:
    statuses = Counter(str(outcome.status) for outcome in outcomes)
    ttfts = [outcome.ttft for outcome in outcomes if outcome.ttft is not None]
    answered = sum(outcome.complete for outcome in outcomes)
    return {
        "requests": len(outcomes),
        "answered": answered,
        "errors": len(outcomes) - answered,
        "statuses": dict(sorted(statuses.items())),
        "throughput_per_s": round(answered / elapsed, 2) if elapsed > 0 else 0.0,
        "elapsed_s": round(elapsed, 1),
        "ttft": summary(ttfts) if ttfts else None,
    }


async def closed_loop(urls: list[str], clients: int, seconds: float, label: str) -> dict[str, Any]:
    """``clients`` loops, client ``i`` on ``urls[i mod len(urls)]``, each sending its next request as
    soon as the last one ended, until ``seconds`` have passed (requests under way then are awaited
    and counted); ``label`` starts every prompt."""
    outcomes: list[Outcome] = []
    started = time.monotonic()
    deadline = started + seconds

    async def client(index: int, http: httpx.AsyncClient) -> None:
        turn = 0
        while time.monotonic() < deadline:
            turn += 1
            prompt = f"{label} [c{clients}-{index}-{turn}]: one short answer."
            outcomes.append(await streamed(http, prompt))

    async with contextlib.AsyncExitStack() as stack:
        https = [await stack.enter_async_context(load_client(url, clients)) for url in urls]
        await asyncio.gather(*(client(index, https[index % len(https)]) for index in range(clients)))
    return figures(outcomes, time.monotonic() - started)


def _browser_process(gateway_pid: int) -> int | None:
    for process in chromium_processes(gateway_pid):
        if process.kind == "browser":
            return process.pid
    return None


def _debug_port(gateway_pid: int) -> int | None:
    """The port Chromium chose for ``--remote-debugging-port=0``, from ``DevToolsActivePort`` in
    its user data directory (named on its command line)."""
    pid = _browser_process(gateway_pid)
    if pid is None:
        return None
    with contextlib.suppress(OSError, ValueError, IndexError):
        found = _USER_DATA_DIR.search(Path(f"/proc/{pid}/cmdline").read_bytes().decode())
        if found is not None:
            return int((Path(found.group(1)) / "DevToolsActivePort").read_text().split()[0])
    return None


async def page_count(http: httpx.AsyncClient, port: int) -> int:
    """Open pages (tabs) in the browser, from its own target list."""
    targets: list[dict[str, Any]] = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
    return sum(target.get("type") == "page" for target in targets)


def _memory(gateway_pid: int) -> dict[str, Any]:
    memory = chromium_memory(gateway_pid)
    return {
        "processes": memory.processes,
        "renderers": memory.renderers,
        "rss_mib": round(memory.rss_kib / _MIB, 1),
        "pss_mib": round(memory.pss_kib / _MIB, 1),
        "uss_mib": round(memory.uss_kib / _MIB, 1),
    }


def _settings(browser: dict[str, Any], **extra: Any) -> dict[str, Any]:
    args = [*browser.get("chromium_args", DEFAULT_ARGS), _DEBUG_PORT_ARG]
    return {**browser, **extra, "chromium_args": args}


@contextlib.contextmanager
def _gateway(workdir: Path, sim_url: str, accounts: int, browser: dict[str, Any]) -> Iterator[servers.Server]:
    psids = [new_psid() for _ in range(accounts)]
    with servers.gateway(workdir, sim_url, psids, timeout=240, browser=browser) as gateway:
        yield gateway


async def sweep(
    workdir: Path, sim_url: str, seconds: float, browser: dict[str, Any], levels: tuple[int, ...] = LEVELS
) -> dict[str, Any]:
    settings = _settings(browser, tabs_per_account=SWEEP_TABS)
    results: dict[str, Any] = {
        "setup": f"{SWEEP_ACCOUNTS} accounts x {SWEEP_TABS} tabs, {seconds:g} s per level, new chats",
        "levels": [],
    }
    with _gateway(workdir, sim_url, SWEEP_ACCOUNTS, settings) as gateway:
        async with httpx.AsyncClient(timeout=10, trust_env=False) as control:
            port = _debug_port(gateway.pid)
            results["memory_warm"] = _memory(gateway.pid)
            results["pages_warm"] = await page_count(control, port) if port else None
            for clients in levels:
                level = {"clients": clients, **await closed_loop([gateway.url], clients, seconds, "Load")}
                print(f"sweep: {level}", flush=True)
                results["levels"].append(level)
            results["memory_after"] = _memory(gateway.pid)
            results["pages_after"] = await page_count(control, port) if port else None
    return results


async def burst(workdir: Path, sim_url: str, browser: dict[str, Any], count: int = BURST) -> dict[str, Any]:
    settings = _settings(browser)
    with _gateway(workdir, sim_url, BURST_ACCOUNTS, settings) as gateway:
        async with httpx.AsyncClient(timeout=10, trust_env=False) as control:
            found = _debug_port(gateway.pid)
            if found is None:
                raise RuntimeError("Chromium's debugging port was not found")
            port = found
            baseline = await page_count(control, port)
            peak = baseline
            stop = asyncio.Event()

            async def watch() -> None:
                nonlocal peak
                while not stop.is_set():
                    peak = max(peak, await page_count(control, port))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 0.25)

            watcher = asyncio.create_task(watch())
            started = time.monotonic()
            async with load_client(gateway.url, count) as http:
                outcomes = await asyncio.gather(
                    *(streamed(http, f"Burst [b{index}]: one short answer.") for index in range(count))
                )
            elapsed = time.monotonic() - started
            stop.set()
            await watcher
            after, waited = await _back_to(control, port, baseline)
    limited = [outcome for outcome in outcomes if outcome.status == 429]
    return {
        "setup": f"{count} streamed requests at once, {BURST_ACCOUNTS} accounts x 1 tab, default queue",
        **figures(list(outcomes), elapsed),
        "responses_429": len(limited),
        "responses_429_with_retry_after": sum(outcome.retry_after is not None for outcome in limited),
        "retry_after_values": sorted({outcome.retry_after for outcome in limited if outcome.retry_after}),
        "pages_baseline": baseline,
        "pages_peak": peak,
        "pages_after": after,
        "pages_back_to_baseline": after == baseline,
        "pages_settle_s": round(waited, 1),
    }


async def _back_to(control: httpx.AsyncClient, port: int, baseline: int) -> tuple[int, float]:
    """Poll the page count until it equals ``baseline`` (bounded); the last count and the wait."""
    started = time.monotonic()
    count = await page_count(control, port)
    while count != baseline and time.monotonic() - started < BASELINE_WAIT:
        await asyncio.sleep(0.5)
        count = await page_count(control, port)
    return count, time.monotonic() - started


def report(results: dict[str, Any]) -> str:
    """The figures as Markdown tables."""
    lines = [
        f"Sweep: {results['sweep']['setup']}",
        "",
        "| clients | answered | errors | statuses | answers/s | TTFT p50 | TTFT p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for level in results["sweep"]["levels"]:
        ttft = level["ttft"] or {"p50_ms": float("nan"), "p95_ms": float("nan")}
        lines.append(
            f"| {level['clients']} | {level['answered']} | {level['errors']} | {level['statuses']} | "
            f"{level['throughput_per_s']} | {ttft['p50_ms']:.0f} ms | {ttft['p95_ms']:.0f} ms |"
        )
    sweep_ = results["sweep"]
    lines += [
        "",
        f"Chromium warm: {sweep_['memory_warm']}, pages {sweep_['pages_warm']}; "
        f"after the sweep: {sweep_['memory_after']}, pages {sweep_['pages_after']}",
        "",
    ]
    b = results["burst"]
    lines += [
        f"Burst: {b['setup']}",
        f"statuses {b['statuses']} in {b['elapsed_s']} s; 429s with Retry-After: "
        f"{b['responses_429_with_retry_after']}/{b['responses_429']} (values {b['retry_after_values']}); "
        f"pages {b['pages_baseline']} -> peak {b['pages_peak']} -> {b['pages_after']} "
        f"(back to baseline: {b['pages_back_to_baseline']}, after {b['pages_settle_s']} s)",
    ]
    return "\n".join(lines)


async def run(workdir: Path, seconds: float, browser: dict[str, Any]) -> dict[str, Any]:
    results: dict[str, Any] = {
        "config": {
            "first_token_delay_s": FIRST_TOKEN_DELAY,
            "frame_interval_s": FRAME_INTERVAL,
            "browser": browser,
            "cpus": len(os.sched_getaffinity(0)),
            "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        }
    }
    with servers.simulator(workdir, FIRST_TOKEN_DELAY, FRAME_INTERVAL) as sim:
        results["sweep"] = await sweep(workdir, sim.url, seconds, browser)
        results["burst"] = await burst(workdir, sim.url, browser)
    results["config"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each sweep level")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--browser",
        type=json.loads,
        default={},
        help="pool settings as JSON, e.g. '{\"process_per_site\": false}'",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gateway-load-") as workdir:
        results = asyncio.run(run(Path(workdir), args.seconds, args.browser))
    results["config"]["duration_s"] = round(time.monotonic() - started, 1)
    config = results["config"]
    print(report(results))
    print(
        f"\nload average {config['load_average_1min_at_start']} -> {config['load_average_1min_at_end']} "
        f"on {config['cpus']} CPUs"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out} in {config['duration_s']} s")


if __name__ == "__main__":
    main()
