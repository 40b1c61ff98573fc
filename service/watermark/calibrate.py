"""Measuring the mark's opacity maps from Gemini itself: ask an account for pure black images in a
size class, fetch the originals (``=s0``), and read ``a = max(R,G,B)/255`` around the mark.

On black, ``out = a*255 + (1-a)*0``, so the image *is* the map; the box is wherever the only
non-black pixels are (nothing is assumed about the geometry), squared to the nearest known mark size.

Gemini stamps a different mark on its 0.5K images than on the larger ones, so calibration goes by
size class (``SIZE_CLASSES``): each class is measured once, from images of that class, and the
classes measured are recorded beside the maps (``alpha.record_classes``).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from browser import ModeFamily, Tool, TurnRequest
from service.backend import Backend
from service.watermark.alpha import Alpha, save_alpha_map
from service.watermark.geometry import GEOMETRIES, V2_SMALL_SIZE

__all__ = [
    "CALIBRATION_PROMPTS",
    "SIZE_CLASSES",
    "Calibrated",
    "CalibrationFailed",
    "calibrate",
    "extract_alpha",
    "size_class",
]

log = logging.getLogger(__name__)

# One prompt per size class and orientation, so every mark size Gemini stamps gets measured.
SIZE_CLASSES: dict[str, tuple[str, ...]] = {
    "1k": (
        "Create an image that is pure black: every pixel #000000, no shapes, no texture, aspect ratio 1:1.",
        "Create an image that is pure black: every pixel #000000, no shapes, no texture, aspect ratio 9:16.",
    ),
    "0.5k": (
        "Create a 0.5K image that is pure black: every pixel #000000, nothing else, aspect ratio 1:1.",
        "Create a 0.5K image that is pure black: every pixel #000000, nothing else, aspect ratio 9:16.",
    ),
}
CALIBRATION_PROMPTS: tuple[str, ...] = tuple(p for prompts in SIZE_CLASSES.values() for p in prompts)
# Gemini's 0.5K images have a long side of at most 720 px (688x384, 512x512); larger ones are 1K+.
SMALL_LONG_SIDE = 720
# Capture noise sits below this; the mark's faint rim above it still counts towards its extent.
NOISE_LEVEL = 3
KNOWN_SIZES = tuple(sorted({g.size for g in GEOMETRIES} | {V2_SMALL_SIZE}))


class CalibrationFailed(Exception):
    """No usable black image came back (the message says why; never holds cookies)."""


def size_class(width: int, height: int) -> str:
    """The size class (a key of ``SIZE_CLASSES``) of a ``width`` x ``height`` image."""
    return "0.5k" if max(width, height) <= SMALL_LONG_SIDE else "1k"


@dataclass(frozen=True)
class Calibrated:
    size: int
    path: Path
    image_size: tuple[int, int]
    peak: float


def extract_alpha(pixels: NDArray[np.uint8]) -> tuple[Alpha, tuple[int, int]] | None:
    """The opacity map around the mark on a black image and the box's top-left corner, or None when
    the bottom-right quarter is black (no mark) or the rest is not (not a black image)."""
    levels = pixels[..., :3].max(axis=2)
    height, width = levels.shape
    top, left = height // 2, width // 2
    if int(levels[:top].max(initial=0)) > NOISE_LEVEL or int(levels[:, :left].max(initial=0)) > NOISE_LEVEL:
        return None
    ys, xs = np.nonzero(levels[top:, left:] > NOISE_LEVEL)
    if ys.size == 0:
        return None
    y0, y1 = top + int(ys.min()), top + int(ys.max()) + 1
    x0, x1 = left + int(xs.min()), left + int(xs.max()) + 1
    extent = max(y1 - y0, x1 - x0)
    size = next((known for known in KNOWN_SIZES if known >= extent), extent)
    x = min(max(0, x0 - (size - (x1 - x0)) // 2), width - size)
    y = min(max(0, y0 - (size - (y1 - y0)) // 2), height - size)
    alpha: Alpha = (levels[y : y + size, x : x + size].astype(np.float32) / 255.0).astype(np.float32)
    return alpha, (x, y)


def _original_url(url: str) -> str:
    """The ``=s0`` form of an image URL, whatever size option it came with."""
    head, _, last = url.rpartition("/")
    stem = last.rsplit("=", 1)[0] if "=" in last else last
    return f"{head}/{stem}=s0"


async def calibrate(
    source: Backend,
    data_dir: Path,
    prompts: tuple[str, ...] = CALIBRATION_PROMPTS,
    *,
    account_id: str | None = None,
    mode: ModeFamily = ModeFamily.FLASH,
) -> list[Calibrated]:
    """Ask for each prompt's black image(s) (on ``account_id`` when given) and store one map per
    mark size found (the first wins)."""
    measured: dict[int, Calibrated] = {}
    for prompt in prompts:
        request = TurnRequest(prompt=prompt, mode=mode, tool=Tool.IMAGE, account_id=account_id)
        async with source.turn(request) as turn:
            final = None
            async for snapshot in turn:
                final = snapshot
            if final is None or not final.images:
                log.warning("calibration prompt got no image back")
                continue
            for image in final.images:
                data = (await turn.fetch_media(_original_url(image.url))).data
                with Image.open(io.BytesIO(data)) as opened:
                    pixels = np.asarray(opened.convert("RGB"), dtype=np.uint8)
                found = extract_alpha(pixels)
                if found is None:
                    log.warning("calibration image %dx%d is not black with one mark", *pixels.shape[1::-1])
                    continue
                alpha, _ = found
                size = alpha.shape[0]
                if size in measured:
                    continue
                width, height = pixels.shape[1], pixels.shape[0]
                path = save_alpha_map(data_dir, alpha)
                measured[size] = Calibrated(size, path, (width, height), float(alpha.max()))
                log.info("calibrated the %d px mark from a %dx%d image", size, width, height)
    if not measured:
        raise CalibrationFailed("no black image with a mark came back; nothing was stored")
    return sorted(measured.values(), key=lambda item: item.size)
