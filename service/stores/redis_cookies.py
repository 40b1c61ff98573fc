"""Each account's newest cookies in Redis, shared by the replicas (issue 20): the browser pool's
``SharedCookieStore`` when ``state.backend`` is ``redis``.

One key per account, ``gateway:cookies:<account id>``: JSON with ``read_at`` (when the cookies were
read from the browser, UNIX time of the writing replica) and the cookies, sealed with
``state.encryption_key`` when one is set (``Sealer``): they are the account's session.

Only the account's owner writes, and Redis checks it: every write is ``LeaseBook.guarded_set``
under the lease this replica holds for the account (``leases``, the ownership loop's view), which
compares the lease's fencing token with the current one in the same atomic step. A replica whose
lease passed to another (a long pause, a partition) has its write refused by Redis and logged,
never applied, so a rotation of one account is never written by two replicas. A replica that holds
no lease for the account does not write at all. Values never reach a log or an error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import redis.asyncio as aioredis

from browser import Cookie, StoredCookies
from service.cluster.lease import Lease, LeaseBook
from service.stores.redis_base import AsyncRedisStore, Sealer, text

__all__ = ["RedisCookies"]

log = logging.getLogger(__name__)

LeaseOf = Callable[[str], Lease | None]


class RedisCookies(AsyncRedisStore):
    """The shared copy of every account's cookies; writes fenced by this replica's leases.

    ``bind`` gives it the lease book and the leases held (the ownership loop is built after the
    pool); until then, and for an account whose lease this replica does not hold, a save is
    refused (False)."""

    store = "cookies"
    _what = "the shared cookies"

    def __init__(self, client: aioredis.Redis, sealer: Sealer) -> None:
        super().__init__(client)
        self._sealer = sealer
        self._book: LeaseBook | None = None
        self._lease_of: LeaseOf = lambda _account_id: None

    def bind(self, book: LeaseBook, lease_of: LeaseOf) -> None:
        self._book, self._lease_of = book, lease_of

    def _account_key(self, account_id: str) -> str:
        return self.key("account", account_id)

    async def save(self, account_id: str, cookies: list[Cookie], *, read_at: float) -> bool:
        lease = self._lease_of(account_id)
        if self._book is None or lease is None:
            log.warning("cookies of %s not shared: this replica holds no lease on the account", account_id)
            return False
        sealed = self._sealer.seal(json.dumps([cookie.to_json() for cookie in cookies]))
        value = json.dumps({"read_at": read_at, "cookies": sealed})
        if await self._book.guarded_set(lease, self._account_key(account_id), value):
            return True
        # Refused because the lease expired untouched (Redis was away past the ttl, and the round
        # that takes it back has not run yet): taken back now, the write goes through. One another
        # replica acquired meanwhile stays refused.
        if await self._book.renew(lease) is not None and await self._book.guarded_set(
            lease, self._account_key(account_id), value
        ):
            return True
        log.warning(
            "cookies of %s not shared: the lease of replica %s (token %d) passed to another replica",
            account_id,
            lease.owner,
            lease.token,
        )
        return False

    async def load(self, account_id: str) -> StoredCookies | None:
        stored = await self.redis.get(self._account_key(account_id))
        if stored is None:
            return None
        entry = json.loads(text(stored))
        cookies = [Cookie.from_json(item) for item in json.loads(self._sealer.open(entry["cookies"]))]
        return StoredCookies(cookies=cookies, saved_at=float(entry["read_at"]))

    async def delete(self, account_id: str) -> None:
        """The account was removed for good (the admin API, or the operator's configuration)."""
        await self.redis.delete(self._account_key(account_id))

    def __repr__(self) -> str:
        return f"RedisCookies(sealer={self._sealer!r})"
