"""Configured accounts removed through the admin API on a cluster stay removed (issue 20).

Every replica reads the configured accounts from its own settings, so removing one from a replica's
pool alone would bring it back at the next round of another. Removal therefore leaves a tombstone in
the shared registry (``RemovedAccounts``): the account's id and a mark of the configuration it was
removed under (a digest of its ``accounts`` entry: name, cookies or cookie file path, proxy; never
the values). The ownership loop leaves out a configured account whose tombstone carries the mark
of its configuration now. It comes back when it is added again through the admin API (the
registry's ``put`` deletes the tombstone) or when its configuration changes (another mark).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from service.settings import AccountConfig
from service.stores.interfaces import RemovedAccounts

__all__ = ["Removals", "config_mark"]


def config_mark(config: AccountConfig) -> str:
    """A digest of the account's configuration: another cookie, file or proxy gives another mark."""

    def reveal(value: object) -> str | None:
        secret = getattr(value, "get_secret_value", None)
        return str(secret()) if secret is not None else (None if value is None else str(value))

    fields = {name: reveal(getattr(config, name)) for name in sorted(AccountConfig.model_fields)}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:32]


class Removals:
    """The tombstones of this replica's configured accounts (``marks``: id -> ``config_mark``)."""

    def __init__(self, store: RemovedAccounts, marks: Mapping[str, str]) -> None:
        self.store = store
        self.marks = dict(marks)

    @classmethod
    def of(cls, store: RemovedAccounts, accounts: tuple[AccountConfig, ...]) -> Removals:
        return cls(store, {config.name: config_mark(config) for config in accounts})

    async def bury(self, account_id: str) -> bool:
        """Leave a tombstone if the account is configured here (False: it is not, nothing to do)."""
        mark = self.marks.get(account_id)
        if mark is None:
            return False
        await self.store.bury(account_id, mark)
        return True

    async def hidden(self) -> set[str]:
        """The configured accounts removed under the configuration they have now."""
        return {
            account_id
            for account_id, mark in (await self.store.buried()).items()
            if self.marks.get(account_id) == mark
        }

    def __repr__(self) -> str:
        return f"Removals({len(self.marks)} configured)"
