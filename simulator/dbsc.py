"""Device keys and the ES256 JWTs that prove them (protocol.md §1.4: RotateBoundCookies wants a JWT
signed by the device key in ``Sec-Session-Google-Response``; ZX #6).

The page makes its key with WebCrypto (ECDSA P-256), so its public half arrives as a JWK and its
signatures as raw ``r || s`` (64 bytes), the JWS form; ``cryptography`` wants DER, converted here.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

COORDINATE_BYTES = 32


class ProofError(ValueError):
    """A public key or a JWT the server cannot accept; the message says why, never a secret."""


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_key_from_jwk(jwk: Any) -> ec.EllipticCurvePublicKey:
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ProofError("the key is not an EC P-256 JWK")
    try:
        x = int.from_bytes(b64url_decode(str(jwk["x"])), "big")
        y = int.from_bytes(b64url_decode(str(jwk["y"])), "big")
        return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyError, ValueError) as exc:
        raise ProofError("the JWK's point is not on P-256") from exc


def verified_claims(token: str, key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """The JWT's claims when it is ES256 and ``key`` signed it; raises ``ProofError`` otherwise."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ProofError("not a compact JWT")
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except ValueError as exc:
        raise ProofError("the JWT does not decode") from exc
    if not isinstance(header, dict) or header.get("alg") != "ES256" or not isinstance(claims, dict):
        raise ProofError("the JWT is not ES256")
    if len(signature) != 2 * COORDINATE_BYTES:
        raise ProofError("the signature is not raw r||s")
    r = int.from_bytes(signature[:COORDINATE_BYTES], "big")
    s = int.from_bytes(signature[COORDINATE_BYTES:], "big")
    try:
        key.verify(encode_dss_signature(r, s), f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ProofError("the signature does not verify") from exc
    return claims


def sign_jwt(claims: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> str:
    """What the page's WebCrypto does, for tests and for sessions "signed in on another device"."""
    head = b64url_encode(json.dumps({"alg": "ES256", "typ": "JWT"}).encode())
    body = b64url_encode(json.dumps(claims).encode())
    der = key.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(COORDINATE_BYTES, "big") + s.to_bytes(COORDINATE_BYTES, "big")
    return f"{head}.{body}.{b64url_encode(raw)}"


def jwk_of(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(COORDINATE_BYTES, "big")),
        "y": b64url_encode(numbers.y.to_bytes(COORDINATE_BYTES, "big")),
    }


def device_elsewhere() -> ec.EllipticCurvePublicKey:
    """The public half of a key that lives on another device: its private half is dropped at once."""
    return ec.generate_private_key(ec.SECP256R1()).public_key()
