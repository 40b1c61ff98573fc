"""The signature one replica puts on a request it forwards (``service.cluster.signing``): valid for
the same method, path, forwarding replica and body within its validity, refused otherwise."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from service.cluster.signing import VALIDITY, BadForward, sign, verify

SECRET = SecretStr("signing-secret-0123456789")
NOW = 1_800_000_000.0
REQUEST = ("POST", "/v1/chat/completions?x=1", "a", b'{"model": "m"}')


def test_a_signature_verifies_for_the_same_request_within_its_validity() -> None:
    signature = sign(SECRET, *REQUEST, now=NOW)
    for later in (0.0, VALIDITY, -VALIDITY):  # either side: the replicas' clocks differ a little
        verify(SECRET, *REQUEST, signature, now=NOW + later)
    assert SECRET.get_secret_value() not in signature


@pytest.mark.parametrize(
    "changed",
    [
        ("GET", *REQUEST[1:]),
        (REQUEST[0], "/v1/chat/completions?x=2", *REQUEST[2:]),
        (*REQUEST[:2], "b", REQUEST[3]),
        (*REQUEST[:3], b'{"model": "n"}'),
    ],
    ids=["method", "path", "replica", "body"],
)
def test_a_signature_does_not_verify_another_request(changed: tuple[str, str, str, bytes]) -> None:
    signature = sign(SECRET, *REQUEST, now=NOW)
    with pytest.raises(BadForward, match="does not match"):
        verify(SECRET, *changed, signature, now=NOW)


def test_a_signature_expires_and_needs_the_secret() -> None:
    signature = sign(SECRET, *REQUEST, now=NOW)
    with pytest.raises(BadForward, match="expired"):
        verify(SECRET, *REQUEST, signature, now=NOW + VALIDITY + 1)
    with pytest.raises(BadForward, match="expired"):
        verify(SECRET, *REQUEST, signature, now=NOW - VALIDITY - 1)
    with pytest.raises(BadForward, match="does not match"):
        verify(SecretStr("another-secret-0123456789"), *REQUEST, signature, now=NOW)


@pytest.mark.parametrize(
    "signature", [None, "", "t=1,v1=zz", "v1=" + "0" * 64, "t=1800000000,v1=" + "0" * 63]
)
def test_a_missing_or_malformed_signature_is_refused(signature: str | None) -> None:
    with pytest.raises(BadForward):
        verify(SECRET, *REQUEST, signature, now=NOW)
