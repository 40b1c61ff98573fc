"""``python -m bench [--rounds N] [--out PATH] [--no-memory | --memory-only] [--repeat N]
[--variants TEXT] [--tried]``: run the benchmark, print the table, write the JSON (default
``bench/results/latest.json``). The memory part measures every launch variant of ``bench/variants.py``
(with ``--tried`` also the switches tried without effect; only those whose name contains ``TEXT``)
side by side, ``--repeat`` times each (round-robin, figures
are medians); the load benchmark is ``python -m bench.load``."""

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
from bench.memory import median_of_runs, side_by_side
from bench.report import checks, table
from bench.variants import ADOPTED, MEMORY_VARIANTS, TRIED_VARIANTS

FIRST_TOKEN_DELAY = 1.0
FRAME_INTERVAL = 0.05
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


async def run(
    rounds: int,
    memory: bool,
    workdir: Path,
    latency: bool = True,
    repeat: int = 1,
    variants: str = "",
    tried: bool = False,
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "config": {
            "rounds": rounds if latency else 0,
            "memory_repeats": repeat if memory else 0,
            "first_token_delay_s": FIRST_TOKEN_DELAY,
            "frame_interval_s": FRAME_INTERVAL,
            "python": platform.python_version(),
            "cpus": _cpus(),
            # The machine is shared: a high load average explains slow figures better than the code.
            "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        }
    }
    with servers.simulator(workdir, FIRST_TOKEN_DELAY, FRAME_INTERVAL) as sim:
        if latency:
            with servers.gateway(workdir, sim.url, [new_psid()]) as gateway:
                results.update(await measure_latency(sim.url, gateway.url, rounds))
        if memory:
            chosen = {name: browser for name, browser in _variants(tried).items() if variants in name}
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in chosen}
            # Round-robin: a load that changes during the run spreads over every variant alike.
            for index in range(repeat):
                for name, browser in chosen.items():
                    runs[name].append(await measure_memory(workdir, sim.url, browser=browser))
                    print(f"memory, {name} (run {index + 1}/{repeat}): {runs[name][-1]}", flush=True)
            measured = {name: median_of_runs(found) for name, found in runs.items()}
            if ADOPTED in measured:
                results["memory"] = measured[ADOPTED]
            results["memory_variants"] = measured
    results["config"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    results["checks"] = [row.row() for row in checks(results)]
    return results


def _variants(tried: bool) -> dict[str, dict[str, Any]]:
    return {**MEMORY_VARIANTS, **TRIED_VARIANTS} if tried else MEMORY_VARIANTS


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    skip = parser.add_mutually_exclusive_group()
    skip.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    skip.add_argument("--memory-only", action="store_true", help="skip the latency measurement")
    parser.add_argument("--repeat", type=int, default=1, help="measure each memory variant N times")
    parser.add_argument("--variants", default="", help="only the memory variants whose name contains this")
    parser.add_argument(
        "--tried",
        action="store_true",
        help="also measure the switches tried without effect (bench/variants.py)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not any(args.variants in name for name in _variants(args.tried)):
        parser.error(f"no memory variant's name contains {args.variants!r}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gateway-bench-") as workdir:
        results = asyncio.run(
            run(
                args.rounds,
                not args.no_memory,
                Path(workdir),
                latency=not args.memory_only,
                repeat=args.repeat,
                variants=args.variants,
                tried=args.tried,
            )
        )
    results["config"]["duration_s"] = round(time.monotonic() - started, 1)
    config = results["config"]
    print(table(checks(results)))
    if "memory_variants" in results:
        print("\nMemory per additional warm account (medians), shared vs persistent mode:\n")
        print(side_by_side(results["memory_variants"]))
    print(
        f"\n{config['rounds']} rounds, {config['memory_repeats']} memory repeats; load average "
        f"{config['load_average_1min_at_start']} -> {config['load_average_1min_at_end']} "
        f"on {config['cpus']} CPUs"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out} in {results['config']['duration_s']} s")


if __name__ == "__main__":
    main()
