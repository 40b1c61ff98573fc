"""Which replica runs what: background responses and video jobs started on one replica go on there,
and the others must neither run them twice nor leave them orphaned when that replica dies.

``Runs`` keeps a sorted set (``gateway:<store>:runs``) of run ids scored by when each run lapses.
The replica running them renews its own every ``RUN_TTL / 3`` seconds (a thread); a replica that
dies renews nothing, so its runs lapse within ``RUN_TTL`` seconds and another replica may ``adopt``
them (one Lua script each: only one adopter wins) or mark them failed.

With ``replica`` set (clustered background responses), a run's replica is kept beside it in the
hash ``gateway:<store>:runs:on`` (written and removed in the same transaction as the run), so that
another replica sends a request about the run where it runs (``service.cluster.forward``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

import redis

from service.stores.redis_base import text, texts

__all__ = ["RUN_TTL", "Runs"]

log = logging.getLogger(__name__)

RUN_TTL = 60.0

# KEYS: runs. ARGV: id, now, lapse. 1 when the run was free (absent or lapsed) and is now ours.
_ADOPT = """
local lapse = redis.call('ZSCORE', KEYS[1], ARGV[1])
if lapse and tonumber(lapse) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""


class Runs:
    """This replica's runs in ``key``; ``on_tick`` is called after each renewal (in its thread)."""

    def __init__(self, client: redis.Redis, key: str, *, on_tick: Callable[[], object] | None = None) -> None:
        self.redis = client
        self.key = key
        self._on_tick = on_tick
        self.on = f"{key}:on"  # run id -> the replica running it (when ``replica`` is set)
        self.replica: str | None = None  # this replica's id, recorded with each run it starts
        self._adopt = client.register_script(_ADOPT)
        self._mine: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._renewing, name=f"runs:{self.key}", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _renewing(self) -> None:
        while not self._stop.wait(RUN_TTL / 3):
            try:
                self.renew()
                if self._on_tick is not None:
                    self._on_tick()
            except redis.RedisError as exc:  # the next round tries again
                log.warning("could not renew the runs of %s (%s)", self.key, type(exc).__name__)

    def start(self, pipe: redis.client.Pipeline, run_id: str) -> None:
        """Queue on ``pipe`` that this replica runs ``run_id`` (call ``mine`` once it executed)."""
        pipe.zadd(self.key, {run_id: time.time() + RUN_TTL})
        if self.replica is not None:
            pipe.hset(self.on, run_id, self.replica)

    def end(self, pipe: redis.client.Pipeline, run_id: str) -> None:
        pipe.zrem(self.key, run_id)
        pipe.hdel(self.on, run_id)

    def runner(self, run_id: str) -> str | None:
        """The replica running ``run_id``, while its run has not lapsed (None: not running, not
        recorded, or its replica stopped renewing it)."""
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zscore(self.key, run_id)
            pipe.hget(self.on, run_id)
            lapse, replica = pipe.execute()
        if lapse is None or float(lapse) <= time.time() or replica is None:
            return None
        return text(replica)

    def mine(self, run_id: str, running: bool) -> None:
        with self._lock:
            if running:
                self._mine.add(run_id)
            else:
                self._mine.discard(run_id)

    def adopt(self, run_ids: Iterable[str]) -> list[str]:
        """Of ``run_ids``, those no live replica runs, now this replica's."""
        now = time.time()
        adopted = [
            run_id
            for run_id in run_ids
            if self._adopt(keys=[self.key], args=[run_id, repr(now), repr(now + RUN_TTL)])
        ]
        with self._lock:
            self._mine.update(adopted)
        return adopted

    def lapsed(self) -> list[str]:
        return texts(self.redis.zrangebyscore(self.key, "-inf", repr(time.time())))

    def forget(self, run_id: str) -> bool:
        """Drop a lapsed run (True for the one replica that dropped it)."""
        with self.redis.pipeline() as pipe:
            pipe.zrem(self.key, run_id)
            pipe.hdel(self.on, run_id)
            removed, _ = pipe.execute()
        return bool(removed)

    def renew(self) -> None:
        with self._lock:
            mine = list(self._mine)
        if mine:
            self.redis.zadd(self.key, dict.fromkeys(mine, time.time() + RUN_TTL), xx=True)
