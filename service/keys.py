"""API keys created and revoked at runtime: stored hashed in ``keys.sqlite3`` (0600) in the data
directory, each with a name, an optional expiry, optional limits (concurrent requests, requests
per minute), an optional group of accounts it may use and optional scopes (``service.key_scopes``).

A key is shown once, when it is created; the store keeps only its SHA-256 digest (keys are 256-bit
random tokens, so a plain digest cannot be brute-forced) and its first characters, to tell keys
apart in a listing. The caller a stored key authenticates has the same ``identity`` as a configured
key would (a digest of the key), so conversations stay scoped to the key that made them.

Limits are counted in memory (a restart starts every window afresh): ``admit`` raises
``RateLimited`` (429 with ``Retry-After``) before the request runs, and the returned release is
called when its response has ended, streaming ones included.

``KeyStore`` is synchronous (``sqlite3``); the gateway awaits it through ``ThreadedKeyStore``, the
async ``ApiKeyStore`` whose calls run in worker threads.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from service.auth import Caller, Release
from service.errors import InvalidRequest, RateLimited
from service.key_scopes import normalise_scopes
from service.private_sqlite import Migration, PrivateStore
from service.stores.threaded import Threaded, threaded

__all__ = [
    "KEY_PREFIX",
    "CreatedKey",
    "KeyRecord",
    "KeyStore",
    "ThreadedKeyStore",
    "check_limits",
    "key_digest",
]

KEY_PREFIX = "gw-"
# Shown in listings: enough to tell keys apart, far too little to guess the rest.
_SHOWN_CHARS = len(KEY_PREFIX) + 4
_WINDOW = 60.0
# Bounds on what a key may be given: past them a value is a typo or an attack, and an unbounded one
# overflows SQLite's INTEGER or the dashboard's date formatting.
MAX_KEY_LIFETIME = 100 * 365 * 24 * 3600.0
MAX_KEY_LIMIT = 2**31 - 1

SCHEMA = (
    Migration("""
CREATE TABLE IF NOT EXISTS api_keys (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    digest         TEXT NOT NULL UNIQUE,
    shown          TEXT NOT NULL,
    created_at     REAL NOT NULL,
    expires_at     REAL,
    max_concurrent INTEGER,
    per_minute     INTEGER,
    accounts       TEXT,
    revoked_at     REAL,
    last_used_at   REAL,
    requests       INTEGER NOT NULL DEFAULT 0
)
"""),
    # The keys of a file from before scopes get none: everything allowed.
    Migration("ALTER TABLE api_keys ADD COLUMN scopes TEXT", "api_keys.scopes"),
)
_COLUMNS = (
    "id, name, shown, created_at, expires_at, max_concurrent, per_minute, accounts, revoked_at, "
    "last_used_at, requests, scopes"
)


def new_key() -> tuple[str, str]:
    """A fresh secret key and its public id (the same form for every key store)."""
    return KEY_PREFIX + secrets.token_urlsafe(32), "key_" + secrets.token_hex(6)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyRecord:
    """A stored key as listings show it (never the key itself)."""

    id: str
    name: str
    shown: str
    created_at: float
    expires_at: float | None
    max_concurrent: int | None
    per_minute: int | None
    accounts: tuple[str, ...] | None
    revoked_at: float | None
    last_used_at: float | None
    requests: int
    scopes: tuple[str, ...] | None = None

    def live(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class CreatedKey:
    record: KeyRecord
    key: str = field(repr=False)


@dataclass
class _Usage:
    active: int = 0
    recent: deque[float] = field(default_factory=deque)


class KeyStore(PrivateStore):
    """``keys.sqlite3``; open with ``with KeyStore(path) as store``. Thread-safe (one lock)."""

    _what = "the key store"
    schema = SCHEMA

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(path)
        self._clock = clock
        self._usage: dict[str, _Usage] = {}

    # -- admin --

    def create(
        self,
        name: str,
        *,
        expires_at: float | None = None,
        max_concurrent: int | None = None,
        per_minute: int | None = None,
        accounts: tuple[str, ...] | None = None,
        scopes: Iterable[str] | None = None,
    ) -> CreatedKey:
        check_limits(self._clock(), expires_at, max_concurrent=max_concurrent, per_minute=per_minute)
        stored_scopes = normalise_scopes(scopes)
        key, key_id = new_key()
        with self._locked() as db:
            db.execute(
                "INSERT INTO api_keys (id, name, digest, shown, created_at, expires_at, max_concurrent, "
                "per_minute, accounts, scopes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key_id,
                    name,
                    key_digest(key),
                    key[:_SHOWN_CHARS] + "…",
                    self._clock(),
                    expires_at,
                    max_concurrent,
                    per_minute,
                    json.dumps(list(accounts)) if accounts is not None else None,
                    _scopes_text(stored_scopes),
                ),
            )
        record = self.get(key_id)
        assert record is not None
        return CreatedKey(record=record, key=key)

    def list(self) -> list[KeyRecord]:
        with self._locked() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created_at").fetchall()
        return [_record(row) for row in rows]

    def get(self, key_id: str) -> KeyRecord | None:
        with self._locked() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        return _record(row) if row else None

    def set_scopes(self, key_id: str, scopes: Iterable[str] | None) -> KeyRecord | None:
        """Replace a key's scopes (None or empty: no scopes, everything allowed); the next request
        with the key is judged by them. None for an unknown id."""
        stored = normalise_scopes(scopes)
        with self._locked() as db:
            db.execute("UPDATE api_keys SET scopes = ? WHERE id = ?", (_scopes_text(stored), key_id))
        return self.get(key_id)

    def revoke(self, key_id: str) -> KeyRecord | None:
        """Revoke (kept for the listing; it authenticates no more). None for an unknown id."""
        with self._locked() as db:
            db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (self._clock(), key_id),
            )
        return self.get(key_id)

    # -- the gate --

    def lookup(self, key: str) -> Caller | None:
        """The caller for a live stored key, or None (unknown, revoked or expired)."""
        digest = key_digest(key)
        with self._locked() as db:
            row = db.execute(
                "SELECT id, digest, expires_at, revoked_at, accounts, scopes FROM api_keys WHERE digest = ?",
                (digest,),
            ).fetchone()
        if row is None or not hmac.compare_digest(row[1], digest):
            return None
        key_id, _, expires_at, revoked_at, accounts, scopes = row
        if revoked_at is not None or (expires_at is not None and expires_at <= self._clock()):
            return None
        group = frozenset(json.loads(accounts)) if accounts is not None else None
        allowed = frozenset(json.loads(scopes)) if scopes is not None else None
        return Caller(identity=digest[:32], key_id=key_id, accounts=group, scopes=allowed)

    def admit(self, caller: Caller) -> Callable[[], None]:
        """Count one request of ``caller`` against its key's limits; ``RateLimited`` when over.
        Returns the release to call when the response has ended."""
        if caller.key_id is None:
            return _nothing
        record = self.get(caller.key_id)
        if record is None:
            return _nothing
        now = self._clock()
        with self._lock:
            usage = self._usage.setdefault(record.id, _Usage())
            while usage.recent and usage.recent[0] <= now - _WINDOW:
                usage.recent.popleft()
            if record.per_minute is not None and len(usage.recent) >= record.per_minute:
                wait = usage.recent[0] + _WINDOW - now
                raise RateLimited(
                    f"This key allows {record.per_minute} requests per minute.", retry_after=wait
                )
            if record.max_concurrent is not None and usage.active >= record.max_concurrent:
                raise RateLimited(
                    f"This key allows {record.max_concurrent} concurrent requests.", retry_after=1.0
                )
            usage.active += 1
            usage.recent.append(now)
        with self._locked() as db:
            db.execute(
                "UPDATE api_keys SET requests = requests + 1, last_used_at = ? WHERE id = ?", (now, record.id)
            )
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if not released:
                    released = True
                    usage.active -= 1

        return release

    def active(self, key_id: str) -> int:
        """Requests of this key running now."""
        with self._lock:
            usage = self._usage.get(key_id)
            return usage.active if usage else 0


class ThreadedKeyStore(Threaded[KeyStore]):
    """``KeyStore`` as the async ``ApiKeyStore``: each call in a worker thread."""

    open = threaded(KeyStore.open)
    close = threaded(KeyStore.close)
    create = threaded(KeyStore.create)
    list = threaded(KeyStore.list)
    get = threaded(KeyStore.get)
    set_scopes = threaded(KeyStore.set_scopes)
    revoke = threaded(KeyStore.revoke)
    lookup = threaded(KeyStore.lookup)
    active = threaded(KeyStore.active)

    async def admit(self, caller: Caller) -> Release:
        release = await asyncio.to_thread(self.sync.admit, caller)

        async def done() -> None:
            release()  # an in-memory counter under a lock: no I/O to wait on

        return done


def check_limits(now: float, expires_at: float | None, **limits: int | None) -> None:
    """Refuse an expiry or a limit out of bounds (either backend's ``create``)."""
    if expires_at is not None and not expires_at <= now + MAX_KEY_LIFETIME:  # NaN too
        raise InvalidRequest("A key expires within 100 years.", param="expires_in")
    for name, value in limits.items():
        if value is not None and not 1 <= value <= MAX_KEY_LIMIT:
            raise InvalidRequest(f"{name} must be between 1 and {MAX_KEY_LIMIT}.", param=name)


def _nothing() -> None:
    return None


def _scopes_text(scopes: tuple[str, ...] | None) -> str | None:
    return json.dumps(list(scopes)) if scopes else None


def _record(row: tuple[object, ...]) -> KeyRecord:
    key_id, name, shown, created, expires, concurrent, per_minute, accounts, revoked, used = row[:10]
    requests, scopes = row[10:]
    return KeyRecord(
        id=str(key_id),
        name=str(name),
        shown=str(shown),
        created_at=float(created),  # type: ignore[arg-type]
        expires_at=_float(expires),
        max_concurrent=_int(concurrent),
        per_minute=_int(per_minute),
        accounts=tuple(json.loads(str(accounts))) if accounts is not None else None,
        revoked_at=_float(revoked),
        last_used_at=_float(used),
        requests=int(requests),  # type: ignore[call-overload]
        scopes=tuple(json.loads(str(scopes))) if scopes is not None else None,
    )


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int) else None
