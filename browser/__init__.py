"""The browser layer: Chromium pages logged in per account, driven like a user, answers read from
the page's own StreamGenerate responses. ``service/`` uses only the names exported here."""

from __future__ import annotations

from browser._accounts import AccountInfo, AccountSpec, AccountState
from browser._media import Media
from browser._pool import BrowserPool, Turn
from browser._requests import Attachment, ModeFamily, Tool, TurnRequest
from browser._settings import LaunchMode, PoolSettings
from browser.errors import (
    AccountUnavailable,
    BrowserError,
    CookieFormatError,
    DriverError,
    LaunchFailed,
    NavigationFailed,
    NoCapacity,
    NoEligibleAccount,
    ProtocolError,
    SelectorMissing,
    StepTimeout,
    TargetClosed,
    UnknownAccount,
    UpstreamRejected,
    UpstreamTimeout,
)
from browser.protocol import TurnSnapshot

__all__ = [
    "AccountInfo",
    "AccountSpec",
    "AccountState",
    "AccountUnavailable",
    "Attachment",
    "BrowserError",
    "BrowserPool",
    "CookieFormatError",
    "DriverError",
    "LaunchFailed",
    "LaunchMode",
    "Media",
    "ModeFamily",
    "NavigationFailed",
    "NoCapacity",
    "NoEligibleAccount",
    "PoolSettings",
    "ProtocolError",
    "SelectorMissing",
    "StepTimeout",
    "TargetClosed",
    "Tool",
    "Turn",
    "TurnRequest",
    "TurnSnapshot",
    "UnknownAccount",
    "UpstreamRejected",
    "UpstreamTimeout",
]
