"""The tests' shared default TLS context (tests/support/tls.py): shared where the default is asked
for, never where the caller asked for something else, and still a verifying context."""

from __future__ import annotations

import ssl

import httpx
import httpx2
import pytest

from tests.support import tls


def _context(transport: object) -> ssl.SSLContext:
    context = transport._pool._ssl_context  # type: ignore[attr-defined]
    assert isinstance(context, ssl.SSLContext)
    return context


@pytest.mark.parametrize("library", [httpx, httpx2], ids=["httpx", "httpx2"])
def test_default_clients_share_one_verifying_context(library: object) -> None:
    tls.share_default_context()
    tls.share_default_context()  # idempotent: not wrapped twice
    first = _context(library.HTTPTransport())  # type: ignore[attr-defined]
    second = _context(library.HTTPTransport())  # type: ignore[attr-defined]
    assert first is second
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname
    assert first.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded


@pytest.mark.parametrize("library", [httpx, httpx2], ids=["httpx", "httpx2"])
def test_what_the_caller_chose_is_not_shared(library: object) -> None:
    tls.share_default_context()
    default = _context(library.HTTPTransport())  # type: ignore[attr-defined]
    unverified = _context(library.HTTPTransport(verify=False))  # type: ignore[attr-defined]
    assert unverified is not default and unverified.verify_mode == ssl.CERT_NONE
    own = ssl.create_default_context()
    assert _context(library.HTTPTransport(verify=own)) is own  # type: ignore[attr-defined]


def test_the_ca_variables_pick_their_own_context(monkeypatch: pytest.MonkeyPatch) -> None:
    tls.share_default_context()
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    plain = _context(httpx.HTTPTransport())
    monkeypatch.setenv("SSL_CERT_DIR", "/nonexistent-ca-dir")
    from_env = _context(httpx.HTTPTransport())
    assert from_env is not plain
    assert _context(httpx.HTTPTransport()) is from_env
    assert _context(httpx.HTTPTransport(trust_env=False)) is not from_env
