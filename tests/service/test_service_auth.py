"""API keys: both header forms, constant-time comparison over all keys, open access."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from pydantic import SecretStr

from service import auth
from service.auth import OPEN_CALLER, authenticate, match_key, presented_key
from service.errors import AuthenticationFailed

KEYS = (SecretStr("alpha-key"), SecretStr("beta-key"), SecretStr("gamma-key"))


def test_presented_key_with_and_without_bearer() -> None:
    assert presented_key("Bearer abc") == "abc"
    assert presented_key("bearer   abc ") == "abc"
    assert presented_key("abc") == "abc"
    assert presented_key("") is None and presented_key(None) is None and presented_key("Bearer ") is None


def test_every_key_is_compared_even_after_a_match(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append(b)
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert match_key("alpha-key", KEYS) == 0
    assert calls == [hashlib.sha256(key).digest() for key in (b"alpha-key", b"beta-key", b"gamma-key")]
    calls.clear()
    assert match_key("nope", KEYS) is None
    assert len(calls) == 3


async def test_authenticate_identity_is_a_digest_not_the_key() -> None:
    caller = await authenticate("Bearer beta-key", KEYS, open_access=False)
    assert "beta" not in caller.identity and len(caller.identity) == 32
    assert await authenticate("beta-key", KEYS, open_access=False) == caller
    assert await authenticate("Bearer alpha-key", KEYS, open_access=False) != caller


async def test_authenticate_rejects_missing_and_wrong_keys() -> None:
    with pytest.raises(AuthenticationFailed):
        await authenticate(None, KEYS, open_access=False)
    with pytest.raises(AuthenticationFailed):
        await authenticate("Bearer alpha-ke", KEYS, open_access=False)


async def test_open_access() -> None:
    assert await authenticate(None, (), open_access=True) == OPEN_CALLER
    assert await authenticate("Bearer whatever", (), open_access=True) == OPEN_CALLER
    assert await authenticate(None, KEYS, open_access=True) == OPEN_CALLER
    with pytest.raises(AuthenticationFailed):
        await authenticate("Bearer wrong", KEYS, open_access=True)
