"""Gateway replicas as separate OS processes (``python -m service serve``) on one Redis, so a test can
kill one with SIGKILL as a crash, an OOM kill or ``docker kill`` would; and what the failover tests
read of them: the accounts each drives, the Redis content that must survive, and the simulator's
request log, which says whether two browsers ever drove one account at once.

Each replica runs in a process group of its own (``killpg`` is kill -9 of the serving process and
Playwright's driver; Chromium exits with its driver's pipe). ``Replicas`` stops every replica it
started at the end, gently first."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from tests.support import polling
from tests.support.servers import free_port

__all__ = [
    "ADMIN_KEY",
    "API_KEY",
    "Replica",
    "Replicas",
    "overlaps",
    "redis_content",
]

API_KEY = "sk-failover-key"
ADMIN_KEY = "adm-failover-key"
_ROOT = Path(__file__).resolve().parents[2]
_STOP = 30.0  # a replica hands its accounts back and closes Chromium within this


@dataclass
class Replica:
    """One ``python -m service serve`` on ``config`` (its own data directory and replica id)."""

    name: str
    directory: Path
    config: dict[str, Any]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "gateway.log"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        config_path = self.directory / "config.json"
        config_path.write_text(json.dumps(self.config), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEWAY_", "SIM_"))}
        # The serving process itself (no supervisor between), so its pid is the group to kill.
        env.update(GEMINI_GATEWAY_SUPERVISED="1", GATEWAY_CONFIG=str(config_path), PYTHONPATH=str(_ROOT))
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service", "serve", "--port", str(self.port)],
                cwd=_ROOT,
                env=env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def up(self) -> bool:
        """Serving (``/healthz``); fails the wait at once if the process exited."""
        assert self.alive(), f"replica {self.name} exited; see {self.log}"
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        return httpx.request(method, f"{self.url}/admin{path}", headers=headers, timeout=30, **kwargs)

    def local(self) -> dict[str, dict[str, Any]]:
        """The accounts this replica drives (the admin list's rows it did not read from another's
        report), by id; empty when it does not answer."""
        try:
            response = self.admin("GET", "/accounts")
        except httpx.HTTPError:
            return {}
        if response.status_code != 200:
            return {}
        return {row["id"]: row for row in response.json()["data"] if row["reported_at"] is None}

    def ready_accounts(self) -> set[str]:
        return {account_id for account_id, row in self.local().items() if row["state"] == "ready"}

    def kill(self) -> None:
        """kill -9 of the replica's process group."""
        if self.alive():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM (the accounts handed back, Chromium closed), SIGKILL if it does not end."""
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(_STOP)
        except subprocess.TimeoutExpired:
            self.kill()

    def failed_rounds(self) -> int:
        """How many ownership rounds failed on a Redis error so far (its log's warnings)."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return 0
        return text.count(f"cluster round of {self.name} failed")


class Replicas:
    """The replicas of one test, on ``redis_url`` and the simulator, sharing ``accounts``."""

    def __init__(
        self, root: Path, sim_url: str, redis_url: str, accounts: list[dict[str, str]], **cluster: float
    ) -> None:
        self.root, self.sim_url, self.redis_url, self.accounts = root, sim_url, redis_url, accounts
        self.cluster = cluster
        self.started: list[Replica] = []

    def start(self, *names: str) -> list[Replica]:
        """Start the replicas together and wait until each serves (each started its first share)."""
        replicas = [self._replica(name) for name in names]
        for replica in replicas:
            replica.start()
            self.started.append(replica)
        for replica in replicas:
            polling.until(replica.up, f"replica {replica.name} serves", bound=120, interval=0.1)
        return replicas

    def _replica(self, name: str) -> Replica:
        config: dict[str, Any] = {
            "data_dir": str(self.root / name / "data"),
            "api_keys": [API_KEY],
            "admin_keys": [ADMIN_KEY],
            "browser": {"gemini_url": self.sim_url, "cookie_save_interval": 0.5, "queue_timeout": 60.0},
            "accounts": self.accounts,
            "state": {"backend": "redis", "redis_url": self.redis_url},
            "cluster": {"replica_id": name, **self.cluster},
            # Replicas on Redis keep media where each of them reads it (a start is refused otherwise).
            "media": {"shared_dir": str(self.root / "media")},
        }
        return Replica(name, self.root / name, config)

    def close(self) -> None:
        for replica in reversed(self.started):
            replica.stop()


def redis_content(client: redis.Redis) -> dict[str, Any]:
    """Every key of the gateway's shared state with its value, but the cluster's own bookkeeping
    (leases, heartbeats, reports: they change by design as replicas come and go)."""
    content: dict[str, Any] = {}
    for key in sorted(client.scan_iter(match="gateway:*", count=500)):
        name = key.decode() if isinstance(key, bytes) else str(key)
        if name.startswith("gateway:cluster:"):
            continue
        kind = client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else str(kind)
        value: Any
        if kind == "string":
            value = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "set":
            value = sorted(client.smembers(key))
        elif kind == "zset":
            value = client.zrange(key, 0, -1)  # the members: a score (an expiry) may move on
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        else:
            continue  # gone meanwhile
        content[name] = value
    return content


def overlaps(entries: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Pairs of StreamGenerate requests on one account from two different pages (the model header's
    client UUID, made once per page load: protocol.md F6) whose busy intervals (``time`` to
    ``ended``; one still open never ended) overlap. One page sends one turn at a time (one tab per
    account), so any pair found is two browsers driving the account at once."""
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        if entry.get("client_uuid"):
            by_account[entry["account_id"]].append(entry)
    found: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for account_id, turns in by_account.items():
        for first, second in _pairs(sorted(turns, key=lambda entry: entry["time"])):
            if first["client_uuid"] == second["client_uuid"]:
                continue
            if second["time"] < first.get("ended", float("inf")):
                found.append((account_id, first, second))
    return found


def _pairs(turns: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for index, first in enumerate(turns):
        for second in turns[index + 1 :]:
            yield first, second
