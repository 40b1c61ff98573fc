"""Units of the simulator's sign-in state: the simulated clock, ticket lifetimes in the session book,
challenges, and the ES256 proofs of device keys (simulator/sessions.py, simulator/dbsc.py)."""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from simulator.dbsc import (
    ProofError,
    b64url_decode,
    b64url_encode,
    device_elsewhere,
    jwk_of,
    public_key_from_jwk,
    sign_jwt,
    verified_claims,
)
from simulator.sessions import SessionBook, SimClock, User

LIFETIME = 7200.0


class StoppedClock(SimClock):
    """A clock the test moves by hand (the real one runs on time.monotonic)."""

    def __init__(self) -> None:
        super().__init__(1.0)
        self.at = 1000.0

    def now(self) -> float:
        return self.at


def test_the_clock_runs_at_its_scale_and_keeps_its_reading_when_rescaled() -> None:
    clock = SimClock(1.0)
    time.sleep(0.05)  # not a timing assertion: real time must have passed before the rescale
    start = time.monotonic()
    before = clock.now()
    clock.rescale(1e9)
    after = clock.now()
    bound = (time.monotonic() - start) * 1e9
    assert before >= 0.05 and before <= after <= before + bound, "rescaling does not jump the reading"
    time.sleep(0.001)
    later = clock.now()
    assert later - after >= 0.001 * 1e9 * 0.99, "a billion simulated seconds per real second"
    clock.rescale(1.0)
    settled = clock.now()
    assert settled >= later and clock.now() - settled < 1e3


def test_a_bound_ticket_lives_its_lifetime_an_unbound_one_forever() -> None:
    clock = StoppedClock()
    book = SessionBook(clock)
    bound = book.create("paid", bound=True, email="", password="pw")
    unbound = book.create("free", bound=False, email="", password="pw")
    first = book.newest_ticket(bound)
    assert bound.psid.startswith("paid-") and unbound.psid.startswith("free-")
    clock.at += LIFETIME
    assert book.ticket_fresh(bound, first, LIFETIME) and book.alive(bound, LIFETIME)
    clock.at += 1
    assert not book.ticket_fresh(bound, first, LIFETIME) and not book.alive(bound, LIFETIME)
    assert book.ticket_fresh(unbound, None, LIFETIME) and book.alive(unbound, LIFETIME)
    fresh = book.issue_ticket(bound)
    assert book.ticket_fresh(bound, fresh, LIFETIME) and book.alive(bound, LIFETIME)
    assert not book.ticket_fresh(bound, first, LIFETIME), "an old ticket stays old"
    assert not book.ticket_fresh(bound, None, LIFETIME), "no ticket: no proof of freshness"
    assert not book.ticket_fresh(bound, book.newest_ticket(unbound), LIFETIME), "another session's ticket"
    bound.revoked = unbound.revoked = True
    assert not book.ticket_fresh(bound, fresh, LIFETIME) and not book.ticket_fresh(unbound, None, LIFETIME)
    view = book.view(bound, LIFETIME)
    assert view["ticket_age"] == 0 and not view["alive"] and bound.psid not in json.dumps(view)


def test_challenges_are_used_once_and_only_the_latest_few_stay() -> None:
    book = SessionBook(StoppedClock())
    session = book.create("paid", bound=True, email="", password="pw")
    nonces = [book.new_challenge(session) for _ in range(10)]
    assert not book.take_challenge(session, nonces[0]), "the oldest were dropped"
    assert book.take_challenge(session, nonces[-1]) and not book.take_challenge(session, nonces[-1])
    assert not book.take_challenge(session, "made-up")


def test_users_are_found_by_email_whatever_its_case_and_hide_their_password() -> None:
    book = SessionBook(StoppedClock())
    book.add_user(User(email=" Ada@Example.com ", password="secret", otp="123456"))
    user = book.user("ada@EXAMPLE.com")
    assert user is not None and user.view() == {
        "email": "ada@example.com",
        "kind": "paid",
        "otp": True,
        "verify": False,
    }
    book.log_attempt("ada@example.com", "rejected", "true", "UA")
    book.log_attempt("ada@example.com", "signed_in", None, "UA")
    assert [a["webdriver"] for a in book.signins] == [True, None]
    book.clear()
    assert not book.users and not book.signins and not book.sessions


def test_a_jwt_verifies_only_under_its_key_and_unchanged() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = sign_jwt({"challenge": "n1"}, key)
    public = public_key_from_jwk(jwk_of(key.public_key()))
    assert verified_claims(token, public) == {"challenge": "n1"}
    with pytest.raises(ProofError, match="does not verify"):
        verified_claims(token, device_elsewhere())
    head, body, signature = token.split(".")
    tampered = f"{head}.{b64url_encode(json.dumps({'challenge': 'n2'}).encode())}.{signature}"
    with pytest.raises(ProofError, match="does not verify"):
        verified_claims(tampered, public)
    unsigned = b64url_encode(json.dumps({"alg": "none"}).encode())
    none_alg = f"{unsigned}.{body}.{signature}"
    with pytest.raises(ProofError, match="not ES256"):
        verified_claims(none_alg, public)
    with pytest.raises(ProofError, match="raw r"):
        verified_claims(f"{head}.{body}.{b64url_encode(b'short')}", public)
    with pytest.raises(ProofError):
        verified_claims("not-a-jwt", public)
    assert len(b64url_decode(signature)) == 64


def test_a_jwk_must_be_a_p256_point() -> None:
    jwk = jwk_of(device_elsewhere())
    assert public_key_from_jwk(jwk).public_numbers() == public_key_from_jwk(dict(jwk)).public_numbers()
    for broken in (
        {**jwk, "crv": "P-384"},
        {**jwk, "kty": "RSA"},
        {**jwk, "y": jwk["x"]},
        "text",
        {"kty": "EC"},
    ):
        with pytest.raises(ProofError):
            public_key_from_jwk(broken)
