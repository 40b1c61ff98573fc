"""How one replica proves to another that a request was forwarded by a replica of the same cluster
(``cluster.secret``): an HMAC-SHA256, keyed by the secret, over the request's method, path with its
query, the replica that forwards it, a Unix time and the SHA-256 of its body. It travels in two
headers, ``X-Gateway-Forwarded-By`` (the claim: this request was forwarded, by that replica) and
``X-Gateway-Forward-Signature`` (``t=<unix time>,v1=<hex hmac>``). The receiver accepts it for
``VALIDITY`` seconds either side of its own clock (replicas' clocks are NTP-close; a captured request
replays at most that long, to the same path with the same body) and compares in constant time.

The secret never leaves this module's callers: a signature is a digest of it, and neither the
secret nor a signature is ever logged."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

from pydantic import SecretStr

__all__ = ["BY_HEADER", "FORWARDED_KEY", "SIGNATURE_HEADER", "VALIDITY", "BadForward", "sign", "verify"]

BY_HEADER = "x-gateway-forwarded-by"
SIGNATURE_HEADER = "x-gateway-forward-signature"
VALIDITY = 30.0  # seconds
# In a request's ASGI state: the replica that forwarded it, once its signature was verified.
FORWARDED_KEY = "gateway.forwarded_by"
_SIGNATURE = re.compile(r"^t=(\d{1,12}),v1=([0-9a-f]{64})$")


class BadForward(Exception):
    """A request that claims to be forwarded and cannot prove it (the reason is safe to show)."""


def _mac(secret: SecretStr, method: str, target: str, by: str, stamp: int, body: bytes) -> str:
    digest = hashlib.sha256(body).hexdigest()
    message = "\n".join((method.upper(), target, by, str(stamp), digest)).encode()
    return hmac.new(secret.get_secret_value().encode(), message, hashlib.sha256).hexdigest()


def sign(
    secret: SecretStr, method: str, target: str, by: str, body: bytes, *, now: float | None = None
) -> str:
    """The signature header's value for a request to ``target`` (the raw path and its query)."""
    stamp = int(time.time() if now is None else now)
    return f"t={stamp},v1={_mac(secret, method, target, by, stamp, body)}"


def verify(
    secret: SecretStr,
    method: str,
    target: str,
    by: str,
    body: bytes,
    signature: str | None,
    *,
    now: float | None = None,
) -> None:
    """Nothing when ``signature`` is valid and fresh; ``BadForward`` otherwise."""
    if not signature:
        raise BadForward("The request claims to be forwarded by a replica but carries no signature.")
    match = _SIGNATURE.match(signature)
    if match is None:
        raise BadForward("The forwarded request's signature is malformed.")
    stamp, given = int(match.group(1)), match.group(2)
    current = time.time() if now is None else now
    if abs(current - stamp) > VALIDITY:
        raise BadForward("The forwarded request's signature has expired.")
    if not hmac.compare_digest(given, _mac(secret, method, target, by, stamp, body)):
        raise BadForward("The forwarded request's signature does not match.")
