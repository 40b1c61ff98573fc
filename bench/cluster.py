"""``python -m bench.cluster [--seconds S] [--clients N] [--lease-ttl S] [--out PATH] [--smoke]``:
gateway replicas on one Redis (issue 20).

- **throughput**: the same ``ACCOUNTS`` accounts shared out by 1, 2 and 3 replicas (each a
  ``python -m service serve`` process with its real pool on Chromium; the simulator as Google);
  ``--clients`` clients stream new chats back to back for ``--seconds``, spread over the replicas in
  turn as a load balancer would: answers per second, TTFT p50/p95.
- **failover**: three replicas; one is killed with SIGKILL (its process group), and the time is taken
  until its account is signed in on another replica, then until a request limited to that account
  is answered there. The lease TTL (``--lease-ttl``, the product's default 15 s) bounds most of it.

Figures are printed and written (default ``bench/results/cluster.json``), never compared with goals.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench import servers
from bench.load import Outcome, figures, load_client, streamed
from bench.measure import new_psid

__all__ = ["failover", "main", "report", "throughput"]

ACCOUNTS = 3
REPLICA_COUNTS = (1, 2, 3)
FIRST_TOKEN_DELAY = 0.5
FRAME_INTERVAL = 0.05
ADMIN_KEY = "adm-bench-cluster"
START_TIMEOUT = 240.0  # replicas started together on a shared machine sign their accounts in
SETTLE_TIMEOUT = 120.0  # bound of every wait for the accounts to be shared out or adopted
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "cluster.json"
_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Replica:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def local_ready(self) -> set[str]:
        """The accounts this replica drives and has signed in (its own rows of the admin list)."""
        with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
            response = httpx.get(
                f"{self.url}/admin/accounts",
                headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                timeout=10,
                trust_env=False,
            )
            if response.status_code == 200:
                rows = response.json()["data"]
                return {r["id"] for r in rows if r["reported_at"] is None and r["state"] == "ready"}
        return set()

    def kill(self) -> None:
        """kill -9 of its process group (the serving process and Playwright's driver)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def _flush(redis_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.flushall()
    finally:
        client.close()


def _wait(condition: Any, what: str, bound: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited ({process.returncode})")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {bound:.0f} s waiting until {what}")
        time.sleep(0.1)


def _start(
    workdir: Path, name: str, sim_url: str, redis_url: str, psids: list[str], lease_ttl: float
) -> Replica:
    directory = workdir / name
    directory.mkdir(parents=True)
    config = {
        "data_dir": str(directory / "data"),
        "api_keys": [servers.API_KEY],
        "admin_keys": [ADMIN_KEY],
        "browser": {"gemini_url": sim_url},
        "accounts": [{"name": f"bench-{i}", "psid": psid} for i, psid in enumerate(psids, 1)],
        "state": {"backend": "redis", "redis_url": redis_url},
        "cluster": {"replica_id": name, "lease_ttl": lease_ttl},
        "media": {"shared_dir": str(workdir / "media")},
    }
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SIM_"))}
    env.update(
        GEMINI_GATEWAY_SUPERVISED="1", GATEWAY_CONFIG=str(directory / "config.json"), PYTHONPATH=str(_ROOT)
    )
    port = servers.free_port()
    with (directory / "gateway.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--port", str(port)],
            cwd=_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: ``kill`` takes Playwright's driver with it
        )
    return Replica(name, f"http://localhost:{port}", process)


def _serves(replica: Replica) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{replica.url}/healthz", timeout=2, trust_env=False).status_code == 200
    return False


@contextlib.contextmanager
def replicas(
    workdir: Path, sim_url: str, redis_url: str, count: int, psids: list[str], lease_ttl: float
) -> Iterator[list[Replica]]:
    """``count`` replicas started together on an empty Redis; yielded once every account is signed in
    on exactly one of them and each holds its fair share (the first to start takes every account,
    then hands the others theirs at its next round). Each is stopped (SIGTERM, then SIGKILL) on exit."""
    _flush(redis_url)
    started: list[Replica] = []
    try:
        for index in range(count):
            started.append(_start(workdir, f"r{count}-{index}", sim_url, redis_url, psids, lease_ttl))
        for replica in started:
            _wait(
                lambda replica=replica: _serves(replica),
                f"{replica.name} serves",
                START_TIMEOUT,
                replica.process,
            )

        def shared_out() -> bool:
            held = [replica.local_ready() for replica in started]
            share = math.ceil(len(psids) / count)  # every replica its fair share, none more
            once = sum(map(len, held)) == len(psids) == len(set().union(*held))
            return once and all(len(mine) <= share for mine in held)

        _wait(shared_out, "every account is signed in on exactly one replica", SETTLE_TIMEOUT)
        yield started
    finally:
        for replica in started:
            if replica.process.poll() is None:
                replica.process.terminate()
        for replica in started:
            try:
                replica.process.wait(30)
            except subprocess.TimeoutExpired:
                replica.kill()


async def _spread(urls: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` loops, client ``i`` on replica ``i mod len(urls)``, each sending its next request as
    soon as the last one ended, until ``seconds`` have passed."""
    outcomes: list[Outcome] = []
    started = time.monotonic()
    deadline = started + seconds

    async def client(index: int, http: httpx.AsyncClient) -> None:
        turn = 0
        while time.monotonic() < deadline:
            turn += 1
            outcomes.append(await streamed(http, f"Cluster [c{index}-{turn}]: one short answer."))

    https = [load_client(url, clients) for url in urls]
    try:
        await asyncio.gather(*(client(index, https[index % len(https)]) for index in range(clients)))
    finally:
        for http in https:
            await http.aclose()
    return figures(outcomes, time.monotonic() - started)


async def throughput(
    workdir: Path,
    sim_url: str,
    redis_url: str,
    *,
    seconds: float,
    clients: int,
    counts: tuple[int, ...] = REPLICA_COUNTS,
    accounts: int = ACCOUNTS,
) -> list[dict[str, Any]]:
    psids = [new_psid() for _ in range(accounts)]
    rows: list[dict[str, Any]] = []
    for count in counts:
        with replicas(
            workdir / f"throughput-{count}", sim_url, redis_url, count, psids, lease_ttl=15.0
        ) as group:
            row = {"replicas": count, "accounts": accounts, "clients": clients}
            row.update(await _spread([replica.url for replica in group], clients, seconds))
        print(f"throughput: {row}", flush=True)
        rows.append(row)
    return rows


def _answers(url: str, key: str) -> bool:
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "Failover: are you back?"}]}
    with contextlib.suppress(httpx.HTTPError):
        response = httpx.post(
            f"{url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
            trust_env=False,
        )
        return response.status_code == 200
    return False


def failover(
    workdir: Path, sim_url: str, redis_url: str, *, lease_ttl: float, count: int = 3, accounts: int = ACCOUNTS
) -> dict[str, Any]:
    """Seconds from the kill -9 of one replica until its account is signed in on another, and until
    a request limited to that account is answered there."""
    psids = [new_psid() for _ in range(accounts)]
    with replicas(workdir / "failover", sim_url, redis_url, count, psids, lease_ttl) as group:
        victim, survivors = group[0], group[1:]
        moved = sorted(victim.local_ready())[0]
        created = httpx.post(
            f"{victim.url}/admin/keys",
            json={"name": "failover", "accounts": [moved]},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
            timeout=30,
            trust_env=False,
        )
        created.raise_for_status()
        key = created.json()["key"]
        killed = time.monotonic()
        victim.kill()
        heirs: list[Replica] = []

        def adopted() -> bool:
            heirs[:] = [replica for replica in survivors if moved in replica.local_ready()]
            return bool(heirs)

        _wait(adopted, "a live replica signs the killed replica's account in", lease_ttl + SETTLE_TIMEOUT)
        signed_in = time.monotonic()
        _wait(lambda: _answers(heirs[0].url, key), "the adopted account answers", SETTLE_TIMEOUT)
        served = time.monotonic()
    result = {
        "replicas": count,
        "accounts": accounts,
        "lease_ttl_s": lease_ttl,
        "renew_interval_s": round(lease_ttl / 3, 2),
        "signed_in_again_s": round(signed_in - killed, 2),
        "serving_again_s": round(served - killed, 2),
    }
    print(f"failover: {result}", flush=True)
    return result


def report(results: dict[str, Any]) -> str:
    """The figures as Markdown."""
    lines = [
        f"Throughput: {ACCOUNTS} accounts in all, new chats streamed back to back, the clients spread "
        "over the replicas",
        "",
        "| replicas | clients | answered | errors | answers/s | TTFT p50 | TTFT p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["throughput"]:
        ttft = row["ttft"] or {"p50_ms": float("nan"), "p95_ms": float("nan")}
        lines.append(
            f"| {row['replicas']} | {row['clients']} | {row['answered']} | {row['errors']} | "
            f"{row['throughput_per_s']} | {ttft['p50_ms']:.0f} ms | {ttft['p95_ms']:.0f} ms |"
        )
    f = results["failover"]
    lines += [
        "",
        f"Failover: kill -9 of one of {f['replicas']} replicas (lease TTL {f['lease_ttl_s']:g} s): its "
        f"account signed in on another after {f['signed_in_again_s']} s, answering after "
        f"{f['serving_again_s']} s",
    ]
    return "\n".join(lines)


async def run(
    workdir: Path,
    *,
    seconds: float,
    clients: int,
    lease_ttl: float,
    counts: tuple[int, ...] = REPLICA_COUNTS,
    first_token_delay: float = FIRST_TOKEN_DELAY,
    frame_interval: float = FRAME_INTERVAL,
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "config": {
            "first_token_delay_s": first_token_delay,
            "frame_interval_s": frame_interval,
            "seconds_per_level": seconds,
            "cpus": len(os.sched_getaffinity(0)),
            "load_average_1min_at_start": round(os.getloadavg()[0], 2),
        }
    }
    with (
        servers.simulator(workdir, first_token_delay, frame_interval) as sim,
        servers.redis_server(workdir) as redis_url,
    ):
        results["throughput"] = await throughput(
            workdir, sim.url, redis_url, seconds=seconds, clients=clients, counts=counts
        )
        results["failover"] = failover(workdir, sim.url, redis_url, lease_ttl=lease_ttl, count=max(counts))
    results["config"]["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each replica count's load")
    parser.add_argument("--clients", type=int, default=6, help="clients streaming at once")
    parser.add_argument("--lease-ttl", type=float, default=15.0, help="cluster.lease_ttl of the replicas")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--smoke", action="store_true", help="1 and 2 replicas, 2 s each, a 2 s lease: a check"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.lease_ttl = 2.0, 2.0
    counts = (1, 2) if args.smoke else REPLICA_COUNTS
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gateway-cluster-") as workdir:
        results = asyncio.run(
            run(
                Path(workdir),
                seconds=args.seconds,
                clients=args.clients,
                lease_ttl=args.lease_ttl,
                counts=counts,
            )
        )
    results["config"]["duration_s"] = round(time.monotonic() - started, 1)
    print(report(results))
    config = results["config"]
    print(
        f"\nload average {config['load_average_1min_at_start']} -> {config['load_average_1min_at_end']} "
        f"on {config['cpus']} CPUs, {config['duration_s']} s"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
