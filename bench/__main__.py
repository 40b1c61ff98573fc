"""``python -m bench [--rounds N] [--out PATH] [--no-memory]``: run the benchmark, print the table,
write the JSON (default ``bench/results/latest.json``). The memory part measures every launch
variant of ``bench/variants.py`` side by side; the load benchmark is ``python -m bench.load``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import servers
from bench.measure import measure_latency, measure_memory, new_psid
from bench.report import checks, table
from bench.variants import ADOPTED, MEMORY_VARIANTS

FIRST_TOKEN_DELAY = 1.0
FRAME_INTERVAL = 0.05
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


async def run(rounds: int, memory: bool, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {
        "config": {
            "rounds": rounds,
            "first_token_delay_s": FIRST_TOKEN_DELAY,
            "frame_interval_s": FRAME_INTERVAL,
            "python": platform.python_version(),
            "cpus": _cpus(),
            # The machine is shared: a high load average explains slow figures better than the code.
            "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        }
    }
    with servers.simulator(workdir, FIRST_TOKEN_DELAY, FRAME_INTERVAL) as sim:
        with servers.gateway(workdir, sim.url, [new_psid()]) as gateway:
            results.update(await measure_latency(sim.url, gateway.url, rounds))
        if memory:
            variants = {}
            for name, browser in MEMORY_VARIANTS.items():
                variants[name] = await measure_memory(workdir, sim.url, browser=browser)
                print(f"memory, {name}: {variants[name]}", flush=True)
            results["memory"] = variants[ADOPTED]
            results["memory_variants"] = variants
    results["config"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    results["checks"] = [row.row() for row in checks(results)]
    return results


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as workdir:
        results = asyncio.run(run(args.rounds, not args.no_memory, Path(workdir)))
    results["config"]["duration_s"] = round(time.monotonic() - started, 1)
    config = results["config"]
    print(table(checks(results)))
    print(
        f"\n{args.rounds} rounds; load average {config['load_average_1min_at_start']} -> "
        f"{config['load_average_1min_at_end']} on {config['cpus']} CPUs"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out} in {results['config']['duration_s']} s")


if __name__ == "__main__":
    main()
