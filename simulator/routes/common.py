"""Helpers every route module shares: the simulator state and the visiting account."""

from __future__ import annotations

from fastapi import Request

from simulator.accounts import TICKET_COOKIE, Account, AccountKind, account_from_cookies
from simulator.sessions import Session
from simulator.state import SimState


def sim(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def session_of(request: Request) -> Session | None:
    """The session record behind the visitor's ``__Secure-1PSID``, when sign-in or the control API
    made one (old-form cookies set by tests have none)."""
    account = account_from_cookies(dict(request.cookies))
    return sim(request).sessions.sessions.get(account.key) if account.key else None


def account_of(request: Request) -> Account:
    """The visitor by its cookie; a session whose ticket is stale or revoked is the ``expired`` kind
    from this request on (protocol.md §1.4, peers-late-2026.md §4.1: the page still renders signed
    in, otAQ7b says 1016)."""
    cookies = dict(request.cookies)
    account = account_from_cookies(cookies)
    session = sim(request).sessions.sessions.get(account.key) if account.key else None
    if session is None or not account.signed_in:
        return account
    state = sim(request)
    if state.sessions.ticket_fresh(session, cookies.get(TICKET_COOKIE), state.settings.bound_ticket_lifetime):
        return account
    return Account(AccountKind.EXPIRED, account.key)


def base_url(request: Request) -> str:
    """The origin the visitor used, so generated URLs point back at this server."""
    return str(request.base_url).rstrip("/")


def continue_url(request: Request) -> str:
    return str(request.url)
