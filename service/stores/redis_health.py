"""Each account's session record and cooldown in Redis, shared by the replicas (issue 20): the
browser pool's ``SharedHealthStore`` when ``state.backend`` is ``redis``, so that a replica adopting
an account starts it as its previous owner left it: cooling until a usage limit's reset, blocked
until a captcha's backoff ends, with the same sign-in method, session age, last rotation and
reason a person is needed.

Two keys per account, JSON:

* ``gateway:health:session:<account id>``: the ``SessionRecord`` (the session is a digest of its
  ``__Secure-1PSID``, never the value); kept until the account is removed for good;
* ``gateway:health:cooldown:<account id>``: the ``Cooldown`` (UNIX times of the writing replica),
  expiring when its last part ends, deleted when nothing holds the account back any more.

Nothing here is secret, so nothing is sealed. As with the shared cookies (``RedisCookies``), only
the account's owner writes, and Redis checks it: every write is ``LeaseBook.guarded_set`` under the
lease this replica holds, so a stale owner (its lease passed on) never overwrites the new owner's
state; a replica holding no lease on the account writes nothing.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict

import redis.asyncio as aioredis

from browser import Cooldown, SessionRecord
from service.cluster.lease import LeaseBook
from service.stores.redis_base import AsyncRedisStore, text
from service.stores.redis_cookies import LeaseOf

__all__ = ["RedisHealth"]

log = logging.getLogger(__name__)


class RedisHealth(AsyncRedisStore):
    """The shared session records and cooldowns; writes fenced by this replica's leases (``bind``,
    as ``RedisCookies``)."""

    store = "health"
    _what = "the shared account health"

    def __init__(self, client: aioredis.Redis) -> None:
        super().__init__(client)
        self._book: LeaseBook | None = None
        self._lease_of: LeaseOf = lambda _account_id: None

    def bind(self, book: LeaseBook, lease_of: LeaseOf) -> None:
        self._book, self._lease_of = book, lease_of

    async def _write(
        self, account_id: str, what: str, value: str | None, expire_in: float | None = None
    ) -> bool:
        lease = self._lease_of(account_id)
        if self._book is None or lease is None:
            log.warning("%s of %s not shared: this replica holds no lease on the account", what, account_id)
            return False
        if await self._book.guarded_set(lease, self.key(what, account_id), value, expire_in=expire_in):
            return True
        log.warning(
            "%s of %s not shared: the lease of replica %s (token %d) passed to another replica",
            what,
            account_id,
            lease.owner,
            lease.token,
        )
        return False

    async def save_session(self, account_id: str, record: SessionRecord) -> None:
        await self._write(account_id, "session", json.dumps(asdict(record)))

    async def load_session(self, account_id: str) -> SessionRecord | None:
        stored = await self.redis.get(self.key("session", account_id))
        if stored is None:
            return None
        entry = json.loads(text(stored))
        return SessionRecord(
            signin_method=str(entry["signin_method"]),
            session=entry["session"],
            started_at=entry["started_at"],
            last_rotation_at=entry["last_rotation_at"],
            needs_person=entry["needs_person"],
            needs_since=entry["needs_since"],
        )

    async def save_cooldown(self, account_id: str, cooldown: Cooldown | None) -> None:
        ends = cooldown.ends_at() if cooldown is not None else None
        if cooldown is None or ends is None:
            await self._write(account_id, "cooldown", None)
            return
        entry = {
            "cooling_until": dict(cooldown.cooling_until),
            "blocked_until": cooldown.blocked_until,
            "reason": cooldown.reason,
        }
        # Expires with its last part (with a second's margin): nothing to clean up after.
        await self._write(account_id, "cooldown", json.dumps(entry), expire_in=ends - time.time() + 1.0)

    async def load_cooldown(self, account_id: str) -> Cooldown | None:
        stored = await self.redis.get(self.key("cooldown", account_id))
        if stored is None:
            return None
        entry = json.loads(text(stored))
        cooldown = Cooldown(
            cooling_until={str(quota): float(until) for quota, until in entry["cooling_until"].items()},
            blocked_until=entry["blocked_until"],
            reason=entry["reason"],
        )
        return cooldown.current(time.time())

    async def delete(self, account_id: str) -> None:
        """The account was removed for good (the admin API): from whichever replica, unfenced."""
        await self.redis.delete(self.key("session", account_id), self.key("cooldown", account_id))

    def __repr__(self) -> str:
        return "RedisHealth()"
