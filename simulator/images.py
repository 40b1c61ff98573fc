"""Generated images: a PNG derived from the prompt (seeded by sha256), stamped with the mark unless
the spec is clean, and the variants Google's image URLs serve (``=s0`` PNG original, ``=s<N>[-rj]``
resized, no option the small preview; the ``=d-I`` text hops live in ``routes.media``).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from simulator.answers import ImageSpec
from simulator.watermark import stamp

NO_OPTION = "s512-rj"


@dataclass(frozen=True)
class ImageVariant:
    body: bytes
    media_type: str


# A prompt asking for a "pure black" image gets one (any case): on black the mark alone shows, which
# is how the gateway's ``watermark calibrate`` measures its opacity map.
BLACK_IMAGE_KEYWORD = "pure black"


def unmarked_pixels(seed: str, width: int, height: int) -> NDArray[np.uint8]:
    """A smooth two-colour gradient with a few discs, all chosen by the seed's digest; all black
    when the seed (which holds the prompt) asks for a pure black image."""
    if BLACK_IMAGE_KEYWORD in seed.lower():
        return np.zeros((height, width, 3), dtype=np.uint8)
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    start = np.array(list(digest[0:3]), dtype=np.float32) * 0.6
    end = np.array(list(digest[3:6]), dtype=np.float32) * 0.6 + 40.0
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = (xs / max(width - 1, 1) * 0.6 + ys / max(height - 1, 1) * 0.4)[..., None]
    image = start * (1.0 - t) + end * t
    for i in range(3):
        cx = digest[6 + i] / 255.0 * width
        cy = digest[9 + i] / 255.0 * height
        r = (0.08 + digest[12 + i] / 255.0 * 0.15) * min(width, height)
        colour = np.array(list(digest[15 + 3 * i : 18 + 3 * i]), dtype=np.float32) * 0.7
        inside = ((xs - cx) ** 2 + (ys - cy) ** 2) <= r * r
        image[inside] = colour
    pixels: NDArray[np.uint8] = np.clip(image, 0, 255).astype(np.uint8)
    return pixels


@lru_cache(maxsize=16)
def original_png(spec: ImageSpec, watermark_dir: str = "") -> bytes:
    """The ``=s0`` original: the rendered image with the visible mark (unless clean), as PNG."""
    pixels = unmarked_pixels(spec.seed, spec.width, spec.height)
    if spec.marked:
        pixels = stamp(pixels, watermark_dir)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def variant(spec: ImageSpec, option: str, watermark_dir: str = "") -> ImageVariant | None:
    """The bytes for a size option after the last ``=``: ``s0``, ``s<N>`` or ``s<N>-rj``; no option
    at all gives the small JPEG preview (docs/architecture/wire-protocol.md#media-urls: no suffix, about 512
    px)."""
    option = option or NO_OPTION
    png = original_png(spec, watermark_dir)
    if option == "s0":
        return ImageVariant(png, "image/png")
    jpeg = option.endswith("-rj")
    size_text = option.removesuffix("-rj").removeprefix("s")
    if not option.startswith("s") or not size_text.isdigit():
        return None
    longest = int(size_text)
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
        scale = min(1.0, longest / max(rgb.size)) if longest else 1.0
        if scale < 1.0:
            size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
            rgb = rgb.resize(size, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        if jpeg:
            rgb.save(buffer, format="JPEG", quality=90)
            return ImageVariant(buffer.getvalue(), "image/jpeg")
        rgb.save(buffer, format="PNG")
        return ImageVariant(buffer.getvalue(), "image/png")


WEB_IMAGE_SIZE = (320, 240)


def web_image_jpeg(seed: str) -> bytes:
    """A web image found for a prompt (c[12][1]): a small unmarked JPEG derived from its seed."""
    buffer = io.BytesIO()
    Image.fromarray(unmarked_pixels(f"web:{seed}", *WEB_IMAGE_SIZE), "RGB").save(
        buffer, format="JPEG", quality=85
    )
    return buffer.getvalue()
