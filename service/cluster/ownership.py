"""One browser per account across the replicas of one Redis (issue 20 item 2): the ownership loop.

``AccountOwnership`` is entered by the app's lifespan (``async with``) when ``state.backend`` is
``redis``. At its start and every ``cluster.renew_interval`` it runs one round:

1. renew every lease this replica holds (``service.cluster.lease``); a lease found lost (it expired
   and another replica took it: a long pause, a partition) makes its account leave the local pool,
   one that expired untouched (Redis away past the ttl) is taken back as it was;
2. heartbeat and count the live replicas (``service.cluster.replicas``);
3. read the accounts the cluster knows: the configured ones (less those removed through the admin
   API: ``service.cluster.removals``) and the registry of added accounts;
4. hand back what is over this replica's fair share, and what was removed from the registry
   (removed from the local pool first, released after, so two pools never drive it at once);
5. acquire free accounts up to the share and start them in the local pool (not in the first round
   after a failed one: the replicas whose heartbeats lapsed meanwhile take their own back first).

Starting and stopping an account (a page load; a busy account's running turns) happen in a task
per account, outside the round, so a slow page never delays the renewals. Stopping removes the
account from the pool without forgetting it: its profile and stored cookies stay for the day it
comes back. On exit every account leaves the local pool, then every lease is released at once and
the heartbeat deleted: the other replicas adopt the accounts at their next round.

``may_use`` is the check before a turn (``service.cluster.guard``): the local view, then the lease
in Redis (``LeaseBook.valid``, or ``renew`` taking back a lease that expired untouched), so a stale
owner never starts a turn on an account it lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from types import TracebackType
from typing import Any, Self

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from browser import AccountInfo, AccountSpec, BrowserError
from service.backend import Backend
from service.cluster.config import ClusterSettings
from service.cluster.lease import Lease, LeaseBook, fair_share
from service.cluster.removals import Removals
from service.cluster.replicas import ReplicaRegistry
from service.cluster.view import ClusterView, ReplicaReport
from service.errors import NotFound, ServiceError
from service.periodic import Periodic, cancel_and_wait
from service.stores.interfaces import AccountRegistry

log = logging.getLogger(__name__)

__all__ = ["AccountOwnership", "Reporter", "SpecSource"]

SpecSource = Callable[[], AccountSpec]  # read when the account starts (a cookie file, say)
# The public fields of this replica's accounts, keyed by id (the admin layer's ``AccountOut``).
Reporter = Callable[[], Awaitable[Mapping[str, dict[str, Any]]]]


class AccountOwnership:
    """This replica's accounts: which it holds, started in ``backend`` (the local pool)."""

    def __init__(
        self,
        backend: Backend,
        registry: AccountRegistry,
        configured: Mapping[str, SpecSource],
        client: aioredis.Redis,
        settings: ClusterSettings,
        removals: Removals | None = None,
    ) -> None:
        self.backend = backend
        self.registry = registry
        self.configured = dict(configured)
        self.removals = removals  # the configured accounts removed through the admin API
        self.replica_id = settings.replica()
        self.ttl = settings.lease_ttl
        self.interval = settings.interval
        self.book = LeaseBook(client, self.replica_id, ttl=settings.lease_ttl)
        self.replicas = ReplicaRegistry(client, self.replica_id, ttl=settings.lease_ttl)
        self.view = ClusterView(client, self.replica_id, ttl=settings.lease_ttl)
        self.started_at = time.time()
        # Published with every report: where the other replicas forward what lives here.
        self.internal_url = str(settings.internal_url).rstrip("/") if settings.internal_url else None
        # Set by the app once its admin layer runs: what each round publishes of the accounts held.
        self.reporter: Reporter | None = None
        self.held: dict[str, Lease] = {}
        self.live: list[str] = []  # the live replicas at the last round
        self.known: frozenset[str] = frozenset()  # the accounts the cluster knew at the last round
        self._leaving: set[str] = set()  # held, on their way out of the pool, released after
        self._running: set[str] = set()  # started in the local pool by this loop
        # Adopted for the admin API, not yet in the registry (its page loads first): known meanwhile,
        # so that a round does not take it for an account removed from the registry.
        self._adding: set[str] = set()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._lock = asyncio.Lock()  # one round (or adoption) at a time
        self._stopping = False  # leaving: renew only, until every account is out of the pool
        self._loop: Periodic | None = None
        self._renewed_at = float("-inf")  # monotonic time before the last successful renewal
        # The last round failed (Redis away): the next one renews and counts the replicas but takes
        # no new account, so that replicas whose heartbeats lapsed meanwhile are counted again and
        # take their own accounts back (``LeaseBook.renew``) before anyone else may adopt them.
        self._recovering = False

    # -- lifecycle --

    async def __aenter__(self) -> Self:
        await self._round()
        await self._publish()
        # The rounds renew from here on: a first share slower to start than a lease lasts (a slow
        # page) must not lose its own leases to another replica while it starts.
        # Periodic: the rounds end on its stop even when a cancellation was swallowed inside a Redis
        # call (a round that went on would renew for a replica that has stopped).
        self._loop = Periodic(self._run_round, self.interval, name=f"cluster-{self.replica_id}")
        self._loop.start()
        try:
            await self._settled()  # the first share is started before the replica serves
        except BaseException:
            await self._halt()
            raise
        log.info(
            "replica %s holds %d of %d accounts (%d live replicas)",
            self.replica_id,
            len(self.held),
            len(self.known),
            len(self.live),
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # The rounds go on renewing while the accounts leave the pool (a busy one finishes its turn
        # first, which may outlast a lease), but take or hand over nothing any more.
        self._stopping = True
        try:
            await self._settled()
            await asyncio.gather(
                *(self._remove(account_id, forget=False) for account_id in sorted(self._running))
            )
            await self._halt(keep_tasks=True)  # the rounds; the accounts' last stops run to their end
            await self._settled()  # what the last rounds found lost
        except BaseException:
            # Whatever ends the exit early (its own cancellation, a pool failing to remove an
            # account), nothing of this replica may go on afterwards: a round left running would
            # heartbeat and renew leases for a replica nobody runs. Its leases then expire.
            await self._halt()
            raise
        async with self._lock:
            # Out of the pool first, released after: no moment with two pools driving one account.
            leases, self.held = list(self.held.values()), {}
            self._leaving.clear()
            try:
                await self._hand_back(leases)
            except RedisError as error:
                log.warning(
                    "replica %s could not release its leases (%s): they expire",
                    self.replica_id,
                    type(error).__name__,
                )
        log.info("replica %s stopped: %d accounts handed back", self.replica_id, len(leases))

    async def _halt(self, *, keep_tasks: bool = False) -> None:
        """Stop the rounds (and, unless ``keep_tasks``, cancel every account's start or stop) and wait
        until each has ended, even when the caller is cancelled meanwhile."""
        loop, self._loop = self._loop, None
        try:
            if loop is not None:
                await loop.stop()
        finally:
            await cancel_and_wait([] if keep_tasks else list(self._tasks.values()))

    async def _hand_back(self, leases: list[Lease]) -> None:
        for lease in leases:
            await self.book.release(lease)
        await self.replicas.leave()
        await self.view.withdraw()  # after the heartbeat's end: no later report is written (``publish``)

    async def _run_round(self) -> None:
        """One round of the loop (every ``interval``): its failures are logged, the next one tries again."""
        try:
            await self._round()
            await self._publish()
        except RedisError as error:
            # The leases run out if this lasts: the guard then refuses turns (``may_use``).
            self._recovering = True
            log.warning("cluster round of %s failed (%s)", self.replica_id, type(error).__name__)
        except Exception as error:  # a bug or an unreadable registry: the next round tries again
            log.error("cluster round of %s failed (%s)", self.replica_id, type(error).__name__)

    async def _settled(self) -> None:
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    # -- the round --

    async def _round(self) -> None:
        async with self._lock:
            started = time.monotonic()
            specs = await self._known_specs()
            held = dict(self.held)
            lost, live = await self._renew_and_beat(held)
            self._renewed_at = started
            self._adding -= specs.keys()
            self.known, self.live = frozenset(specs) | self._adding, live
            for account_id in lost:
                self._lost(account_id, held[account_id])
            if self._stopping:
                return
            for account_id, lease in list(self.held.items()):
                if account_id not in self.known and account_id not in self._leaving:
                    log.info("account %s left the registry: replica %s stops it", account_id, self.replica_id)
                    self._hand_over(account_id, lease, forget=True)
            share = fair_share(len(self.known), len(live))
            staying = sorted(account_id for account_id in self.held if account_id not in self._leaving)
            for account_id in staying[share:]:
                log.info("replica %s hands account %s over (share %d)", self.replica_id, account_id, share)
                self._hand_over(account_id, self.held[account_id], forget=False)
            room = share - min(len(staying), share)
            recovering, self._recovering = self._recovering, False
            if room > 0 and not recovering:
                free = [account_id for account_id in sorted(specs) if account_id not in self.held]
                for lease in await self._acquire(free, room):
                    self.held[lease.resource] = lease
                    log.info("replica %s adopts account %s", self.replica_id, lease.resource)
                    self._schedule(lease.resource, self._start(lease.resource, specs[lease.resource]))

    async def report_now(self) -> None:
        """Publish this replica's report at once (the app calls it once its reporter is set, so that
        the first report the others read names its accounts' fields, not only their ids)."""
        async with self._lock:
            await self._publish()

    async def _publish(self) -> None:
        """This replica's record and its accounts' public fields, for the other replicas' admin API
        (``service.cluster.view``); what it holds but has not started yet is listed by id only."""
        if self._stopping:
            return  # withdrawn on exit
        held = sorted(self.held)
        public = await self.reporter() if self.reporter is not None else {}
        report = ReplicaReport(
            replica=self.replica_id,
            started_at=self.started_at,
            reported_at=time.time(),
            held=held,
            accounts=[public[account_id] for account_id in held if account_id in public],
            internal_url=self.internal_url,
        )
        await self.view.publish(report)

    async def _known_specs(self) -> dict[str, SpecSource]:
        hidden = await self.removals.hidden() if self.removals is not None else set()
        specs = {
            account_id: source for account_id, source in self.configured.items() if account_id not in hidden
        }
        for entry in await self.registry.all():
            # An added entry of a configured id is that account added again after its removal.
            specs[entry.id] = lambda spec=entry.spec: spec  # type: ignore[misc]
        return specs

    async def _renew_and_beat(self, held: Mapping[str, Lease]) -> tuple[list[str], list[str]]:
        lost = [account_id for account_id, lease in held.items() if await self.book.renew(lease) is None]
        return lost, await self.replicas.beat()

    async def _acquire(self, free: list[str], room: int) -> list[Lease]:
        acquired: list[Lease] = []
        for account_id in free:
            if len(acquired) >= room:
                break
            lease = await self.book.acquire(account_id)
            if lease is not None:
                acquired.append(lease)
        return acquired

    def _lost(self, account_id: str, lease: Lease) -> None:
        if self.held.get(account_id) != lease:
            return
        del self.held[account_id]
        self._leaving.discard(account_id)
        log.warning(
            "replica %s lost account %s to another replica: it stops using it", self.replica_id, account_id
        )
        self._schedule(account_id, self._stop(account_id, None, forget=False))

    def _hand_over(self, account_id: str, lease: Lease, *, forget: bool) -> None:
        self._leaving.add(account_id)
        self._schedule(account_id, self._stop(account_id, lease, forget=forget))

    # -- per-account work, one task at a time per account --

    def _schedule(self, account_id: str, work: Coroutine[Any, Any, None]) -> None:
        before = self._tasks.get(account_id)

        async def after() -> None:
            try:
                if before is not None:
                    await asyncio.wait([before])
            except BaseException:
                work.close()  # cancelled before its turn came: it never runs
                raise
            await work

        task = asyncio.create_task(after(), name=f"cluster-{self.replica_id}-{account_id}")
        self._tasks[account_id] = task
        task.add_done_callback(lambda done: self._done(account_id, done))

    def _done(self, account_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(account_id) is task:
            del self._tasks[account_id]
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("cluster work on account %s failed (%s)", account_id, type(error).__name__)

    async def _start(self, account_id: str, source: SpecSource) -> None:
        if self.held.get(account_id) is None or account_id in self._leaving or self._stopping:
            return  # lost or handed over before its turn to start came, or the replica stops
        self._running.add(account_id)
        try:
            spec = await asyncio.to_thread(source)
            info = await self.backend.add_account(spec)
        except (ServiceError, BrowserError, OSError) as error:
            # Kept held: another replica would fail the same way; the operator sees it in the logs.
            log.error("account %s was not started (%s)", account_id, type(error).__name__)
            if account_id not in {info.id for info in self.backend.accounts()}:
                self._running.discard(account_id)
            return
        log.info("account %s started on replica %s: %s", info.id, self.replica_id, info.state.value)

    async def _stop(self, account_id: str, lease: Lease | None, *, forget: bool) -> None:
        await self._remove(account_id, forget=forget)
        if lease is None:
            return
        try:
            await self.book.release(lease)
        except RedisError as error:
            log.warning("account %s: lease not released (%s), it expires", account_id, type(error).__name__)
        if self.held.get(account_id) == lease:
            del self.held[account_id]
        self._leaving.discard(account_id)

    async def _remove(self, account_id: str, *, forget: bool) -> None:
        if account_id not in self._running:
            return
        self._running.discard(account_id)
        with contextlib.suppress(NotFound):
            await self.backend.remove_account(account_id, forget=forget)
        log.info("account %s left the pool of replica %s", account_id, self.replica_id)

    # -- what the rest of the service asks --

    def owner(self, account_id: str) -> str | None:
        """This replica's id if it holds ``account_id`` (None: not held here)."""
        return self.replica_id if account_id in self.held else None

    def lease(self, account_id: str) -> Lease | None:
        """The lease this replica holds on ``account_id`` (its writes of the account's cookies are
        fenced by it), as far as this replica knows: Redis refuses it if it passed on meanwhile."""
        return self.held.get(account_id)

    def guards(self, account_id: str) -> bool:
        """Whether the account is the cluster's to share (configured, added, or held); an account a
        pool brings by itself is not (a test's fixed pool, say)."""
        return account_id in self.known or account_id in self.held

    async def may_use(self, account_id: str) -> bool:
        """Whether a turn may start on ``account_id`` now: held, not leaving, and still the current
        lease in Redis. A lease found lost makes the account leave the pool."""
        lease = self.held.get(account_id)
        if lease is None or account_id in self._leaving:
            return False
        try:
            valid = await self._current(lease)
        except RedisError:
            # Redis does not answer: the lease surely holds until its ttl from the last renewal.
            return time.monotonic() - self._renewed_at < self.ttl
        if not valid:
            self._lost(account_id, lease)
        return valid

    async def _current(self, lease: Lease) -> bool:
        # Expired untouched (Redis was away past the ttl): taken back, nobody held it meanwhile.
        return await self.book.valid(lease) or await self.book.renew(lease) is not None

    async def add(self, account_id: str, spec: AccountSpec) -> AccountInfo | None:
        """Start an account here for the admin API, under its lease taken first; None when another
        replica holds it already. The start is this account's task like any other, so a hand-over
        decided by a round while its page loads waits for the start to end."""
        async with self._lock:
            if account_id in self.held:
                return None
            lease = await self.book.acquire(account_id)
            if lease is None:
                return None
            self.held[account_id] = lease
            self._adding.add(account_id)
            self.known = self.known | {account_id}
            started: asyncio.Future[AccountInfo] = asyncio.get_running_loop().create_future()
            self._schedule(account_id, self._start_added(account_id, lease, spec, started))
        return await started

    async def _start_added(
        self, account_id: str, lease: Lease, spec: AccountSpec, started: asyncio.Future[AccountInfo]
    ) -> None:
        self._running.add(account_id)
        try:
            info = await self.backend.add_account(spec)
        except BaseException as error:
            if account_id not in {info.id for info in self.backend.accounts()}:
                self._running.discard(account_id)
            await self._give_up(account_id, lease)
            started.set_exception(error)
            return
        started.set_result(info)

    async def _give_up(self, account_id: str, lease: Lease) -> None:
        self._adding.discard(account_id)
        if self.held.get(account_id) == lease:
            del self.held[account_id]
        self._leaving.discard(account_id)
        with contextlib.suppress(RedisError):
            await self.book.release(lease)

    async def bury(self, account_id: str) -> bool:
        """A configured account is being removed through the admin API: it stays removed on every
        replica (a tombstone), so no round adopts it again once its lease is handed back. False:
        not a configured account, nothing done."""
        if self.removals is None or not await self.removals.bury(account_id):
            return False
        self.known = self.known - {account_id}
        return True

    async def forget(self, account_id: str) -> None:
        """The account was removed for good here (the admin API): hand its lease back."""
        async with self._lock:
            self._running.discard(account_id)
            self._adding.discard(account_id)
            lease = self.held.pop(account_id, None)
            self._leaving.discard(account_id)
            if lease is not None:
                with contextlib.suppress(RedisError):
                    await self.book.release(lease)
