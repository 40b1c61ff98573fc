"""Images in chat messages: ``data:`` URLs decoded here, http(s) URLs fetched through the SSRF
guard of ``service.fetch``. The type is read from the bytes, never from the label: bytes that are no
image a page can take are a 400 (as on ``/images/edits``), never an upload, and the formats Pillow
reads must also parse as one."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import io

from PIL import Image, UnidentifiedImageError

from browser import Attachment
from service.errors import InvalidRequest, PayloadTooLarge
from service.fetch import FetchPolicy, fetch

__all__ = ["check_image", "decode_data_url", "load_image", "sniff_image_type"]

_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/heic": "heic",
    "image/heif": "heif",
}


def sniff_image_type(data: bytes) -> str | None:
    """The image type the bytes' signature names, or None when it is not one we recognise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "image/heic"
    return None


# Pillow's names of the sniffed types it reads without a plugin (HEIC/HEIF it cannot).
_PILLOW_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


def decode_data_url(url: str, *, max_bytes: int, allowed_types: tuple[str, ...]) -> tuple[bytes, str]:
    """Bytes and type of a base64 ``data:image/...`` URL, within the size and type limits (the type
    sniffed from the bytes; ``check_image`` then parses them)."""
    header, comma, payload = url.partition(",")
    if not comma or not header.startswith("data:") or not header.endswith(";base64"):
        raise InvalidRequest(
            "Image data URLs must look like data:image/<type>;base64,<data>.", param="messages"
        )
    declared = header[len("data:") : -len(";base64")].lower()
    # base64 inflates by 4/3: refuse before decoding anything that cannot fit.
    if len(payload) > (max_bytes * 4) // 3 + 4:
        raise PayloadTooLarge(f"An image exceeds the limit of {max_bytes} bytes.", param="messages")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("An image data URL is not valid base64.", param="messages") from None
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"An image exceeds the limit of {max_bytes} bytes.", param="messages")
    return data, _checked_type(data, declared, allowed_types)


def _checked_type(data: bytes, labelled: str, allowed_types: tuple[str, ...]) -> str:
    mime = sniff_image_type(data)
    if mime is None:
        label = f" (labelled {labelled})" if labelled else ""
        raise InvalidRequest(
            f"An image part holds {len(data)} bytes that are no PNG, JPEG, WebP, GIF or HEIC image{label}.",
            param="messages",
        )
    if mime not in allowed_types:
        raise InvalidRequest(f"Unsupported image type {mime!r}.", param="messages")
    return mime


def check_image(data: bytes, mime: str) -> None:
    """Parse a sniffed image with Pillow where it can (a right signature before garbage is no image)."""
    kind = _PILLOW_FORMATS.get(mime)
    if kind is None:
        return
    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidRequest(
            f"An image part starts like a {kind} image but is not one Pillow can read.", param="messages"
        ) from None


async def load_image(url: str, *, policy: FetchPolicy) -> Attachment:
    """The image a message part names, as a file to upload (named by a digest of its bytes)."""
    if url.startswith("data:"):
        data, mime = decode_data_url(url, max_bytes=policy.max_bytes, allowed_types=policy.allowed_types)
    else:
        fetched = await fetch(url, policy)
        data, mime = fetched.data, _checked_type(fetched.data, fetched.mime, policy.allowed_types)
    await asyncio.to_thread(check_image, data, mime)  # a large image's parse stays off the event loop
    name = f"image-{hashlib.sha256(data).hexdigest()[:12]}.{_EXTENSIONS.get(mime, 'bin')}"
    return Attachment(name=name, mime=mime, data=data)
