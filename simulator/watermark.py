"""Gemini's visible "sparkle" mark: its opacity maps, where it sits, and stamping it onto an image.

Gemini blends white over the image, ``out = a*255 + (1-a)*orig`` with a per-pixel opacity ``a``
(research/peers.md §4.1). The real maps (``bg_48.png``/``bg_96.png``: the mark on black, opacity =
max(R,G,B)/255) are used when present in ``watermark_dir`` or ``../shared/realdata/watermark``;
otherwise a synthesised sparkle with the same peak opacity (about 0.5) stands in, so the simulator
works without the shared data.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

Alpha = NDArray[np.float32]

PEAK_ALPHA = 0.5
_DEFAULT_REAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "watermark"


@dataclass(frozen=True)
class Placement:
    """The mark's square size and its margin from the right and bottom edges."""

    size: int
    margin: int

    def origin(self, width: int, height: int) -> tuple[int, int]:
        return width - self.margin - self.size, height - self.margin - self.size


def placement(width: int, height: int) -> Placement:
    """Early-2026 catalogue: 1K-class outputs carry 96 px at margin 64, smaller ones 48 px at 32."""
    if max(width, height) >= 1000 and min(width, height) >= 512:
        return Placement(96, 64)
    return Placement(48, 32)


def synthesised_alpha(size: int) -> Alpha:
    """A four-pointed sparkle (an astroid) whose opacity peaks at ``PEAK_ALPHA`` in the centre."""
    axis = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
    u, v = np.meshgrid(np.abs(axis) / 0.92, np.abs(axis) / 0.92)
    radius = u ** (2.0 / 3.0) + v ** (2.0 / 3.0)
    body = np.clip((1.0 - radius) * 3.0, 0.0, 1.0)
    return (body * PEAK_ALPHA).astype(np.float32)


def _real_alpha(directory: Path, size: int) -> Alpha | None:
    path = directory / f"bg_{size}.png"
    if not path.is_file():
        return None
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    if rgb.shape[:2] != (size, size):
        return None
    result: Alpha = (rgb.max(axis=2) / 255.0).astype(np.float32)
    return result


@lru_cache(maxsize=8)
def alpha_map(size: int, directory: str = "") -> Alpha:
    """The opacity map for a ``size`` px mark: the real capture if available, else synthesised."""
    where = Path(directory) if directory else _DEFAULT_REAL_DIR
    real = _real_alpha(where, size)
    return real if real is not None else synthesised_alpha(size)


def stamp(pixels: NDArray[np.uint8], directory: str = "") -> NDArray[np.uint8]:
    """A copy of an RGB image with the mark alpha-blended in its bottom-right corner."""
    height, width = pixels.shape[:2]
    where = placement(width, height)
    x, y = where.origin(width, height)
    alpha = alpha_map(where.size, directory)[..., None]
    out = pixels.astype(np.float32)
    region = out[y : y + where.size, x : x + where.size, :3]
    out[y : y + where.size, x : x + where.size, :3] = alpha * 255.0 + (1.0 - alpha) * region
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
