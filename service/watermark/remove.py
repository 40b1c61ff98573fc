"""Removing the mark from image bytes: decode, detect, reverse-blend only the found box, re-encode in
the input's format. When nothing is found the input bytes come back untouched.

The maths (detection, reverse blending) is ours, on Pillow and numpy: no Python library removes this
mark. The tools that do (a C++ command-line tool, a JavaScript web page) ship captures of the mark
that the gateway does not redistribute (its maps are measured from the account, ``calibrate``) and
geometries that Gemini keeps changing; an inpainting model would repaint pixels that the exact
inverse of a known blend restores.
"""

from __future__ import annotations

import io
import logging

import numpy as np
from PIL import Image, UnidentifiedImageError

from service.errors import InvalidRequest
from service.watermark.alpha import AlphaMaps
from service.watermark.detect import Detection, Pixels, detect, unblend

__all__ = ["remove_watermark"]

log = logging.getLogger(__name__)

# Lossless where the format allows it; JPEG at a quality that does not add visible ghosts. PNG at a
# middling zlib level: the default (6) takes seconds on a 2048 px original for a few percent.
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "PNG": {"compress_level": 3},
    "WEBP": {"lossless": True},
    "JPEG": {"quality": 95, "subsampling": 0},
}


def remove_watermark(data: bytes, maps: AlphaMaps) -> tuple[bytes, Detection]:
    """The image without Gemini's visible mark (same format), or ``data`` itself when none is found."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image_format = opened.format or ""
            image = opened.convert("RGBA") if _has_alpha(opened) else opened.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidRequest(f"the image could not be decoded ({type(exc).__name__})") from exc
    pixels: Pixels = np.asarray(image, dtype=np.float32)
    detection = detect(pixels, maps)
    log.info("watermark %s (%dx%d %s)", detection.header(), image.width, image.height, image_format or "?")
    if not detection.found or detection.x is None or detection.y is None or detection.size is None:
        return data, detection
    if image_format not in _SAVE_OPTIONS:
        raise InvalidRequest(f"cannot write a cleaned {image_format or 'unknown'} image (PNG, JPEG, WEBP)")
    x, y, size = detection.x, detection.y, detection.size
    box = pixels[y : y + size, x : x + size, :3]
    cleaned = pixels.copy()
    cleaned[y : y + size, x : x + size, :3] = unblend(box, maps.for_size(size))
    out = Image.fromarray(np.rint(cleaned).astype(np.uint8), image.mode)
    buffer = io.BytesIO()
    out.save(buffer, format=image_format, **_SAVE_OPTIONS[image_format])
    return buffer.getvalue(), detection


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
