"""Finding the mark: search sizes and positions over the band the known geometries span, score the
best matches, and accept only a score a clean image does not reach.

A mark is a white blend, ``out = a*255 + (1-a)*orig``. The score (at most 1) weighs three things: the
normalised cross-correlation between the box's grey levels and the opacity map, the correlation of
their gradient vectors (edges where the map has edges, pointing its way), and whether those edges
vanish once the mark is reverse-blended away (removing a mark that is not there draws a dark one).
Two physical limits refuse a box outright: pixels darker than the mark alone would leave them
(``out >= a*255``), and a box that brightens with the map faster than a white blend can.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from service.watermark.alpha import Alpha, AlphaMaps
from service.watermark.geometry import anchors, geometry_name

__all__ = ["THRESHOLD", "Detection", "detect", "unblend"]

Pixels = NDArray[np.float32]

# Chosen on the real Gemini samples and clean photos/simulator images (tests/service/test_watermark*):
# real marks score 0.36 (a busy line-art background) to 0.95, simulator marks 0.6 to 0.95; clean
# corners, bright textures and the real samples once cleaned stay at or below 0.22.
THRESHOLD = 0.3
MIN_SPATIAL = 0.15
# Opacity below this is capture noise (GargantuaX's 3/255 floor); above MAX_ALPHA the inverse explodes.
NOISE_ALPHA = 3.0 / 255.0
MAX_ALPHA = 0.99
# A real mark cannot leave a pixel darker than a*255 (minus encoding noise) where a is large.
DARK_TOLERANCE = 8.0
STRONG_ALPHA = 0.25
MAX_DARK_FRACTION = 0.005
# A white blend brightens by at most a*(255 - B); well above that it is a bright shape, not the mark.
MAX_AMPLITUDE = 1.15
# Correlation peaks scored per candidate size (a busy corner has several), from the best this many.
PEAKS, PEAK_SCAN = 6, 4000
SPATIAL_WEIGHT, GRADIENT_WEIGHT, SUPPRESSION_WEIGHT = 0.4, 0.4, 0.2
# Vanishing edges earn full credit only where mark-shaped edges were this clear to begin with.
FULL_GRADIENT = 0.25


@dataclass(frozen=True)
class Detection:
    """The decision on one image; ``header()`` is the value of the ``X-Watermark`` response header."""

    found: bool
    geometry: str | None
    x: int | None
    y: int | None
    size: int | None
    score: float

    def header(self) -> str:
        if self.found:
            return f"found; geometry={self.geometry}; score={self.score:.2f}"
        return f"not found; score={self.score:.2f}"


def unblend(region: Pixels, alpha: Alpha) -> Pixels:
    """``orig = (wm - a*255) / (1 - a)`` per channel where the map has opacity, clamped to [0, 255]."""
    a = np.minimum(alpha, MAX_ALPHA)[..., None]
    restored = np.clip((region - a * 255.0) / (1.0 - a), 0.0, 255.0)
    untouched = (alpha < NOISE_ALPHA)[..., None]
    result: Pixels = np.where(untouched, region, restored).astype(np.float32)
    return result


def _ncc(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / denominator if denominator > 1e-6 else 0.0


def _ncc_map(region: NDArray[np.float64], template: Alpha) -> NDArray[np.float64]:
    """NCC of ``template`` at every placement inside ``region`` (FFT correlation, integral images)."""
    size = template.shape[0]
    t = template.astype(np.float64) - float(template.mean())
    t_norm = float(np.sqrt((t * t).sum()))
    height, width = region.shape
    # Zero-padding to 5-smooth lengths keeps the FFT fast; valid placements never wrap around.
    shape = (_smooth_length(height), _smooth_length(width))
    spectrum = np.fft.rfft2(region, shape) * np.conj(np.fft.rfft2(t, shape))
    correlation = np.fft.irfft2(spectrum, shape)[: height - size + 1, : width - size + 1]
    sums = _window_sums(region, size)
    squares = _window_sums(region * region, size)
    variance = np.maximum(squares - sums * sums / (size * size), 0.0)
    denominator = np.sqrt(variance) * t_norm
    flat = denominator < 1e-3
    result: NDArray[np.float64] = np.where(flat, 0.0, correlation / np.where(flat, 1.0, denominator))
    return result


def _smooth_length(minimum: int) -> int:
    """The smallest length >= ``minimum`` whose only prime factors are 2, 3 and 5."""
    length = minimum
    while True:
        rest = length
        for prime in (2, 3, 5):
            while rest % prime == 0:
                rest //= prime
        if rest == 1:
            return length
        length += 1


def _window_sums(values: NDArray[np.float64], size: int) -> NDArray[np.float64]:
    integral = np.pad(values.cumsum(axis=0).cumsum(axis=1), ((1, 0), (1, 0)))
    result: NDArray[np.float64] = (
        integral[size:, size:] - integral[:-size, size:] - integral[size:, :-size] + integral[:-size, :-size]
    )
    return result


@dataclass(frozen=True)
class _Scored:
    x: int
    y: int
    size: int
    score: float


def _gradient_ncc(grey: NDArray[np.float32], alpha: Alpha) -> float:
    """NCC of gradient vectors: edges running along the map's edges, in the map's direction."""
    gy, gx = np.gradient(grey)
    ay, ax = np.gradient(alpha)
    denominator = float(np.sqrt((gx * gx + gy * gy).sum() * (ax * ax + ay * ay).sum()))
    return float((gx * ax + gy * ay).sum()) / denominator if denominator > 1e-6 else 0.0


def _amplitude(grey: NDArray[np.float32], alpha: Alpha) -> float:
    """How strongly the box brightens with the map, relative to what a white blend can do.

    Fitting ``grey = c0 + c1*a``: a white mark over a background ``B`` gives ``c1 = 255 - B`` and
    ``c0 = B``, so the ratio ``c1 / (255 - c0)`` is about 1 (less over texture); a bright shape that
    merely resembles the mark usually rises faster than any white blend could.
    """
    a = alpha.astype(np.float64).ravel()
    g = grey.astype(np.float64).ravel()
    design = np.stack([np.ones_like(a), a], axis=1)
    (offset, slope), *_ = np.linalg.lstsq(design, g, rcond=None)
    return float(slope) / max(255.0 - float(offset), 1.0)


def _score(pixels: Pixels, x: int, y: int, alpha: Alpha) -> float:
    size = alpha.shape[0]
    region = pixels[y : y + size, x : x + size, :3]
    grey = region.mean(axis=2)
    spatial = _ncc(grey, alpha)
    if spatial < MIN_SPATIAL:
        return spatial / 2.0
    strong = alpha >= STRONG_ALPHA
    darkest = region.min(axis=2)
    dark = float((darkest[strong] < alpha[strong] * 255.0 - DARK_TOLERANCE).mean()) if strong.any() else 1.0
    if dark > MAX_DARK_FRACTION:
        return 0.0
    if _amplitude(grey, alpha) > MAX_AMPLITUDE:
        return 0.0
    gradient = _gradient_ncc(grey, alpha)
    # Removing a real mark leaves no edges along the map; removing an absent one draws a dark mark.
    residue = _gradient_ncc(unblend(region, alpha).mean(axis=2), alpha)
    suppression = float(np.clip(1.0 - 4.0 * abs(residue), -1.0, 1.0))
    # Edges that vanish only count where there were mark-shaped edges to begin with.
    suppression *= float(np.clip(gradient / FULL_GRADIENT, 0.0, 1.0))
    return SPATIAL_WEIGHT * spatial + GRADIENT_WEIGHT * gradient + SUPPRESSION_WEIGHT * suppression


def _reach(size: int) -> int:
    return max(8, size // 2)


def _peaks(scores: NDArray[np.float64], spacing: int) -> list[tuple[int, int]]:
    """Up to ``PEAKS`` best correlation positions (row, column), at least ``spacing`` apart."""
    flat_scores = scores.ravel()
    count = min(PEAK_SCAN, flat_scores.size)
    top = np.argpartition(flat_scores, flat_scores.size - count)[flat_scores.size - count :]
    order = top[np.argsort(flat_scores[top])[::-1]]
    chosen: list[tuple[int, int]] = []
    for flat in order:
        row, column = divmod(int(flat), scores.shape[1])
        if all(abs(row - r) >= spacing or abs(column - c) >= spacing for r, c in chosen):
            chosen.append((row, column))
            if len(chosen) == PEAKS:
                break
    return chosen


def _search(pixels: Pixels, maps: AlphaMaps) -> _Scored | None:
    """The best-scoring box: every candidate size is searched over the whole band of margins the
    known anchors span (widened by ``_reach``), at its correlation peaks and at the anchors.

    Only the bottom-right corner the band covers is converted to grey.
    """
    height, width = pixels.shape[:2]
    geometries = anchors(width, height)
    if not geometries:
        return None
    near = max(0, min(g.margin - _reach(g.size) for g in geometries))
    far = max(g.margin + _reach(g.size) for g in geometries)
    extent = far + max(g.size for g in geometries)
    cx, cy = max(0, width - extent), max(0, height - extent)
    grey = pixels[cy:, cx:, :3].mean(axis=2).astype(np.float64)
    best: _Scored | None = None
    for size in sorted({g.size for g in geometries}, reverse=True):
        alpha = maps.for_size(size)
        left, top = max(cx, width - far - size), max(cy, height - far - size)
        right, bottom = width - near - size, height - near - size
        if right < left or bottom < top:
            continue
        window = grey[top - cy : bottom - cy + size, left - cx : right - cx + size]
        positions = {(left + column, top + row) for row, column in _peaks(_ncc_map(window, alpha), size // 4)}
        # The correlation peak can be pulled off the mark by a busy background: score the anchors too.
        positions |= {g.origin(width, height) for g in geometries if g.size == size}
        for x, y in positions:
            if cx <= x <= width - size and cy <= y <= height - size:
                scored = _Scored(x, y, size, _score(pixels, x, y, alpha))
                if best is None or scored.score > best.score:
                    best = scored
    return best


def detect(pixels: Pixels, maps: AlphaMaps) -> Detection:
    """Search the image's bottom-right corner for the mark; ``found`` only at ``THRESHOLD`` or above."""
    height, width = pixels.shape[:2]
    best = _search(pixels, maps)
    if best is None:
        return Detection(False, None, None, None, None, 0.0)
    score = round(best.score, 4)
    if score < THRESHOLD:
        return Detection(False, None, None, None, None, score)
    name = geometry_name(best.size, width - best.x - best.size, height - best.y - best.size)
    return Detection(True, name, best.x, best.y, best.size, score)
