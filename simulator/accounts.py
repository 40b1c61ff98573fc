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
    FREE = "free"
    LIMITED = "limited"
    BLOCKED = "blocked"
    CAPTCHA = "captcha"
    CONSENT = "consent"
    ANONYMOUS = "anon"


_PREFIXES = {kind.value: kind for kind in AccountKind if kind is not AccountKind.ANONYMOUS}


@dataclass(frozen=True)
class Account:
    """One visitor. ``key`` (the cookie value, ``""`` without one) selects its behaviour queue."""

    kind: AccountKind
    key: str

    @property
    def signed_in(self) -> bool:
        return self.kind is not AccountKind.ANONYMOUS

    @property
    def tier(self) -> str:
        """The page tier: free accounts lose Pro and tools, signed-out visitors are ``anon``."""
        if self.kind is AccountKind.ANONYMOUS:
            return "anon"
        return "free" if self.kind is AccountKind.FREE else "paid"

    @property
    def public_id(self) -> str:
        """Names the account in logs without revealing the cookie value."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:16] if self.key else ""

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
