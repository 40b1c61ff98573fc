"""The browser layer's exception tree. Every error that leaves ``browser/`` is one of these.

BrowserError
 ├── ProtocolError          the page's network answer could not be decoded
 ├── LaunchFailed           Chromium would not start, or a remote browser could not be reached
 ├── CookieFormatError      a cookie export could not be read (never quotes a cookie value)
 ├── InvalidProxy           an account's or the default proxy is not a usable proxy URL
 ├── UnknownAccount         no account has that id
 ├── LiveViewBusy           a live view of that account is open already (one at a time)
 ├── DriverError            a step on the page failed
 │    ├── NavigationFailed  the page could not be opened (or landed somewhere unexpected)
 │    ├── SelectorMissing   an element the step needs is not on the page (names the selector)
 │    │    └── ToolNotOffered the tools menu does not list the tool (``offered``: what it lists)
 │    └── StepTimeout       a bounded UI step did not finish in time (names the step)
 ├── TargetClosed           the page, context or browser died under us
 ├── AccountUnavailable     the account cannot serve: signed out, captcha, consent wall (``reason``)
 ├── UpstreamRejected       Gemini answered with a BardErrorInfo code (``code``, ``status``)
 ├── TransportError         our connection to Google failed; Gemini said nothing (no code)
 │    ├── ConnectionLost    the answer's connection dropped before its body ended
 │    └── HTTPStatusError   Google answered an HTTP error status (``status``) without a BardErrorInfo
 ├── UpstreamTimeout        no first frame, or the stream stalled, or the turn ran too long
 ├── NoCapacity             every fitting account is busy and the wait queue is full or timed out
 │    └── EgressBusy         ... because the egresses of the fitting accounts are at their pace
 └── NoEligibleAccount      no healthy account offers what the request needs
"""

from __future__ import annotations

import enum

__all__ = [
    "AccountUnavailable",
    "BrowserError",
    "ConnectionLost",
    "CookieFormatError",
    "DriverError",
    "EgressBusy",
    "HTTPStatusError",
    "InvalidProxy",
    "LaunchFailed",
    "LiveViewBusy",
    "NavigationFailed",
    "NoCapacity",
    "NoEligibleAccount",
    "ProfileRefused",
    "ProtocolError",
    "SelectorMissing",
    "StepTimeout",
    "TargetClosed",
    "ToolNotOffered",
    "TransportError",
    "UnavailableReason",
    "UnknownAccount",
    "UpstreamRejected",
    "UpstreamTimeout",
]


class BrowserError(Exception):
    """Root of every error raised by the browser layer."""


class ProtocolError(BrowserError):
    """A StreamGenerate body broke the framing or payload rules."""


class LaunchFailed(BrowserError):
    """Chromium could not be launched or a remote endpoint could not be connected."""


class CookieFormatError(BrowserError):
    """A cookie export is not JSON, not Netscape text, or lacks ``__Secure-1PSID``."""


class ProfileRefused(BrowserError):
    """An account's Chromium profile cannot be signed in or imported (the message says why and what
    to do: a newer Chromium's profile, not a profile, one open in a running browser)."""


class InvalidProxy(BrowserError, ValueError):
    """A proxy URL is not ``http|https|socks5://[user:pass@]host:port`` (never quotes the URL): a
    configuration error, raised when the account is added, never retried."""


class UnknownAccount(BrowserError):
    """The pool has no account with the requested id."""


class LiveViewBusy(BrowserError):
    """The account's page is shown in a live view already: one operator signs it in at a time."""


class DriverError(BrowserError):
    """A page step failed; ``step`` names it for logs and the doctor command."""

    def __init__(self, message: str, *, step: str = "") -> None:
        super().__init__(message)
        self.step = step


class NavigationFailed(DriverError):
    """Opening a URL failed or ended on an unexpected page."""


class SelectorMissing(DriverError):
    """None of the selector fallbacks for ``selector`` matched in time."""

    def __init__(self, selector: str, *, step: str = "") -> None:
        super().__init__(f"no element matched selector {selector!r}", step=step)
        self.selector = selector


class ToolNotOffered(SelectorMissing):
    """The page's tools menu does not list ``tool``; ``offered`` holds the tools it does list (their
    values), read from the same menu, so that the account's tools can be corrected at once."""

    def __init__(self, tool: str, offered: frozenset[str], *, step: str = "") -> None:
        super().__init__(f"tool:{tool}", step=step)
        self.tool = tool
        self.offered = offered


class StepTimeout(DriverError):
    """A UI step exceeded its timeout."""


class TemporaryChatUnavailable(DriverError):
    """A temporary chat was asked and could not be confirmed: the page has no "Temporary chat"
    button, its mode did not turn on, or the turn's request went out without the temporary flag
    (``inner[45]``; the chat may then be in the account's history)."""


class TargetClosed(BrowserError):
    """The page, its context or the whole browser closed or crashed."""


class UnavailableReason(enum.StrEnum):
    """Why an account's page cannot serve (the values match the page states that cause them)."""

    SIGNED_OUT = "signed_out"
    VERIFY = "verify"  # "Verify it's you"
    CAPTCHA = "captcha"
    CONSENT = "consent"
    # The answer came from another model than asked (another family, or the signed-out model):
    # the session ended or changed under a loaded page.
    DOWNGRADED = "downgraded"


class AccountUnavailable(BrowserError):
    """The account's page is signed out, or behind a captcha or consent wall."""

    def __init__(self, message: str, *, reason: UnavailableReason) -> None:
        super().__init__(message)
        self.reason = reason


class TransportError(BrowserError):
    """Our connection to Google failed: no BardErrorInfo code exists, so none is claimed."""


class ConnectionLost(TransportError):
    """The connection carrying the answer closed before the body ended (a drop, a reset)."""


class HTTPStatusError(TransportError):
    """Google answered ``status`` (not 200) for ``what``, without a Gemini error code."""

    def __init__(self, status: int, what: str) -> None:
        super().__init__(f"{what} answered HTTP {status}")
        self.status = status
        self.what = what


class UpstreamRejected(BrowserError):
    """Gemini rejected the turn with a BardErrorInfo ``code`` (and gRPC-like ``status``)."""

    def __init__(self, code: int, status: int | None = None, message: str = "") -> None:
        super().__init__(message or f"Gemini rejected the turn (code {code}, status {status})")
        self.code = code
        self.status = status


class UpstreamTimeout(BrowserError):
    """The answer did not start, stalled, or exceeded the turn's time budget."""


class NoCapacity(BrowserError):
    """No lease could be granted in time; ``retry_after`` is a hint in seconds."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class EgressBusy(NoCapacity):
    """The fitting accounts' egresses (``direct`` or proxies without credentials) are at their
    pace; ``retry_after`` is when the soonest of them frees a slot."""

    def __init__(self, message: str, *, retry_after: float, egresses: tuple[str, ...]) -> None:
        super().__init__(message, retry_after=retry_after)
        self.egresses = egresses


class NoEligibleAccount(BrowserError):
    """No account in a usable state offers the requested mode, tool or account id."""
