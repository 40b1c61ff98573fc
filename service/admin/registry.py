"""Accounts added through the admin API, kept in ``added_accounts.sqlite3`` (0600: it holds their
cookies) so that they come back after a restart. The pool's own store keeps each account's newest
(rotated) cookies; what is kept here is what the operator gave, which the pool replaces by its
newer copy of the same session when it re-adds the account. A profile account (signed in inside the
gateway or an imported profile: ``AccountSpec.profile``) is kept by name and sign-in method only: its
session is its profile directory. ``accounts login`` and ``accounts import-profile`` write here too
when no gateway runs, so the next start adopts the account."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from browser import AccountSpec, SigninMethod
from service.private_sqlite import Migration, PrivateStore
from service.stores.threaded import Threaded, threaded

__all__ = ["AddedAccount", "AddedAccounts", "ThreadedAddedAccounts", "spec_from_payload", "spec_payload"]

_FIRST = """
CREATE TABLE IF NOT EXISTS added_accounts (
    id       TEXT PRIMARY KEY,
    session  TEXT NOT NULL,
    spec     TEXT NOT NULL,
    added_at REAL NOT NULL
)
"""


@dataclass(frozen=True)
class AddedAccount:
    id: str
    session: str  # a digest of the session cookie, to refuse the same session twice
    spec: AccountSpec = field(repr=False)
    added_at: float


class AddedAccounts(PrivateStore):
    """Use as ``with AddedAccounts(path) as registry``."""

    _what = "the account registry"
    schema = (Migration(_FIRST),)

    def put(self, account_id: str, session: str, spec: AccountSpec) -> None:
        payload = spec_payload(spec)
        with self._lock:
            self._conn().execute(
                "INSERT INTO added_accounts (id, session, spec, added_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET session = excluded.session, spec = excluded.spec",
                (account_id, session, payload, time.time()),
            )

    def delete(self, account_id: str) -> bool:
        with self._lock:
            cursor = self._conn().execute("DELETE FROM added_accounts WHERE id = ?", (account_id,))
        return cursor.rowcount > 0

    def all(self) -> list[AddedAccount]:
        with self._lock:
            rows = self._conn().execute("SELECT id, session, spec, added_at FROM added_accounts").fetchall()
        return [
            AddedAccount(
                id=str(row[0]),
                session=str(row[1]),
                spec=spec_from_payload(row[2]),
                added_at=float(row[3]),
            )
            for row in rows
        ]


def spec_payload(spec: AccountSpec) -> str:
    """The spec as stored (JSON; it holds the cookies and the proxy: a secret)."""
    return json.dumps(
        {
            "name": spec.name,
            "psid": spec.psid,
            "psidts": spec.psidts,
            "cookies": spec.cookies,
            "cookie_file_text": spec.cookie_file_text,
            "proxy": spec.proxy,
            "signin_method": spec.signin_method.value,
        }
    )


def spec_from_payload(text: str) -> AccountSpec:
    fields: dict[str, object] = json.loads(text)
    # Rows written before sign-in methods existed have none: their cookies were imported.
    method = SigninMethod(str(fields.pop("signin_method", SigninMethod.COOKIE_IMPORT.value)))
    return AccountSpec(**fields, signin_method=method)  # type: ignore[arg-type]


class ThreadedAddedAccounts(Threaded[AddedAccounts]):
    """``AddedAccounts`` as the async ``AccountRegistry``: each call in a worker thread."""

    open = threaded(AddedAccounts.open)
    close = threaded(AddedAccounts.close)
    put = threaded(AddedAccounts.put)
    delete = threaded(AddedAccounts.delete)
    all = threaded(AddedAccounts.all)
