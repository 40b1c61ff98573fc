"""Gemini's visible "sparkle" mark: its opacity maps, where it sits, and stamping it onto an image.

Gemini blends white over the image, ``out = a*255 + (1-a)*orig`` with a per-pixel opacity ``a``
(docs/guides/images.md#the-mark). The real maps (``bg_48.png``/``bg_96.png``: the mark on black, opacity =
max(R,G,B)/255) are used when present in ``watermark_dir`` or ``../shared/realdata/watermark``;
otherwise a synthesised sparkle with the same peak opacity (about 0.5) stands in, so the simulator
works without the shared data. Other mark sizes are the 96 px map resampled, as Google's own
scaled marks are.

Where the mark sits has changed several times (docs/guides/images.md#where-the-mark-sits); the simulator
stamps every
geometry seen so far, chosen by the image's size and orientation (``placement``), so a client has to
find the mark rather than assume it.
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
CAPTURED_SIZES = (48, 96)
_DEFAULT_REAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "watermark"

# 0.5K-class outputs have a long side of at most this many pixels.
SMALL_LONG_SIDE = 720
# May-2026 "V2" marks scale with the output: margin round(192 * long side / S), S by the short side.
V2_MARGIN = 192
V2_SMALL_SIZE = 36
V2_REFERENCES = ((566, 2752), (550, 2816), (0, 2848))


@dataclass(frozen=True)
class Placement:
    """The mark's square size and its margin from the right and bottom edges."""

    size: int
    margin: int

    def origin(self, width: int, height: int) -> tuple[int, int]:
        return width - self.margin - self.size, height - self.margin - self.size


def placement(width: int, height: int) -> Placement:
    """The geometry table (docs/simulator-contract.md, "Watermark geometry"):

    landscape or square: 0.5K class → 48 px at 32 (V1 / 0.5K catalogue), else 96 px at 64 (early-2026
    1K/2K/4K catalogue); portrait: both sides over 1024 → 96 px at 192 (V2 large), 0.5K class → 48 px at
    96 (the downscaled V2 variant), else 36 px at round(192·s) (V2 small, s = long side / S).
    """
    long_side, short_side = max(width, height), min(width, height)
    if width >= height:
        return Placement(48, 32) if long_side <= SMALL_LONG_SIDE else Placement(96, 64)
    if short_side > 1024:
        return Placement(96, V2_MARGIN)
    if long_side <= SMALL_LONG_SIDE:
        return Placement(48, 96)
    reference = next(s for minimum, s in V2_REFERENCES if short_side >= minimum)
    return Placement(V2_SMALL_SIZE, round(V2_MARGIN * long_side / reference))


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


def _resampled(alpha: Alpha, size: int) -> Alpha:
    # Area averaging when shrinking keeps the peak opacity honest; bilinear when growing.
    method = Image.Resampling.BOX if size < alpha.shape[0] else Image.Resampling.BILINEAR
    resized = Image.fromarray(alpha, "F").resize((size, size), method)
    return np.asarray(resized, dtype=np.float32).clip(0.0, 1.0)


@lru_cache(maxsize=16)
def alpha_map(size: int, directory: str = "") -> Alpha:
    """The opacity map for a ``size`` px mark: the real capture if available (other sizes resampled
    from the 96 px one), else the synthesised sparkle."""
    where = Path(directory) if directory else _DEFAULT_REAL_DIR
    if size in CAPTURED_SIZES:
        real = _real_alpha(where, size)
        return real if real is not None else synthesised_alpha(size)
    return _resampled(alpha_map(96, directory), size)


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
