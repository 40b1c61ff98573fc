"""The failover tests' judge of "never two browsers on one account at once" (tests/support/replicas.py
``overlaps``), on request logs written by hand: it must find every overlap of two pages on one
account and nothing else, or the cluster tests that rely on it prove nothing."""

from __future__ import annotations

from typing import Any

from tests.support.replicas import overlaps


def turn(account: str, page: str, start: float, end: float | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"account_id": account, "client_uuid": page, "time": start}
    if end is not None:
        entry["ended"] = end
    return entry


def test_two_pages_busy_on_one_account_at_once_are_found() -> None:
    entries = [turn("acct", "page-a", 10.0, 12.0), turn("acct", "page-b", 11.5, 13.0)]
    assert [
        (account, first["client_uuid"], second["client_uuid"]) for account, first, second in overlaps(entries)
    ] == [("acct", "page-a", "page-b")]


def test_a_turn_never_ended_overlaps_every_later_turn_of_another_page() -> None:
    entries = [turn("acct", "page-a", 10.0, None), turn("acct", "page-b", 60.0, 61.0)]
    assert len(overlaps(entries)) == 1


def test_hand_overs_one_page_and_other_accounts_are_not_overlaps() -> None:
    entries = [
        turn("acct", "page-a", 10.0, 12.0),
        turn("acct", "page-b", 12.5, 13.0),  # after the first page's turn ended: a hand-over
        turn("acct", "page-b", 13.0, 14.0),  # the same page again
        turn("other", "page-c", 10.5, 20.0),  # another account, busy meanwhile
        {"account_id": "acct", "time": 11.0},  # no page (a request refused before it was read)
    ]
    assert overlaps(entries) == []
