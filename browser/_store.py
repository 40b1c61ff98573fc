"""SQLite persistence of each account's newest cookies, in the data directory.

Each save is one transaction (WAL journal), so a kill -9 leaves either the old or the new set.
Calls run in a worker thread so the event loop never blocks on disk. The file holds session
cookies: it is created 0600 (a looser mode left by an older version is tightened), and SQLite gives
its ``-wal``/``-shm`` files the database's mode; a data directory the store creates is 0700.
Saves run in threads and may land out of order: a row is replaced only by cookies read at the same
time or later (``read_at``), so an older ``__Secure-1PSIDTS`` never wins over a newer one.

A pool may also be given a ``SharedCookieStore`` (the gateway's replicas share one in Redis): the
pool then keeps ``SharedCookies``, this file plus the shared copy. Every save goes to both; a load
takes whichever copy was read from a browser last, so a replica that adopts an account starts from
the rotated cookies of its previous owner, not from the operator's export or its own older copy.
Likewise a ``SharedHealthStore`` carries each account's session record and cooldown (``Cooldown``)
to the next pool that starts it; alone, a pool keeps its cooldowns in memory only (a restart of
the one gateway forgets them, as it always did).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from browser._cookies import Cookie
from browser._health import Cooldown, SessionRecord

log = logging.getLogger(__name__)

# Oldest first; a file written before versions existed is at 0 and every step here is idempotent
# (``IF NOT EXISTS``), so such a file takes them all. A future step is one more entry at the end.
_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS account_cookies (
    account_id TEXT PRIMARY KEY,
    cookies    TEXT NOT NULL,
    saved_at   REAL NOT NULL
)
""",
    """
CREATE TABLE IF NOT EXISTS account_sessions (
    account_id       TEXT PRIMARY KEY,
    signin_method    TEXT NOT NULL,
    session          TEXT,
    started_at       REAL,
    last_rotation_at REAL,
    needs_person     TEXT,
    needs_since      REAL
)
""",
)


def _migrate(db: sqlite3.Connection) -> None:
    if int(db.execute("PRAGMA user_version").fetchone()[0]) == len(_SCHEMA):
        return
    db.execute("BEGIN IMMEDIATE")  # one migrator at a time, also across processes
    try:
        found = int(db.execute("PRAGMA user_version").fetchone()[0])
        if found > len(_SCHEMA):
            raise RuntimeError(
                f"cookies.sqlite3 is at schema version {found}, newer than this gateway's {len(_SCHEMA)}: "
                "it was written by a newer version of the gateway"
            )
        for step in _SCHEMA[found:]:
            db.execute(step)
        db.execute(f"PRAGMA user_version = {len(_SCHEMA)}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _private_file(path: Path) -> None:
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if existing.exists():
            os.chmod(existing, 0o600)


@dataclass(frozen=True)
class StoredCookies:
    cookies: list[Cookie]
    saved_at: float


class CookieStore:
    """``cookies.sqlite3`` under ``data_dir``; one row per account."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = data_dir / "cookies.sqlite3"
        _private_file(self.path)
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            _migrate(db)
        finally:
            db.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commits on success, rolls back on error
                yield db
        finally:
            db.close()

    def save_sync(self, account_id: str, cookies: list[Cookie], *, read_at: float | None = None) -> bool:
        """Store ``cookies`` (read from the browser at ``read_at``, default now) unless the row holds
        cookies read later; True when they were stored."""
        payload = json.dumps([cookie.to_json() for cookie in cookies])
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO account_cookies (account_id, cookies, saved_at) VALUES (?, ?, ?) "
                "ON CONFLICT(account_id) DO UPDATE SET "
                "cookies = excluded.cookies, saved_at = excluded.saved_at "
                "WHERE excluded.saved_at >= account_cookies.saved_at",
                (account_id, payload, time.time() if read_at is None else read_at),
            )
            return cursor.rowcount > 0

    def load_sync(self, account_id: str) -> StoredCookies | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT cookies, saved_at FROM account_cookies WHERE account_id = ?", (account_id,)
            ).fetchone()
        if row is None:
            return None
        cookies = [Cookie.from_json(item) for item in json.loads(row[0])]
        return StoredCookies(cookies=cookies, saved_at=float(row[1]))

    def delete_sync(self, account_id: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM account_cookies WHERE account_id = ?", (account_id,))
            db.execute("DELETE FROM account_sessions WHERE account_id = ?", (account_id,))

    def save_session_sync(self, account_id: str, record: SessionRecord) -> None:
        with self._connect() as db:
            db.execute(
                "INSERT INTO account_sessions "
                "(account_id, signin_method, session, started_at, last_rotation_at, needs_person, "
                "needs_since) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(account_id) DO UPDATE SET signin_method = excluded.signin_method, "
                "session = excluded.session, started_at = excluded.started_at, "
                "last_rotation_at = excluded.last_rotation_at, needs_person = excluded.needs_person, "
                "needs_since = excluded.needs_since",
                (
                    account_id,
                    record.signin_method,
                    record.session,
                    record.started_at,
                    record.last_rotation_at,
                    record.needs_person,
                    record.needs_since,
                ),
            )

    def load_session_sync(self, account_id: str) -> SessionRecord | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT signin_method, session, started_at, last_rotation_at, needs_person, needs_since "
                "FROM account_sessions "
                "WHERE account_id = ?",
                (account_id,),
            ).fetchone()
        if row is None:
            return None
        return SessionRecord(
            signin_method=str(row[0]),
            session=row[1],
            started_at=row[2],
            last_rotation_at=row[3],
            needs_person=row[4],
            needs_since=row[5],
        )

    async def save_session(self, account_id: str, record: SessionRecord) -> None:
        await asyncio.to_thread(self.save_session_sync, account_id, record)

    async def load_session(self, account_id: str) -> SessionRecord | None:
        return await asyncio.to_thread(self.load_session_sync, account_id)

    async def save(self, account_id: str, cookies: list[Cookie], *, read_at: float | None = None) -> bool:
        return await asyncio.to_thread(self.save_sync, account_id, cookies, read_at=read_at)

    async def load(self, account_id: str) -> StoredCookies | None:
        return await asyncio.to_thread(self.load_sync, account_id)

    async def delete(self, account_id: str) -> None:
        await asyncio.to_thread(self.delete_sync, account_id)

    async def save_cooldown(self, account_id: str, cooldown: Cooldown | None) -> None:
        """A lone pool holds its accounts' cooldowns in memory (``Account``): nothing to share."""

    async def load_cooldown(self, account_id: str) -> Cooldown | None:
        """None: a lone pool's account starts with no cooldown, as it always did."""
        return None


class SharedCookieStore(Protocol):
    """Cookies shared beyond this pool (the service implements it, e.g. over Redis). ``save`` says
    whether the copy was written: an implementation may refuse (this process no longer owns the
    account); it logs why, never the values."""

    async def save(self, account_id: str, cookies: list[Cookie], *, read_at: float) -> bool: ...

    async def load(self, account_id: str) -> StoredCookies | None: ...

    async def delete(self, account_id: str) -> None: ...


class SharedHealthStore(Protocol):
    """Accounts' session records and cooldowns shared beyond this pool (the service implements it,
    e.g. over Redis): the next pool to start an account starts it with them. ``save_cooldown(None)``
    says nothing holds the account back any more. Like ``SharedCookieStore``, an implementation
    may refuse a write (this process no longer owns the account) and logs why."""

    async def save_session(self, account_id: str, record: SessionRecord) -> None: ...

    async def load_session(self, account_id: str) -> SessionRecord | None: ...

    async def save_cooldown(self, account_id: str, cooldown: Cooldown | None) -> None: ...

    async def load_cooldown(self, account_id: str) -> Cooldown | None: ...

    async def delete(self, account_id: str) -> None: ...


class SharedCookies(CookieStore):
    """``cookies.sqlite3`` plus a ``SharedCookieStore`` and a ``SharedHealthStore`` (either may be
    None): cookie saves go to both copies, a load takes the copy read last (``saved_at`` is when it
    was read from a browser). Session records go to both too; a load takes the shared one, which
    the account's owner writes on every change (the local one may be from long ago, when this pool
    last drove the account). Cooldowns are shared only. A failing shared store never fails a save
    or a start: the local copy serves, and the failure is logged by its type only (a message may
    quote a value)."""

    def __init__(
        self, data_dir: Path, shared: SharedCookieStore | None, health: SharedHealthStore | None = None
    ) -> None:
        super().__init__(data_dir)
        self.shared = shared
        self.health = health

    async def save(self, account_id: str, cookies: list[Cookie], *, read_at: float | None = None) -> bool:
        read_at = time.time() if read_at is None else read_at
        stored = await super().save(account_id, cookies, read_at=read_at)
        if not stored:
            return False  # a later read is stored already, and was shared then: never older over it
        if self.shared is None:
            return stored
        try:
            await self.shared.save(account_id, cookies, read_at=read_at)
        except Exception as error:
            log.warning("cookies of %s not shared (%s)", account_id, type(error).__name__)
        return stored

    async def load(self, account_id: str) -> StoredCookies | None:
        local = await super().load(account_id)
        if self.shared is None:
            return local
        try:
            shared = await self.shared.load(account_id)
        except Exception as error:
            log.warning(
                "shared cookies of %s not read (%s): the local copy serves", account_id, type(error).__name__
            )
            return local
        if shared is None or (local is not None and local.saved_at >= shared.saved_at):
            return local
        return shared

    async def delete(self, account_id: str) -> None:
        await super().delete(account_id)
        if self.shared is not None:
            try:
                await self.shared.delete(account_id)
            except Exception as error:
                log.warning("shared cookies of %s not deleted (%s)", account_id, type(error).__name__)
        if self.health is not None:
            try:
                await self.health.delete(account_id)
            except Exception as error:
                log.warning("shared health of %s not deleted (%s)", account_id, type(error).__name__)

    async def save_session(self, account_id: str, record: SessionRecord) -> None:
        await super().save_session(account_id, record)
        if self.health is not None:
            try:
                await self.health.save_session(account_id, record)
            except Exception as error:
                log.warning("session record of %s not shared (%s)", account_id, type(error).__name__)

    async def load_session(self, account_id: str) -> SessionRecord | None:
        local = await super().load_session(account_id)
        if self.health is None:
            return local
        try:
            shared = await self.health.load_session(account_id)
        except Exception as error:
            log.warning(
                "shared session record of %s not read (%s): the local one serves",
                account_id,
                type(error).__name__,
            )
            return local
        return shared if shared is not None else local

    async def save_cooldown(self, account_id: str, cooldown: Cooldown | None) -> None:
        if self.health is None:
            return
        try:
            await self.health.save_cooldown(account_id, cooldown)
        except Exception as error:
            log.warning("cooldown of %s not shared (%s)", account_id, type(error).__name__)

    async def load_cooldown(self, account_id: str) -> Cooldown | None:
        if self.health is None:
            return None
        try:
            return await self.health.load_cooldown(account_id)
        except Exception as error:
            log.warning("shared cooldown of %s not read (%s)", account_id, type(error).__name__)
            return None
