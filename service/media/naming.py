"""Names of delivered media: a random token plus a suffix from one table of the types we serve.

The token (128 random bits) makes names unguessable and unique; the table keeps the gateway from
ever serving a type a browser would run (HTML, SVG, JavaScript) from its own origin.
"""

from __future__ import annotations

import re
import secrets

__all__ = ["MEDIA_TYPES", "NAME_PATTERN", "media_type", "new_name"]

MEDIA_TYPES: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".mp3": "audio/mpeg",
}

_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}

NAME_PATTERN = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{1,5}$")


def new_name(mime: str, suffix: str) -> str:
    """``<32 hex>.<suffix>``; ``suffix`` (with or without its dot) must be the table's for ``mime``
    (compared without parameters or case); a mismatch is the caller's bug, a ``ValueError``."""
    normal = "." + suffix.lower().lstrip(".")
    expected = MEDIA_TYPES.get(normal)
    if expected is None:
        raise ValueError(f"media suffix {suffix!r} is not one the gateway serves")
    declared = mime.split(";", 1)[0].strip().lower()
    if _ALIASES.get(declared, declared) != expected:
        raise ValueError(f"media type {mime!r} does not match the suffix {normal!r} ({expected})")
    return secrets.token_hex(16) + normal


def media_type(name: str) -> str:
    """The Content-Type of a stored name (the table's, never guessed)."""
    return MEDIA_TYPES["." + name.rsplit(".", 1)[-1]]
