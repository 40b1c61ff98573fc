"""``python -m bench.forward [--requests N] [--out PATH]``: the cost of forwarding between replicas
(issue 20 item 3; goal: p50 at most 5 ms on loopback).

One Redis (``redis-server`` on loopback) and two gateway replicas, each its own process
(``bench.forward_server``: scripted pools that answer at once), sharing one account: replica A drives
it, replica B drives none. The same non-streamed chat request goes, alternately, straight to A and
to B, which forwards it to A (a model no local account serves: ``service.cluster.forward``). The
overhead is the difference of the two medians (and of the two p95s). Figures are printed and
written (default ``bench/results/forward.json``), never compared with the goal here.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from bench import servers
from bench.measure import MODEL
from bench.stats import summary

__all__ = ["main", "measure", "report"]

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "forward.json"
SECRET = "bench-forwarding-secret-0123"
GOAL_P50_MS = 5.0
WARMUP = 5  # requests per path before measuring: connections open, code paths warm


def _request(client: httpx.Client, url: str, index: int) -> float:
    body = {"model": MODEL, "messages": [{"role": "user", "content": f"forwarding bench {index}"}]}
    started = time.perf_counter()
    response = client.post(url + "/v1/chat/completions", json=body)
    spent = time.perf_counter() - started
    response.raise_for_status()
    return spent


def measure(owner_url: str, other_url: str, requests: int, *, key: str = servers.API_KEY) -> dict[str, Any]:
    """``requests`` requests straight to the owner and as many through the other replica,
    alternately (a load that changes during the run weighs on both alike)."""
    direct: list[float] = []
    forwarded: list[float] = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(timeout=60, trust_env=False, headers=headers) as client:
        for index in range(WARMUP):
            _request(client, owner_url, index)
            _request(client, other_url, index)
        for index in range(requests):
            direct.append(_request(client, owner_url, index))
            forwarded.append(_request(client, other_url, index))
    straight, through = summary(direct), summary(forwarded)
    return {
        "direct": straight,
        "forwarded": through,
        "overhead_p50_ms": round(float(through["p50_ms"]) - float(straight["p50_ms"]), 2),
        "overhead_p95_ms": round(float(through["p95_ms"]) - float(straight["p95_ms"]), 2),
        "goal_p50_ms": GOAL_P50_MS,
    }


def report(figures: dict[str, Any]) -> str:
    rows = [("straight to the owner", figures["direct"]), ("through another replica", figures["forwarded"])]
    return "\n".join(
        [
            "| path | n | p50 | p95 |",
            "|---|---|---|---|",
            *(f"| {name} | {f['n']} | {f['p50_ms']} ms | {f['p95_ms']} ms |" for name, f in rows),
            f"| forwarding overhead (goal p50 <= {figures['goal_p50_ms']:g} ms) | - | "
            f"{figures['overhead_p50_ms']} ms | {figures['overhead_p95_ms']} ms |",
        ]
    )


@contextlib.contextmanager
def _replica(workdir: Path, name: str, redis_url: str) -> Iterator[str]:
    port = servers.free_port()
    data_dir = workdir / name
    data_dir.mkdir(parents=True)
    config = {
        "data_dir": str(data_dir),
        "api_keys": [servers.API_KEY],
        "accounts": [{"name": "bench-0", "psid": "paid-bench-forward-0"}],
        "state": {"backend": "redis", "redis_url": redis_url},
        "media": {"shared_dir": str(workdir / "media")},
        "cluster": {"replica_id": name, "internal_url": f"http://127.0.0.1:{port}", "secret": SECRET},
    }
    (data_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    args = [sys.executable, "-m", "bench.forward_server", "--port", str(port)]
    env = {"GATEWAY_CONFIG": str(data_dir / "config.json")}
    url = f"http://127.0.0.1:{port}"
    with servers.process(args, env, f"{url}/v1/models", workdir / f"{name}.log", 60):
        yield url


def run(requests: int, workdir: Path) -> dict[str, Any]:
    # B starts second: A drives the one account already, B none (its share is taken).
    with (
        servers.redis_server(workdir) as redis_url,
        _replica(workdir, "a", redis_url) as owner,
        _replica(workdir, "b", redis_url) as other,
    ):
        figures = measure(owner, other, requests)
    figures["config"] = {
        "requests": requests,
        "python": sys.version.split()[0],
        "load_average_1min_at_start": round(os.getloadavg()[0], 2),
    }
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.forward", description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-forward-") as workdir:
        figures = run(args.requests, Path(workdir))
    print(report(figures))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
