"""HMAC-SHA256 signatures of local media links: ``sig = HMAC(secret, "<name>\\n<exp>")``.

The signature is the link's only credential, so it is checked in constant time, before anything
about the file (expiry, existence) is revealed. The secret is generated once and kept in the data
directory (0600), unless a setting provides it; rotating it invalidates every issued link.

By hand on purpose: it is one HMAC over two fields with the standard library's ``hmac`` and
``compare_digest``; a token library (itsdangerous, JWT) would add a format and options (algorithms,
serialisation) to a link whose only claim is a name and an expiry.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from service.errors import MediaLinkExpired, MediaLinkRefused

__all__ = ["LinkSigner", "load_or_create_secret"]

_SECRET_BYTES = 32


class LinkSigner:
    """Signs and checks ``(name, exp)`` pairs; ``exp`` is a unix time in whole seconds."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the media signing secret must be at least 16 bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return "LinkSigner(<secret>)"

    def sign(self, name: str, exp: int) -> str:
        message = f"{name}\n{exp}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def verify(self, name: str, exp: str | None, sig: str | None, *, now: float) -> None:
        """Raise ``MediaLinkRefused`` (403) for a missing or wrong signature, ``MediaLinkExpired``
        (410) for a correctly signed link past its ``exp``."""
        if not exp or not sig or not exp.isdigit() or len(exp) > 12:
            raise MediaLinkRefused("This media link is not signed.")
        expected = self.sign(name, int(exp))
        if not hmac.compare_digest(expected.encode(), sig.lower().encode()):
            raise MediaLinkRefused("This media link's signature is not valid.")
        if int(exp) <= now:
            raise MediaLinkExpired("This media link has expired.", code="link_expired")


def load_or_create_secret(path: Path) -> bytes:
    """The secret stored at ``path``, created (random, 0600) on first use; a looser mode is tightened.

    A new secret is written to a private temporary file and hard-linked into place, so concurrent
    first starts agree on one secret and nobody ever reads a half-written file."""
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_hex(_SECRET_BYTES).encode())
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink()
    os.chmod(path, 0o600)
    secret = path.read_bytes().strip()
    if len(secret) < 32:
        raise ValueError(f"{path} holds no usable media signing secret; delete it to make a new one")
    return secret
