"""Session health a person can act on: why an account needs a person (``NeedsPerson``), read from
the same status reading as the account's state (the page's otAQ7b answer, the page's URL), and what
the page's own cookie rotation answers say about the session.

The reasons, and where each comes from:

* ``expired``: otAQ7b says 1016 (the page still renders signed in), or a cookie rotation answered 401
  (protocol.md §1.4: "401 → session dead"; for ``/RotateBoundCookies`` only a 401 without the
  ``Sec-Session-Google-Challenge`` header, which is the normal first step of a device-bound refresh).
* ``verify``: the page was sent to a URL under ``/v3/signin/challenge`` ("Verify it's you",
  fidelity.md A4), told apart from the plain sign-in page.
* ``signed_out``: sent to the sign-in page, or the page or otAQ7b says signed out.
* ``captcha``, ``consent``: the walls (``PageState``).
* ``terms``: otAQ7b 1040/1042. ``region``: otAQ7b 1060, or a turn refused with 1060.

A session's identity is its ``__Secure-1PSID`` (``session_key``: a digest, never the value): the
``__Secure-1PSIDTS`` ticket rotates under it, a new sign-in or new cookies bring another one.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from browser._driver import PageState
from browser.protocol import (
    STATUS_LOCATION_UNSUPPORTED,
    STATUS_TERMS_OUTDATED,
    STATUS_TERMS_PENDING,
    STATUS_UNAUTHENTICATED,
)

__all__ = [
    "BOUND_ROTATION_PATH",
    "ROTATION_PATH",
    "VERIFY_REASON",
    "Cooldown",
    "NeedsPerson",
    "Rotation",
    "SessionRecord",
    "needs_person_for",
    "rotation_outcome",
    "session_key",
]

# The page's cookie rotation (POST, answers Set-Cookie: __Secure-1PSIDTS), and its device-bound
# flavour (GET; a fresh ticket only for a request signed by the device key), protocol.md §1.4.
ROTATION_PATH = "/RotateCookies"
BOUND_ROTATION_PATH = "/RotateBoundCookies"
# The header of a device-bound refresh's first answer (401 + a challenge to sign): not a dead session.
BOUND_CHALLENGE_HEADER = "sec-session-google-challenge"
_TICKET = "__Secure-1PSIDTS="
# The account's ``reason`` when the page was sent to "Verify it's you".
VERIFY_REASON = "Verify it's you: Google asks a person to confirm this session (sent to a sign-in challenge)"


class NeedsPerson(enum.StrEnum):
    """Why an account needs a person to act (docs/operations/troubleshooting.md says what to do)."""

    EXPIRED = "expired"
    VERIFY = "verify"
    SIGNED_OUT = "signed_out"
    CAPTCHA = "captcha"
    CONSENT = "consent"
    TERMS = "terms"
    REGION = "region"


_BY_PAGE = {
    PageState.VERIFY: NeedsPerson.VERIFY,
    PageState.SIGNED_OUT: NeedsPerson.SIGNED_OUT,
    PageState.CAPTCHA: NeedsPerson.CAPTCHA,
    PageState.CONSENT: NeedsPerson.CONSENT,
}
_BY_STATUS = {
    STATUS_UNAUTHENTICATED: NeedsPerson.EXPIRED,
    STATUS_TERMS_PENDING: NeedsPerson.TERMS,
    STATUS_TERMS_OUTDATED: NeedsPerson.TERMS,
    STATUS_LOCATION_UNSUPPORTED: NeedsPerson.REGION,
}


def needs_person_for(page_state: PageState | None, status_code: int | None) -> NeedsPerson | None:
    """The reason for a page state and an otAQ7b status code (None when read). A wall or a
    challenge the page was sent to wins: the app, and so its answer, is not there."""
    by_page = _BY_PAGE.get(page_state) if page_state is not None else None
    if by_page is not None and page_state is not PageState.SIGNED_OUT:
        return by_page
    if status_code is not None and status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    return by_page


class Rotation(enum.StrEnum):
    """What one rotation answer says."""

    FRESH = "fresh"  # a new __Secure-1PSIDTS was set
    DEAD = "dead"  # the session is dead (401, not a device-bound challenge)
    OTHER = "other"  # nothing to note: SIDCC only, a challenge, another error


def rotation_outcome(url: str, status: int, headers: list[tuple[str, str]]) -> Rotation | None:
    """None when ``url`` is not a rotation; ``headers`` are the answer's (name, value) pairs, names
    in any case (Set-Cookie included: read them with ``headers_array``)."""
    path = urlsplit(url).path
    bound = path.endswith(BOUND_ROTATION_PATH)
    if not bound and not path.endswith(ROTATION_PATH):
        return None
    names = {name.lower() for name, _ in headers}
    if status == 401:
        return Rotation.OTHER if bound and BOUND_CHALLENGE_HEADER in names else Rotation.DEAD
    if status == 200:
        for name, value in headers:
            if name.lower() == "set-cookie" and _fresh_ticket(value):
                return Rotation.FRESH
    return Rotation.OTHER


def _fresh_ticket(set_cookie: str) -> bool:
    """One Set-Cookie header (Playwright joins several with newlines) that sets a non-empty ticket."""
    for line in set_cookie.split("\n"):
        pair = line.strip().split(";", 1)[0]
        if pair.startswith(_TICKET) and pair[len(_TICKET) :].strip():
            return True
    return False


def session_key(psid: str | None) -> str | None:
    """A digest naming the session (its ``__Secure-1PSID``), stored in place of the value."""
    if not psid:
        return None
    return hashlib.sha256(psid.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class SessionRecord:
    """What survives a restart about an account's session (``CookieStore``): how it was signed in,
    when this session (``session``: ``session_key``) was first seen working in the gateway, when
    a rotation last brought a fresh ``__Secure-1PSIDTS``, and why a person is needed (a
    ``NeedsPerson`` value) since when: shown before the page is read again after a restart, and
    what tells an alert already sent from a new one."""

    signin_method: str
    session: str | None
    started_at: float | None
    last_rotation_at: float | None
    needs_person: str | None = None
    needs_since: float | None = None


@dataclass(frozen=True)
class Cooldown:
    """What keeps an account out of rotation for a while, as UNIX times: ``cooling_until`` per quota
    (a usage limit until its reset, ``AccountInfo.cooling_until``), and a block (a captcha, a
    consent wall, 1060) until ``blocked_until`` with its ``reason``. Handed to the next pool that
    starts the account (``SharedHealthStore``), so that it waits as this one would have."""

    cooling_until: Mapping[str, float] = field(default_factory=dict)
    blocked_until: float | None = None
    reason: str | None = None

    def current(self, now: float) -> Cooldown | None:
        """What still holds at ``now`` (None: nothing)."""
        cooling = {quota: until for quota, until in self.cooling_until.items() if until > now}
        blocked = self.blocked_until is not None and self.blocked_until > now
        if not cooling and not blocked:
            return None
        return Cooldown(cooling, self.blocked_until if blocked else None, self.reason if blocked else None)

    def ends_at(self) -> float | None:
        """When the last of it ends (None: nothing)."""
        times = [*self.cooling_until.values(), *([self.blocked_until] if self.blocked_until else [])]
        return max(times) if times else None
