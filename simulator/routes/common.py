"""Helpers every route module shares: the simulator state and the visiting account."""

from __future__ import annotations

from fastapi import Request

from simulator.accounts import Account, account_from_cookies
from simulator.state import SimState


def sim(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def account_of(request: Request) -> Account:
    return account_from_cookies(dict(request.cookies))


def base_url(request: Request) -> str:
    """The origin the visitor used, so generated URLs point back at this server."""
    return str(request.base_url).rstrip("/")


def continue_url(request: Request) -> str:
    return str(request.url)
