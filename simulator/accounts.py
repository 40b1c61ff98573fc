"""Which kind of account a request belongs to, read from the prefix of its ``__Secure-1PSID`` cookie."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

SESSION_COOKIE = "__Secure-1PSID"
TICKET_COOKIE = "__Secure-1PSIDTS"
CONSENT_COOKIE = "CONSENT"


class AccountKind(StrEnum):
    PAID = "paid"
    PLUS = "plus"  # a paid plan with otAQ7b capability flag 115 (GA/GAF: Plus, header capacity 4)
    FREE = "free"
    LIMITED = "limited"
    BLOCKED = "blocked"
    CAPTCHA = "captcha"
    CONSENT = "consent"
    # The page renders signed in, but the session behind it is dead: only otAQ7b (1016) says so.
    EXPIRED = "expired"
    TERMS = "terms"  # terms of service pending (otAQ7b 1040)
    REGION = "region"  # location not supported (otAQ7b 1060)
    ANONYMOUS = "anon"


_PREFIXES = {kind.value: kind for kind in AccountKind if kind is not AccountKind.ANONYMOUS}


@dataclass(frozen=True)
class Account:
    """One visitor. ``key`` (the cookie value, ``""`` without one) selects its behaviour queue.

    ``signed_in`` is how the page renders (``SNlM0e``, avatar); ``session_valid`` is whether the
    server behind it still honours the session (false for expired cookies).
    """

    kind: AccountKind
    key: str

    @property
    def signed_in(self) -> bool:
        return self.kind is not AccountKind.ANONYMOUS

    @property
    def session_valid(self) -> bool:
        """Whether the server honours the session: an expired one answers like a signed-out visitor."""
        return self.kind not in (AccountKind.ANONYMOUS, AccountKind.EXPIRED)

    @property
    def plan(self) -> str:
        """``plus``, ``paid``, ``free`` or ``anon``: what the picker and the tools menu offer. Every
        other signed-in kind (limited, blocked, expired, terms, region) renders like a paid one."""
        if self.kind is AccountKind.ANONYMOUS:
            return "anon"
        if self.kind in (AccountKind.FREE, AccountKind.PLUS):
            return self.kind.value
        return "paid"

    @property
    def capacity(self) -> int:
        """Model header slot [11] as GAF derives it from otAQ7b's flags: Plus 4, paid 2, else 1."""
        return {"plus": 4, "paid": 2}.get(self.plan, 1)

    @property
    def public_id(self) -> str:
        """Names the account in logs without revealing the cookie value."""
        return self.public_id_of(self.key)

    @staticmethod
    def public_id_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""

    @property
    def xsrf_token(self) -> str:
        """The ``SNlM0e`` value the page embeds and StreamGenerate expects back as ``at``."""
        digest = hashlib.sha256(f"at:{self.key}".encode()).hexdigest()
        return f"AD1_sim{digest[:24]}:1782560022823"


def account_from_cookies(cookies: dict[str, str]) -> Account:
    """Classify a visitor; a consent account that accepted the wall counts as paid (contract)."""
    value = cookies.get(SESSION_COOKIE, "")
    kind = _PREFIXES.get(value.split("-", 1)[0]) if "-" in value else None
    if kind is None:
        return Account(AccountKind.ANONYMOUS, value)
    if kind is AccountKind.CONSENT and cookies.get(CONSENT_COOKIE, "").startswith("YES"):
        kind = AccountKind.PAID
    return Account(kind, value)
