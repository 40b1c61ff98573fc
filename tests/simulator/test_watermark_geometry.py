"""The simulator's mark geometry table (docs/simulator-contract.md, "Watermark geometry") and the
pure black images calibration asks for."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.images import unmarked_pixels
from simulator.watermark import alpha_map, placement, stamp


@pytest.mark.parametrize(
    ("width", "height", "size", "margin"),
    [
        (2048, 2048, 96, 64),  # early-2026 catalogue
        (2048, 1152, 96, 64),
        (1152, 2048, 96, 192),  # May-2026 V2 large
        (512, 512, 48, 32),  # 0.5K / V1
        (688, 384, 48, 32),
        (384, 688, 48, 96),  # V2 downscaled
        (1024, 2048, 36, 143),  # V2 small: round(192 * 2048 / 2752)
        (896, 1200, 36, 84),
    ],
)
def test_geometry_by_size(width: int, height: int, size: int, margin: int) -> None:
    where = placement(width, height)
    assert (where.size, where.margin) == (size, margin)
    black = np.zeros((height, width, 3), dtype=np.uint8)
    marked = stamp(black, "/nonexistent")
    x, y = where.origin(width, height)
    ys, xs = np.nonzero(marked.max(axis=2))
    assert x <= xs.min() and xs.max() < x + size and y <= ys.min() and ys.max() < y + size
    expected = np.rint(alpha_map(size, "/nonexistent") * 255.0)
    assert np.abs(marked[y : y + size, x : x + size].max(axis=2) - expected).max() <= 1


def test_pure_black_prompt_gives_black_pixels() -> None:
    assert not unmarked_pixels("c:1:0:Create an image that is PURE BLACK", 64, 48).any()
    assert unmarked_pixels("c:1:0:a lighthouse", 64, 48).any()
