"""Who may sign in, the sessions sign-in makes, and how long their tickets live (DBSC).

A session is the ``__Secure-1PSID`` value; its tickets are the ``__Secure-1PSIDTS`` values the server
issued to it, each remembered with its issue time on the simulator's clock. A *bound* session
(protocol.md §1.4: device-bound session credentials) gets new tickets only through a request signed
by its device key, so a copy of its cookies lives as long as the ticket it carries
(``bound_ticket_lifetime``; peers-late-2026.md §4.1, §7: exported cookies die after ~1–2 h).

Cookies of the old form (``paid-abc``) made without a session record are unbound and never die.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec

from simulator.accounts import Account

SessionKind = Literal["paid", "plus", "free"]
# Sessions made by POST /_sim/sessions without a user answer "Verify it's you" with this password.
DEFAULT_PASSWORD = "sim-password"
# Outstanding RotateBoundCookies challenges kept per session.
MAX_CHALLENGES = 8


class SimClock:
    """Seconds on the simulated clock: real seconds times ``time_scale``, rebased when it changes, so a
    day runs in 24 s at 3600 and ages already measured stay what they were."""

    def __init__(self, scale: float = 1.0) -> None:
        self._scale = scale
        self._base_real = time.monotonic()
        self._base_sim = 0.0

    def now(self) -> float:
        return self._base_sim + (time.monotonic() - self._base_real) * self._scale

    def rescale(self, scale: float) -> None:
        if scale == self._scale:
            return
        self._base_sim = self.now()
        self._base_real = time.monotonic()
        self._scale = scale


@dataclass
class User:
    email: str
    password: str
    kind: SessionKind = "paid"
    otp: str | None = None
    verify: bool = False

    def view(self) -> dict[str, Any]:
        """What ``GET /_sim/users`` shows: no password."""
        return {"email": self.email, "kind": self.kind, "otp": self.otp is not None, "verify": self.verify}


@dataclass
class Session:
    psid: str
    kind: SessionKind
    bound: bool
    email: str
    password: str
    created: float
    # Ticket value -> issue time on the simulator's clock.
    tickets: dict[str, float] = field(default_factory=dict)
    key: ec.EllipticCurvePublicKey | None = None
    # The nonce the page must sign to register its key (the success page embeds it).
    registration_nonce: str = ""
    challenges: list[str] = field(default_factory=list)
    rotations: int = 0
    revoked: bool = False
    verify_pending: bool = False

    @property
    def public_id(self) -> str:
        return Account.public_id_of(self.psid)

    def newest_ticket_time(self) -> float:
        return max(self.tickets.values(), default=self.created)

    def ticket_time(self, ticket: str | None) -> float | None:
        """When the carried ticket was issued; None for a ticket this session was never given (or
        none at all): the server holds no proof of freshness for such a request."""
        if ticket is not None and ticket in self.tickets:
            return self.tickets[ticket]
        return None


@dataclass
class SignInFlow:
    """One sign-in in progress, named by the ``TL`` token its pages carry."""

    email: str
    target: str
    webdriver: str | None
    user_agent: str
    stage: Literal["password", "totp", "verify"] = "password"


class SessionBook:
    """Users, sessions by ``__Secure-1PSID`` value, the sign-in log and the flows in progress."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self.users: dict[str, User] = {}
        self.sessions: dict[str, Session] = {}
        self.signins: list[dict[str, Any]] = []
        self.flows: dict[str, SignInFlow] = {}

    def clear(self) -> None:
        self.users.clear()
        self.sessions.clear()
        self.signins.clear()
        self.flows.clear()

    def user(self, email: str) -> User | None:
        return self.users.get(email.strip().lower())

    def add_user(self, user: User) -> None:
        user.email = user.email.strip().lower()
        self.users[user.email] = user

    def log_attempt(self, email: str, outcome: str, webdriver: str | None, user_agent: str) -> None:
        """``webdriver`` is what the page reported: ``"true"``, ``"false"``, or None when it sent nothing."""
        seen = {"true": True, "false": False}.get(webdriver or "")
        self.signins.append(
            {
                "time": time.time(),
                "email": email,
                "outcome": outcome,
                "webdriver": seen,
                "user_agent": user_agent,
            }
        )

    def start_flow(self, flow: SignInFlow) -> str:
        token = secrets.token_urlsafe(18)
        self.flows[token] = flow
        return token

    def create(self, kind: SessionKind, *, bound: bool, email: str, password: str) -> Session:
        """A new session with its first ticket; the cookie keeps the ``<kind>-<random>`` form so every
        behaviour by kind applies (docs/simulator-contract.md, Accounts)."""
        session = Session(
            psid=f"{kind}-{secrets.token_hex(16)}",
            kind=kind,
            bound=bound,
            email=email,
            password=password,
            created=self.clock.now(),
            registration_nonce=secrets.token_urlsafe(24),
        )
        self.sessions[session.psid] = session
        self.issue_ticket(session)
        return session

    def issue_ticket(self, session: Session) -> str:
        ticket = "sidts-" + secrets.token_hex(20)
        session.tickets[ticket] = self.clock.now()
        return ticket

    def new_challenge(self, session: Session) -> str:
        """A nonce for RotateBoundCookies; the few latest stay valid (concurrent refreshes)."""
        nonce = secrets.token_urlsafe(18)
        session.challenges.append(nonce)
        del session.challenges[:-MAX_CHALLENGES]
        return nonce

    def take_challenge(self, session: Session, nonce: str) -> bool:
        """Whether ``nonce`` is one this session was given and not yet used (it is used up now)."""
        if nonce not in session.challenges:
            return False
        session.challenges.remove(nonce)
        return True

    def newest_ticket(self, session: Session) -> str:
        return max(session.tickets, key=session.tickets.__getitem__)

    def by_public_id(self, public_id: str) -> Session | None:
        return next((s for s in self.sessions.values() if s.public_id == public_id), None)

    def ticket_fresh(self, session: Session, ticket: str | None, lifetime: float) -> bool:
        """Whether a request carrying ``ticket`` is honoured: a revoked session never is; an unbound one
        always is (its tickets are refreshed without a key); a bound one while the ticket is young."""
        if session.revoked:
            return False
        if not session.bound:
            return True
        issued = session.ticket_time(ticket)
        return issued is not None and self.clock.now() - issued <= lifetime

    def alive(self, session: Session, lifetime: float) -> bool:
        if session.revoked:
            return False
        return not session.bound or self.clock.now() - session.newest_ticket_time() <= lifetime

    def view(self, session: Session, lifetime: float) -> dict[str, Any]:
        """What ``GET /_sim/sessions`` shows: never a cookie value."""
        return {
            "public_id": session.public_id,
            "kind": session.kind,
            "email": session.email,
            "bound": session.bound,
            "key_registered": session.key is not None,
            "ticket_age": round(self.clock.now() - session.newest_ticket_time(), 3),
            "rotations": session.rotations,
            "alive": self.alive(session, lifetime),
            "revoked": session.revoked,
            "verify_pending": session.verify_pending,
        }
