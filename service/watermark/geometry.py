"""Where Gemini puts its visible mark: the known geometries as data, and the anchors to search.

The mark always sits bottom-right, ``x = W - margin - size`` (docs/guides/images.md#where-the-mark-sits), but
its size
and margin have changed four times, so detection searches around every anchor below (and scaled
projections of them) instead of trusting one rule.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GEOMETRIES", "Geometry", "anchors", "geometry_name"]


@dataclass(frozen=True)
class Geometry:
    """A square mark of ``size`` px whose box ends ``margin`` px from the right and bottom edges."""

    size: int
    margin: int
    era: str

    @property
    def name(self) -> str:
        return geometry_name(self.size, self.margin, self.margin)

    def origin(self, width: int, height: int) -> tuple[int, int]:
        return width - self.margin - self.size, height - self.margin - self.size


def geometry_name(size: int, right: int, bottom: int) -> str:
    """``96px@64``, or ``96px@64x66`` when the right and bottom margins differ."""
    margin = str(right) if right == bottom else f"{right}x{bottom}"
    return f"{size}px@{margin}"


GEOMETRIES: tuple[Geometry, ...] = (
    Geometry(48, 32, "V1 2025 / 0.5K catalogue"),
    Geometry(96, 64, "V1 2025 large / early-2026 1K-4K catalogue"),
    Geometry(96, 192, "May-2026 V2 large"),
    Geometry(48, 96, "V2 downscaled / Gemini 3.6 large margin"),
)

# May-2026 V2 small: a 36 px mark at margin round(192 * long side / S), S chosen by the short side.
V2_SMALL_SIZE = 36
V2_MARGIN = 192
V2_REFERENCES = ((566, 2752), (550, 2816), (0, 2848))
# Resampled maps for outputs Google scales: each anchor also projected by these factors.
PROJECTIONS = (0.75, 1.5, 2.0)
MIN_SIZE, MAX_SIZE = 24, 192


def _v2_small(width: int, height: int) -> Geometry:
    long_side, short_side = max(width, height), min(width, height)
    reference = next(s for minimum, s in V2_REFERENCES if short_side >= minimum)
    return Geometry(V2_SMALL_SIZE, round(V2_MARGIN * long_side / reference), "May-2026 V2 small")


def anchors(width: int, height: int) -> list[Geometry]:
    """Every geometry worth searching around on a ``width`` x ``height`` image, largest first."""
    found: dict[tuple[int, int], Geometry] = {}
    for base in (*GEOMETRIES, _v2_small(width, height)):
        found.setdefault((base.size, base.margin), base)
        for factor in PROJECTIONS:
            size = round(base.size * factor)
            if MIN_SIZE <= size <= MAX_SIZE:
                scaled = Geometry(size, round(base.margin * factor), f"{base.era} scaled x{factor}")
                found.setdefault((scaled.size, scaled.margin), scaled)
    fitting = [g for g in found.values() if g.size + g.margin < min(width, height)]
    return sorted(fitting, key=lambda g: (-g.size, g.margin))
