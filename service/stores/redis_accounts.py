"""Accounts added at runtime, in Redis (``service.admin.registry`` on SQLite is the other backend):
one hash ``gateway:accounts:added``, account id -> its session digest, when it was added and its
spec, which holds the cookies and any proxy password and so is sealed with ``state.encryption_key``
when one is set (``Sealer``).

Beside it, ``gateway:accounts:removed``: the configured accounts removed through the admin API
(tombstones, account id -> a mark of the configuration it was removed under; see
``service.cluster.removals``). Adding an account puts it back: ``put`` deletes its tombstone in the
same transaction."""

from __future__ import annotations

import json
import time

import redis.asyncio as aioredis
from redis.exceptions import WatchError

from browser import AccountSpec
from service.admin.registry import AddedAccount, spec_from_payload, spec_payload
from service.stores.redis_base import AsyncRedisStore, Sealer, text_map

__all__ = ["RedisAddedAccounts"]


class RedisAddedAccounts(AsyncRedisStore):
    store = "accounts"
    _what = "the account registry"

    def __init__(self, client: aioredis.Redis, sealer: Sealer) -> None:
        super().__init__(client)
        self._sealer = sealer

    async def put(self, account_id: str, session: str, spec: AccountSpec) -> None:
        await self.put_payload(account_id, session, spec_payload(spec), None)

    async def put_payload(self, account_id: str, session: str, payload: str, added_at: float | None) -> None:
        """Store one account as the SQLite row holds it (``put``, and the migration); a re-put keeps
        the first ``added_at``, as the SQLite store does."""
        key = self.key("added")
        async with self.redis.pipeline() as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    old = await pipe.hget(key, account_id)
                    first = json.loads(old)["added_at"] if old is not None else None
                    entry = {
                        "session": session,
                        "added_at": first if first is not None else (added_at or time.time()),
                        "spec": self._sealer.seal(payload),
                    }
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.hset(key, account_id, json.dumps(entry))
                    pipe.hdel(self.key("removed"), account_id)  # added again: no longer removed
                    await pipe.execute()
                    return
                except WatchError:
                    continue  # another replica wrote the same account meanwhile: read it again

    async def delete(self, account_id: str) -> bool:
        return bool(await self.redis.hdel(self.key("added"), account_id))

    async def bury(self, account_id: str, mark: str) -> None:
        """Remember that the configured account was removed under the configuration ``mark``."""
        await self.redis.hset(self.key("removed"), account_id, mark)

    async def buried(self) -> dict[str, str]:
        """Every tombstone: account id -> the mark of the configuration it was removed under."""
        return text_map(await self.redis.hgetall(self.key("removed")))

    async def all(self) -> list[AddedAccount]:
        entries = text_map(await self.redis.hgetall(self.key("added")))
        accounts = []
        for account_id, text in sorted(entries.items()):
            entry = json.loads(text)
            accounts.append(
                AddedAccount(
                    id=account_id,
                    session=entry["session"],
                    spec=spec_from_payload(self._sealer.open(entry["spec"])),
                    added_at=float(entry["added_at"]),
                )
            )
        return accounts
