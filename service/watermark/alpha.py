"""The mark's opacity maps: loaded from captures of the mark on black (``bg_<size>.png``, opacity =
max(R,G,B)/255, docs/guides/images.md#the-mark), written by calibration, resampled for other sizes.

The maps are not shipped: ``python -m service watermark calibrate`` measures them from Gemini into
``<data_dir>/watermark/``, or the ``watermark_alpha_dir`` setting names a directory of captures.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

__all__ = [
    "ALPHA_SUBDIR",
    "Alpha",
    "AlphaMaps",
    "calibrated_classes",
    "load_alpha_maps",
    "record_classes",
    "save_alpha_map",
]

Alpha = NDArray[np.float32]

ALPHA_SUBDIR = "watermark"
_CAPTURE = re.compile(r"^bg_(\d{2,3})\.png$")
# Which size classes were measured (``calibrate.SIZE_CLASSES``), beside the maps.
_CLASSES_FILE = "classes.json"


@dataclass(frozen=True)
class AlphaMaps:
    """Opacity maps by mark size (px); ``for_size`` resamples the largest capture for other sizes."""

    captured: Mapping[int, Alpha]
    source: str
    _resampled: dict[int, Alpha] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.captured:
            raise ValueError("AlphaMaps needs at least one map")

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(sorted(self.captured))

    def for_size(self, size: int) -> Alpha:
        exact = self.captured.get(size)
        if exact is not None:
            return exact
        cached = self._resampled.get(size)
        if cached is None:
            cached = resample(self.captured[max(self.captured)], size)
            self._resampled[size] = cached
        return cached


def resample(alpha: Alpha, size: int) -> Alpha:
    """Area averaging when shrinking (keeps the peak honest), bilinear when growing."""
    method = Image.Resampling.BOX if size < alpha.shape[0] else Image.Resampling.BILINEAR
    resized = Image.fromarray(alpha.astype(np.float32), "F").resize((size, size), method)
    return np.asarray(resized, dtype=np.float32).clip(0.0, 1.0)


def read_capture(path: Path) -> Alpha:
    """A capture of the mark on black as opacity: max(R,G,B)/255."""
    with Image.open(path) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    if rgb.shape[0] != rgb.shape[1]:
        raise ValueError(f"{path.name} is not square ({rgb.shape[1]}x{rgb.shape[0]})")
    result: Alpha = (rgb.max(axis=2) / 255.0).astype(np.float32)
    return result


def _read_directory(directory: Path) -> dict[int, Alpha]:
    maps: dict[int, Alpha] = {}
    if not directory.is_dir():
        return maps
    for path in sorted(directory.iterdir()):
        match = _CAPTURE.match(path.name)
        if match is None:
            continue
        alpha = read_capture(path)
        if alpha.shape[0] != int(match[1]):
            raise ValueError(f"{path.name} is {alpha.shape[0]} px, not {match[1]}")
        maps[alpha.shape[0]] = alpha
    return maps


def load_alpha_maps(data_dir: Path, override_dir: Path | None) -> AlphaMaps | None:
    """The maps in ``override_dir`` (an error when it holds none: the setting names it on purpose),
    else the calibrated ones in ``<data_dir>/watermark``, else None (not calibrated yet)."""
    if override_dir is not None:
        maps = _read_directory(override_dir)
        if not maps:
            raise FileNotFoundError(f"no bg_<size>.png alpha maps in {override_dir}")
        return AlphaMaps(maps, str(override_dir))
    directory = data_dir / ALPHA_SUBDIR
    maps = _read_directory(directory)
    return AlphaMaps(maps, str(directory)) if maps else None


def save_alpha_map(data_dir: Path, alpha: Alpha) -> Path:
    """Store a measured map as ``<data_dir>/watermark/bg_<size>.png`` (dir 0700, file 0600), in the
    same form as the real captures: grey levels = opacity * 255."""
    directory = data_dir / ALPHA_SUBDIR
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    size = alpha.shape[0]
    path = directory / f"bg_{size}.png"
    levels = np.clip(np.rint(alpha * 255.0), 0, 255).astype(np.uint8)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        Image.fromarray(np.repeat(levels[..., None], 3, axis=2), "RGB").save(handle, format="PNG")
    path.chmod(0o600)
    return path


def calibrated_classes(data_dir: Path, every_class: Iterable[str]) -> set[str]:
    """The size classes whose maps are stored. Maps stored before classes were recorded came from
    the calibrate command, which always measured ``every_class``."""
    directory = data_dir / ALPHA_SUBDIR
    try:
        recorded = json.loads((directory / _CLASSES_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set(every_class) if _read_directory(directory) else set()
    except ValueError:  # an unreadable record: measuring again is cheaper than guessing
        return set()
    return {str(name) for name in recorded} if isinstance(recorded, list) else set()


def record_classes(data_dir: Path, classes: Iterable[str]) -> None:
    """Add ``classes`` to the record of measured size classes (0600, written whole then renamed)."""
    directory = data_dir / ALPHA_SUBDIR
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    known = calibrated_classes(data_dir, ()) | set(classes)
    temporary = directory / f".{_CLASSES_FILE}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(sorted(known), handle)
    temporary.replace(directory / _CLASSES_FILE)
