"""Every account and every replica on the admin API of any replica of one Redis (issue 20 item 3).

A replica's own accounts are shown live, as with a single gateway. The accounts other replicas drive
come from their last round's report (``service.cluster.view``), with ``owner`` and ``reported_at``
set. A registered account that no report shows is listed by id only: state ``starting`` when a
replica holds its lease (its page loads, or its first report is still to come), ``unowned`` when no
replica holds it (it is adopted at the next round of a replica with room).

Actions that need the account's page (check, gems, pause, resume, screenshot, live view) run on
the replica that drives it: elsewhere they are refused with a 409 naming the owner
(``refuse_remote``), never silently done on nothing. Removal goes through the shared registry and
works from any replica for an added account."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from service.admin.accounts import AccountAdmin
from service.admin.wire import AccountOut, ReplicaOut, account_out
from service.catalog import Catalog
from service.cluster.ownership import AccountOwnership, Reporter
from service.cluster.view import ReplicaSeen
from service.errors import Conflict, NotFound

__all__ = ["account_reporter", "all_accounts", "one_account", "refuse_remote", "replicas_out"]

UNOWNED = "unowned"  # registered, no replica holds its lease
STARTING = "starting"  # a replica holds its lease, no report of it yet


def account_reporter(accounts: AccountAdmin, catalog: Catalog) -> Reporter:
    """What each ownership round publishes: the admin API's fields of the accounts in this
    replica's pool (``AccountOut``: no secret in it), keyed by id."""

    async def report() -> Mapping[str, dict[str, Any]]:
        mine = await local_accounts(accounts, catalog)
        return {account.id: account.model_dump(mode="json") for account in mine}

    return report


async def local_accounts(accounts: AccountAdmin, catalog: Catalog) -> list[AccountOut]:
    added = await accounts.added_ids()
    return [
        account_out(info, added=info.id in added, catalog=catalog, owner=accounts.owner(info.id))
        for info in accounts.list()
    ]


def _placeholder(account_id: str, *, added: bool, owner: str | None) -> AccountOut:
    """An account known by id only: no replica reports its fields (yet)."""
    return AccountOut(
        id=account_id,
        name=account_id,
        source="added" if added else "config",
        state=STARTING if owner is not None else UNOWNED,
        paused=False,
        reason=None,
        status_code=None,
        tier="unknown",
        modes=[],
        tools=[],
        models=[],
        active_turns=0,
        turns_served=0,
        last_error=None,
        cooling_until={},
        blocked_until=None,
        cookies_saved_at=None,
        proxy=None,
        egress="unknown",
        signin_method="unknown",
        session_started_at=None,
        session_age_seconds=None,
        last_rotation_at=None,
        needs_person=None,
        needs_person_since=None,
        needs_person_hint=None,
        gems=[],
        owner=owner,
    )


async def _remote(
    ownership: AccountOwnership, local: set[str], added: set[str]
) -> tuple[list[AccountOut], list[ReplicaSeen]]:
    """The accounts other replicas drive or nobody does (Redis reads)."""
    seen = await ownership.view.live()
    now = time.time()
    found: dict[str, AccountOut] = {}
    for replica in seen:
        report = replica.report
        if replica.replica == ownership.replica_id or report is None:
            continue
        for fields in report.accounts:
            account = AccountOut.model_validate(
                {**fields, "owner": report.replica, "reported_at": report.reported_at}
            )
            if account.session_started_at is not None:  # the age as of now, not of the report
                account.session_age_seconds = round(max(0.0, now - account.session_started_at), 1)
            before = found.get(account.id)
            # Two reports during a hand-over: the newer round is the truer one.
            if account.id not in local and (before is None or (before.reported_at or 0) < report.reported_at):
                found[account.id] = account
    registered = (ownership.known | added) - local - found.keys()
    for account_id, holder in sorted((await ownership.view.holders(sorted(registered))).items()):
        found[account_id] = _placeholder(account_id, added=account_id in added, owner=holder)
    return sorted(found.values(), key=lambda account: account.id), seen


async def all_accounts(accounts: AccountAdmin, catalog: Catalog) -> list[AccountOut]:
    """This replica's accounts, then every other one of the cluster (alone: only its own)."""
    mine = await local_accounts(accounts, catalog)
    if accounts.ownership is None:
        return mine
    others, _ = await _remote(
        accounts.ownership, {account.id for account in mine}, await accounts.added_ids()
    )
    return mine + others


async def one_account(accounts: AccountAdmin, catalog: Catalog, account_id: str) -> AccountOut:
    for account in await local_accounts(accounts, catalog):  # live here
        if account.id == account_id:
            return account
    for account in await all_accounts(accounts, catalog):
        if account.id == account_id:
            return account
    raise NotFound(f"No account {account_id!r}.")


async def refuse_remote(accounts: AccountAdmin, account_id: str) -> None:
    """``Conflict`` (409) for an action on an account this replica does not drive but another one
    (or, for now, none) does; nothing for a local account or an unknown one (its own 404 follows)."""
    ownership = accounts.ownership
    local = {info.id for info in accounts.list()}
    if ownership is None or account_id in local:
        return
    others, _ = await _remote(ownership, local, await accounts.added_ids())
    account = next((account for account in others if account.id == account_id), None)
    if account is None:
        return
    if account.owner is None:
        raise Conflict(
            f"No replica drives the account {account_id!r} now (state {UNOWNED}); a replica adopts "
            "it at its next round: retry on its owner then."
        )
    raise Conflict(
        f"The account {account_id!r} is driven by replica {account.owner!r}, not by this one "
        f"({ownership.replica_id!r}): send this action to that replica's admin API."
    )


async def replicas_out(accounts: AccountAdmin) -> list[ReplicaOut]:
    """Every live replica of the Redis (empty with a single gateway)."""
    ownership = accounts.ownership
    if ownership is None:
        return []
    seen = await ownership.view.live()
    out = []
    for replica in seen:
        report = replica.report
        mine = replica.replica == ownership.replica_id
        out.append(
            ReplicaOut(
                id=replica.replica,
                self=mine,
                heartbeat_age_seconds=None
                if replica.heartbeat_age is None
                else round(replica.heartbeat_age, 3),
                started_at=report.started_at
                if report is not None
                else (ownership.started_at if mine else None),
                reported_at=report.reported_at if report is not None else None,
                # This replica's own holdings are read live; the others' as of their report.
                accounts=sorted(ownership.held) if mine else (report.held if report is not None else []),
                internal_url=ownership.internal_url if mine else (report.internal_url if report else None),
            )
        )
    return out
