"""Both state backends for the store tests: the ``state_backend`` fixture is parametrized over
``sqlite`` (files in ``tmp_path``, fast tier) and ``redis`` (the real server of
``tests/support/redis.py``, marked subprocess). A test opens the stores it needs with
``await state_backend.replica(name)``; two replicas on one backend share it (on SQLite: the same files)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis

from service.stores.backends import Stores, open_stores
from service.stores.config import StateBackend, StateSettings

__all__ = ["BACKENDS", "SharedState", "everything_in", "state_backend"]

BACKENDS = [
    pytest.param(StateBackend.SQLITE, id="sqlite"),
    pytest.param(StateBackend.REDIS, id="redis", marks=pytest.mark.subprocess),
]


@dataclass
class SharedState:
    """One shared state: ``replica()`` opens the stores as another replica would."""

    kind: StateBackend
    data_dir: Path
    url: str | None
    encryption_key: str | None = None
    _opened: list[Stores] = field(default_factory=list)

    @property
    def settings(self) -> StateSettings:
        return StateSettings(backend=self.kind, redis_url=self.url, encryption_key=self.encryption_key)

    @property
    def media(self) -> dict[str, Any]:
        """Media settings a gateway on this state may run with: replicas on Redis need a directory
        (or bucket) they all see, so every backend gets one beside the data."""
        return {"shared_dir": self.data_dir / "shared-media"}

    async def replica(self, name: str = "a", **options: Any) -> Stores:
        """The stores as replica ``name`` opens them (``options``: ``open_stores``'s ttl, clock), on
        the test's loop."""
        where = self.data_dir / name if self.kind is StateBackend.REDIS else self.data_dir
        stores = await open_stores(self.settings, where, **options)
        self._opened.append(stores)
        return stores

    def raw(self) -> redis.Redis:
        assert self.url is not None
        return redis.Redis.from_url(self.url, decode_responses=True)

    async def close(self) -> None:
        for stores in reversed(self._opened):
            await stores.aclose()


@pytest.fixture(params=BACKENDS)
async def state_backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SharedState]:
    kind = request.param
    url = request.getfixturevalue("redis_url") if kind is StateBackend.REDIS else None
    state = SharedState(kind, tmp_path, url)
    try:
        yield state
    finally:
        await state.close()


def everything_in(client: redis.Redis) -> str:
    """Every key and value under ``gateway:``, as text (to look for what must not be there)."""
    readers = {
        "string": lambda key: [client.get(key)],
        "hash": lambda key: [*client.hgetall(key).items()],
        "list": lambda key: client.lrange(key, 0, -1),
        "set": lambda key: [*client.smembers(key)],
        "zset": lambda key: client.zrange(key, 0, -1),
    }
    parts = []
    for key in client.scan_iter("gateway:*"):
        parts.append(str(key))
        parts.extend(str(value) for value in readers[str(client.type(key))](key))
    return "\n".join(parts)
