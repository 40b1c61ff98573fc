"""What every replica of one Redis reports about itself, so that the admin API of any replica shows
every account and every replica (issue 20 item 3, the operator's view), and so that any replica
finds where to forward a request (``service.cluster.forward``: the ``internal_url`` it reports).

At each ownership round a replica writes ``gateway:cluster:view:<id>``: a JSON record of itself
(started at, this round's time, the accounts it holds, the URL other replicas reach it at) and the
public fields of the accounts it drives (what ``GET /admin/accounts`` shows: never a cookie, a
proxy's credentials or anything secret; the reporter given by the admin layer makes them). The key
expires with the lease TTL, so a replica that dies drops out of the view when its leases lapse; one
that stops deletes it at once.

Reading it is the admin API's business (``service.admin.remote``): the live replicas are the sorted
set of ``service.cluster.replicas``, their heartbeat the ``gateway:cluster:replica:<id>`` key."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from service.stores.redis_base import PREFIX, text, texts

__all__ = ["ClusterView", "ReplicaReport", "ReplicaSeen"]

_REPLICAS = f"{PREFIX}:cluster:replicas"
# KEYS: the replica's heartbeat, its view. ARGV: the report, ttl_ms. 1 written, 0 the replica left.
_PUBLISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
"""


def _view_key(replica_id: str) -> str:
    return f"{PREFIX}:cluster:view:{replica_id}"


def _beat_key(replica_id: str) -> str:
    return f"{PREFIX}:cluster:replica:{replica_id}"


@dataclass(frozen=True)
class ReplicaReport:
    """One replica's record, as of its last round."""

    replica: str
    started_at: float  # Unix time of the replica's start
    reported_at: float  # Unix time of the round that wrote it
    held: list[str]  # the accounts whose leases it holds
    accounts: list[dict[str, Any]] = field(default_factory=list)  # their public fields
    internal_url: str | None = None  # ``cluster.internal_url``: None, never forwarded to

    def dump(self) -> str:
        return json.dumps(
            {
                "replica": self.replica,
                "started_at": self.started_at,
                "reported_at": self.reported_at,
                "held": self.held,
                "accounts": self.accounts,
                "internal_url": self.internal_url,
            },
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, raw: str) -> ReplicaReport:
        data = json.loads(raw)
        return cls(
            replica=str(data["replica"]),
            started_at=float(data["started_at"]),
            reported_at=float(data["reported_at"]),
            held=[str(account_id) for account_id in data.get("held", [])],
            accounts=[dict(account) for account in data.get("accounts", [])],
            internal_url=str(data["internal_url"]) if data.get("internal_url") else None,
        )


@dataclass(frozen=True)
class ReplicaSeen:
    """A live replica as another one reads it."""

    replica: str
    heartbeat_age: float | None  # seconds since its last heartbeat (Redis's clock); None: not read
    report: ReplicaReport | None  # None: no round reported yet (it is starting)


class ClusterView:
    """The reports of the replicas of one Redis (``client`` with text replies)."""

    def __init__(self, client: aioredis.Redis, replica_id: str, *, ttl: float) -> None:
        self.redis = client
        self.replica_id = replica_id
        self.ttl_ms = max(1, int(ttl * 1000))
        self._publish = client.register_script(_PUBLISH)

    async def publish(self, report: ReplicaReport) -> bool:
        """This replica's record for the next ttl (renewed at each round); only while its heartbeat
        lives, so a round still writing while the replica leaves never outlasts its ``withdraw``."""
        keys = [_beat_key(report.replica), _view_key(report.replica)]
        return bool(await self._publish(keys=keys, args=[report.dump(), self.ttl_ms]))

    async def withdraw(self) -> None:
        """Out of the view at once (a replica that stops)."""
        await self.redis.delete(_view_key(self.replica_id))

    async def live(self) -> list[ReplicaSeen]:
        """Every live replica (this one too), by id: its heartbeat's age and its last report."""
        seconds, micros = (int(part) for part in texts(await self.redis.time()))
        now_ms = seconds * 1000 + micros // 1000
        ids = sorted(texts(await self.redis.zrangebyscore(_REPLICAS, now_ms, "+inf")))
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for replica_id in ids:
                pipe.get(_beat_key(replica_id))
                pipe.get(_view_key(replica_id))
            replies = await pipe.execute()
        seen: list[ReplicaSeen] = []
        for index, replica_id in enumerate(ids):
            beat, raw = replies[2 * index], replies[2 * index + 1]
            age = max(0.0, (now_ms - int(text(beat))) / 1000) if beat is not None else None
            seen.append(ReplicaSeen(replica_id, age, _report(raw)))
        return seen

    async def holders(self, account_ids: Iterable[str]) -> dict[str, str | None]:
        """Who holds each account's lease now (None: nobody)."""
        ids = list(account_ids)
        if not ids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            for account_id in ids:
                pipe.hget(f"{PREFIX}:cluster:lease:{account_id}", "owner")
            owners = await pipe.execute()
        pairs = zip(ids, owners, strict=True)
        return {account_id: (text(owner) if owner is not None else None) for account_id, owner in pairs}


def _report(raw: object) -> ReplicaReport | None:
    if raw is None:
        return None
    try:
        return ReplicaReport.load(text(raw))
    except (ValueError, KeyError, TypeError):
        return None  # a record this version cannot read: the replica is listed without it
