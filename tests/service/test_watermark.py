"""Watermark detection and removal (service/watermark) on the real Gemini samples with the real maps
(read from ../shared/realdata/watermark, skipped when absent), on simulator-stamped images in every
geometry, the false-positive guards, the alpha-map files, and the ``watermark remove`` command."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from service.watermark import AlphaMaps, Detection, load_alpha_maps, remove_watermark, save_alpha_map
from service.watermark.calibrate import extract_alpha
from simulator.images import unmarked_pixels
from simulator.watermark import placement, stamp, synthesised_alpha
from tests.support.paths import ROOT, realdata

NO_REAL_DIR = "/nonexistent"  # makes the simulator stamp its synthesised sparkle

MARKED_SAMPLES = [
    ("samples_4.png", "48px@32"),
    ("samples_7.png", "48px@32"),
    ("samples_large.png", "96px@64"),
    ("samples_large2.png", "96px@64"),
]


def _real_maps() -> AlphaMaps:
    directory = realdata("watermark", "bg_96.png").parent
    maps = load_alpha_maps(Path("/nonexistent-data-dir"), directory)
    assert maps is not None and maps.sizes == (48, 96)
    return maps


def _synthesised_maps() -> AlphaMaps:
    return AlphaMaps({48: synthesised_alpha(48), 96: synthesised_alpha(96)}, "synthesised")


def _rgb(data: bytes) -> NDArray[np.int16]:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _png(pixels: NDArray[np.uint8], image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, format=image_format)
    return buffer.getvalue()


def _mark_contrast(pixels: NDArray[np.int16], detection: Detection, alpha: NDArray[np.float32]) -> float:
    """Mean grey level where the mark is strong minus the mean of an 8 px ring around its box: large
    while the mark is there, near zero once the corner matches its surroundings."""
    assert detection.x is not None and detection.y is not None and detection.size is not None
    x, y, size = detection.x, detection.y, detection.size
    grey = pixels.mean(axis=2)
    box = grey[y : y + size, x : x + size]
    ring = np.ones((size + 16, size + 16), dtype=bool)
    ring[8:-8, 8:-8] = False
    around = grey[y - 8 : y + size + 8, x - 8 : x + size + 8][ring]
    return float(box[alpha >= 0.25].mean() - around.mean())


def _outside(shape: tuple[int, ...], detection: Detection) -> NDArray[np.bool_]:
    assert detection.x is not None and detection.y is not None and detection.size is not None
    mask = np.ones(shape[:2], dtype=bool)
    mask[detection.y : detection.y + detection.size, detection.x : detection.x + detection.size] = False
    return mask


@pytest.mark.parametrize(("name", "geometry"), MARKED_SAMPLES)
def test_real_mark_is_found_removed_and_the_rest_untouched(name: str, geometry: str) -> None:
    maps = _real_maps()
    data = realdata("watermark", name).read_bytes()
    cleaned, detection = remove_watermark(data, maps)
    assert detection.found and detection.geometry == geometry
    assert detection.header().startswith(f"found; geometry={geometry}; score=")
    before, after = _rgb(data), _rgb(cleaned)
    assert cleaned[:8] == b"\x89PNG\r\n\x1a\n"  # same format out
    outside = _outside(before.shape, detection)
    assert (before[outside] == after[outside]).all()
    alpha = maps.for_size(detection.size or 0)
    # The brightening is gone, and no dark hole in its place.
    marked_contrast = _mark_contrast(before, detection, alpha)
    cleaned_contrast = _mark_contrast(after, detection, alpha)
    assert marked_contrast > 15 and marked_contrast - cleaned_contrast > 15
    assert cleaned_contrast > -0.6 * marked_contrast
    again, second = remove_watermark(cleaned, maps)
    assert not second.found and again == cleaned


def test_real_clean_photo_comes_back_byte_identical() -> None:
    data = realdata("watermark", "samples_no-gemini.jpg").read_bytes()
    cleaned, detection = remove_watermark(data, _real_maps())
    assert not detection.found and cleaned is data
    assert detection.header().startswith("not found; score=")


@pytest.mark.parametrize(
    ("width", "height"),
    [(2048, 2048), (2048, 1152), (1152, 2048), (512, 512), (688, 384), (384, 688), (1024, 2048), (896, 1200)],
)
@pytest.mark.parametrize("seed", ["alpha", "beta"])
def test_simulator_mark_in_every_geometry(width: int, height: int, seed: str) -> None:
    """Found wherever the simulator puts it (nothing in the detector knows its table), removed to
    within rounding of the unmarked picture, everything else identical; the unmarked one is untouched."""
    plain = unmarked_pixels(seed, width, height)
    marked = stamp(plain, NO_REAL_DIR)
    cleaned, detection = remove_watermark(_png(marked), _synthesised_maps())
    where = placement(width, height)
    assert detection.found and detection.size == where.size
    assert (detection.x, detection.y) == where.origin(width, height)
    assert detection.geometry == f"{where.size}px@{where.margin}"
    assert np.abs(_rgb(cleaned) - plain.astype(np.int16)).max() <= 2
    original = _png(plain)
    untouched, clean_detection = remove_watermark(original, _synthesised_maps())
    assert not clean_detection.found and untouched is original


@pytest.mark.parametrize(
    ("size", "right", "bottom"),
    [(96, 70, 58), (48, 40, 29), (72, 100, 100), (36, 90, 96), (144, 96, 96)],
)
def test_mark_off_the_known_anchors_is_still_found(size: int, right: int, bottom: int) -> None:
    """Drifted margins and scaled sizes (the 3.6 marks sat ~10 px off the formula): searched, not assumed."""
    plain = unmarked_pixels(f"drift{size}", 2048, 1152)
    maps = _synthesised_maps()
    alpha = maps.for_size(size)[..., None]
    x, y = 2048 - right - size, 1152 - bottom - size
    marked = plain.astype(np.float32)
    marked[y : y + size, x : x + size] = alpha * 255.0 + (1.0 - alpha) * marked[y : y + size, x : x + size]
    cleaned, detection = remove_watermark(_png(np.rint(marked).astype(np.uint8)), maps)
    assert detection.found and (detection.x, detection.y, detection.size) == (x, y, size)
    expected_margin = str(right) if right == bottom else f"{right}x{bottom}"
    assert detection.geometry == f"{size}px@{expected_margin}"
    assert np.abs(_rgb(cleaned) - plain.astype(np.int16)).max() <= 2


def test_jpeg_in_jpeg_out() -> None:
    plain = unmarked_pixels("jpeg", 2048, 1152)
    cleaned, detection = remove_watermark(_png(stamp(plain, NO_REAL_DIR), "JPEG"), _synthesised_maps())
    assert detection.found and cleaned[:3] == b"\xff\xd8\xff"
    assert np.abs(_rgb(cleaned) - plain.astype(np.int16)).mean() < 3


def _bright_corners() -> list[NDArray[np.uint8]]:
    rng = np.random.default_rng(7)
    white = np.full((1024, 1024, 3), 255, dtype=np.uint8)
    light = np.clip(rng.normal(225, 12, (1024, 1536, 3)), 0, 255).astype(np.uint8)
    # Bright diagonal stripes near the corner: the kind of texture that correlates a little.
    ys, xs = np.mgrid[0:1152, 0:2048]
    stripes = (200 + 55 * (np.sin((xs + ys) / 9.0) > 0)).astype(np.uint8)
    # Bright discs on a mid-grey corner: they correlate with the sparkle, but rise faster than white can.
    blobs = np.full((1152, 2048), 190, dtype=np.uint8)
    for cx, cy in ((1930, 1040), (1880, 990), (1960, 1100)):
        blobs[(xs - cx) ** 2 + (ys - cy) ** 2 < 20**2] = 250
    return [white, light, np.repeat(stripes[..., None], 3, 2), np.repeat(blobs[..., None], 3, 2)]


@pytest.mark.parametrize("index", range(4))
def test_bright_or_white_corners_are_not_darkened(index: int) -> None:
    image = _bright_corners()[index]
    data = _png(image)
    cleaned, detection = remove_watermark(data, _synthesised_maps())
    assert not detection.found and cleaned is data


def test_black_lines_over_a_sparkle_are_not_taken_for_the_mark() -> None:
    """Black strokes on top of a sparkle shape: no white blend leaves a pixel below a*255, so this is
    not Gemini's mark, and reverse-blending it would punch black holes into the strokes' surroundings."""
    marked = stamp(np.full((1152, 2048, 3), 120, dtype=np.uint8), NO_REAL_DIR)
    x, y = placement(2048, 1152).origin(2048, 1152)
    for offset in range(10, 96, 32):
        marked[y + offset : y + offset + 2, x : x + 96] = 0
    data = _png(marked)
    cleaned, detection = remove_watermark(data, _synthesised_maps())
    assert not detection.found and cleaned is data


def test_a_mark_over_white_never_darkens_the_white() -> None:
    white = np.full((1152, 2048, 3), 255, dtype=np.uint8)
    marked = stamp(white, NO_REAL_DIR)  # white blended over white stays white
    cleaned, _ = remove_watermark(_png(marked), _synthesised_maps())
    assert (_rgb(cleaned) == 255).all()


def test_unreadable_bytes_are_a_clear_error() -> None:
    from service.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match="could not be decoded"):
        remove_watermark(b"not an image", _synthesised_maps())


def test_alpha_maps_are_stored_private_and_read_back(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert load_alpha_maps(data_dir, None) is None
    path = save_alpha_map(data_dir, synthesised_alpha(96))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    maps = load_alpha_maps(data_dir, None)
    assert maps is not None and maps.sizes == (96,)
    assert np.abs(maps.for_size(96) - synthesised_alpha(96)).max() <= 0.5 / 255 + 1e-6
    assert maps.for_size(36).shape == (36, 36)  # other sizes resampled from the capture
    with pytest.raises(FileNotFoundError):
        load_alpha_maps(data_dir, tmp_path / "empty")


def test_override_dir_wins_over_calibrated_maps(tmp_path: Path) -> None:
    save_alpha_map(tmp_path / "data", synthesised_alpha(96))
    override = tmp_path / "maps"
    save_alpha_map(override.parent / "unused", synthesised_alpha(48))
    override.mkdir()
    (tmp_path / "unused" / "watermark" / "bg_48.png").rename(override / "bg_48.png")
    maps = load_alpha_maps(tmp_path / "data", override)
    assert maps is not None and maps.sizes == (48,) and maps.source == str(override)


@pytest.mark.parametrize(("width", "height"), [(2048, 2048), (1152, 2048), (512, 512), (384, 688)])
def test_extract_alpha_from_a_black_image_is_the_map(width: int, height: int) -> None:
    black = np.zeros((height, width, 3), dtype=np.uint8)
    found = extract_alpha(stamp(black, NO_REAL_DIR))
    assert found is not None
    alpha, origin = found
    where = placement(width, height)
    assert alpha.shape == (where.size, where.size) and origin == where.origin(width, height)
    assert np.abs(alpha - synthesised_alpha(where.size)).max() <= 0.5 / 255 + 1e-6
    assert extract_alpha(black) is None
    not_black = unmarked_pixels("x", width, height)
    assert extract_alpha(stamp(not_black, NO_REAL_DIR)) is None


def _run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "watermark", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_remove_cleans_a_file_and_prints_the_decision(tmp_path: Path) -> None:
    maps_dir = tmp_path / "maps"
    maps_dir.mkdir()
    for size in (48, 96):
        save_alpha_map(tmp_path / "store", synthesised_alpha(size))
        (tmp_path / "store" / "watermark" / f"bg_{size}.png").rename(maps_dir / f"bg_{size}.png")
    plain = unmarked_pixels("cli", 2048, 1152)
    source = tmp_path / "in.png"
    source.write_bytes(_png(stamp(plain, NO_REAL_DIR)))
    env = {"GATEWAY_WATERMARK_ALPHA_DIR": str(maps_dir), "GATEWAY_DATA_DIR": str(tmp_path / "data")}

    done = _run_cli("remove", str(source), str(tmp_path / "out.png"), env=env)
    assert done.returncode == 0, done.stderr
    assert "found; geometry=96px@64; score=" in done.stdout
    assert np.abs(_rgb((tmp_path / "out.png").read_bytes()) - plain.astype(np.int16)).max() <= 2

    clean = tmp_path / "clean.png"
    clean.write_bytes(_png(plain))
    done = _run_cli("remove", str(clean), env=env)
    assert done.returncode == 0 and "not found" in done.stdout
    assert (tmp_path / "clean.clean.png").read_bytes() == clean.read_bytes()


def test_cli_remove_without_maps_says_how_to_get_them(tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(_png(unmarked_pixels("x", 64, 64)))
    done = _run_cli("remove", str(source), env={"GATEWAY_DATA_DIR": str(tmp_path / "data")})
    assert done.returncode == 2 and "watermark calibrate" in done.stderr
