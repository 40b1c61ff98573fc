"""Gemini's visible watermark: the known geometries, opacity maps (calibrated, never shipped),
detection and reverse alpha blending (docs/guides/images.md#watermark-removal). No HTTP in here: the images
route and
the ``python -m service watermark`` command use it."""

from __future__ import annotations

from service.watermark.alpha import AlphaMaps, load_alpha_maps, save_alpha_map
from service.watermark.detect import THRESHOLD, Detection, detect
from service.watermark.geometry import GEOMETRIES, Geometry, anchors
from service.watermark.remove import remove_watermark

__all__ = [
    "GEOMETRIES",
    "THRESHOLD",
    "AlphaMaps",
    "Detection",
    "Geometry",
    "anchors",
    "detect",
    "load_alpha_maps",
    "remove_watermark",
    "save_alpha_map",
]
