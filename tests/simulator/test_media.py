"""Generated images (sizes, watermark, URL options, text hop) and videos (206 while rendering)."""

from __future__ import annotations

import io
import time

import httpx
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from simulator.answers import image_specs
from simulator.images import unmarked_pixels
from simulator.watermark import alpha_map, placement, synthesised_alpha
from tests.simulator.wire import cookies, decode, generate
from tests.support.paths import REALDATA, realdata

TOOL_IMAGE = 14
TOOL_VIDEO = 15


def _images(sim: str, prompt: str) -> tuple[str, list[str]]:
    decoded = decode(generate(sim, prompt, tool=TOOL_IMAGE).content)
    entries = decoded.candidates[-1][12][7][0]
    assert "http://googleusercontent.com/image_generation_content/0" in decoded.text
    return decoded.final[1][0], [entry[0][3][3] for entry in entries]


def _get(url: str, account: str | None = "paid-alice") -> httpx.Response:
    return httpx.get(url, cookies=cookies(account), timeout=20)


def _expected_alpha(size: int) -> NDArray[np.float64]:
    """The mark's opacity read here from the real capture (max(R,G,B)/255, realdata/watermark README),
    independently of simulator.watermark; the synthesised sparkle when the shared data is absent."""
    path = REALDATA / "watermark" / f"bg_{size}.png"
    if not path.is_file():
        return synthesised_alpha(size).astype(np.float64)
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    return rgb.max(axis=2) / 255.0


# Pinned from research/peers.md §4.4 (early-2026 size catalogue): 1K/2K outputs carry the 96 px mark
# 64 px from the right and bottom edges, 0.5K outputs the 48 px mark at 32.
@pytest.mark.parametrize(
    ("width", "height", "size", "margin", "origin"),
    [
        (1024, 1024, 96, 64, (864, 864)),
        (1408, 768, 96, 64, (1248, 608)),
        (1376, 768, 96, 64, (1216, 608)),
        (2752, 1536, 96, 64, (2592, 1376)),
        (512, 512, 48, 32, (432, 432)),
        (688, 384, 48, 32, (608, 304)),
    ],
)
def test_mark_geometry_per_gemini_size(
    width: int, height: int, size: int, margin: int, origin: tuple[int, int]
) -> None:
    where = placement(width, height)
    assert (where.size, where.margin) == (size, margin)
    assert where.origin(width, height) == origin


def _check_marked_original(
    sim: str, prompt: str, sizes: set[tuple[int, int]], mark: int, margin: int
) -> None:
    """The =s0 PNG is the prompt's plain image with exactly out = a*255 + (1-a)*plain in the box."""
    cid, urls = _images(sim, prompt)
    assert urls and all(url.endswith("=s1024-rj") and "/gg-dl/" in url for url in urls)
    original = _get(urls[0].replace("=s1024-rj", "=s0"))
    assert original.headers["content-type"] == "image/png"
    marked = np.asarray(Image.open(io.BytesIO(original.content)).convert("RGB"), dtype=np.int16)
    height, width = marked.shape[:2]
    assert (width, height) in sizes
    plain = unmarked_pixels(f"{cid}:1:0:{prompt}", width, height).astype(np.int16)
    x, y = width - margin - mark, height - margin - mark
    box = (slice(y, y + mark), slice(x, x + mark))
    alpha = _expected_alpha(mark)[..., None]
    expected = np.rint(alpha * 255.0 + (1.0 - alpha) * plain[box])
    assert np.abs(marked[box] - expected).max() <= 1
    assert marked[box].mean() - plain[box].mean() > 5  # the mark is visible, not a no-op blend
    outside = np.ones((height, width), dtype=bool)
    outside[box] = False
    assert (marked[outside] == plain[outside]).all()


def test_original_png_carries_the_mark_bottom_right(sim: str) -> None:
    _check_marked_original(sim, "a lighthouse at dusk", {(1024, 1024), (1408, 768)}, 96, 64)


def test_half_k_prompt_gets_a_small_image_with_the_small_mark(sim: str) -> None:
    _check_marked_original(sim, "a 0.5K sketch of a lighthouse", {(512, 512), (688, 384)}, 48, 32)


def test_half_k_keyword_picks_both_small_sizes_and_only_them() -> None:
    small = {(s.width, s.height) for i in range(40) for s in image_specs(f"0.5K fox {i}", 1, "c", 1)}
    large = {(s.width, s.height) for i in range(40) for s in image_specs(f"fox {i}", 1, "c", 1)}
    assert small == {(512, 512), (688, 384)}
    assert large == {(1024, 1024), (1408, 768)}


def test_preview_is_jpeg_and_size_options_work(sim: str) -> None:
    _, urls = _images(sim, "two cats")
    preview = _get(urls[0])
    assert preview.headers["content-type"] == "image/jpeg" and preview.content[:2] == b"\xff\xd8"
    assert max(Image.open(io.BytesIO(preview.content)).size) == 1024
    large = _get(urls[0].replace("=s1024-rj", "=s2048-rj"))
    assert large.headers["content-type"] == "image/jpeg"
    small = _get(urls[0].replace("=s1024-rj", "=s512"))
    assert (
        small.headers["content-type"] == "image/png"
        and max(Image.open(io.BytesIO(small.content)).size) == 512
    )


def test_download_option_answers_the_next_hop_as_text(sim: str) -> None:
    _, urls = _images(sim, "a red kite")
    hop = _get(urls[0].replace("=s1024-rj", "=d-I") + "?alr=yes")
    assert hop.headers["content-type"].startswith("text/plain")
    assert "/rd-gg-dl/" in hop.text and hop.text.endswith("=s0")
    final = _get(hop.text)
    assert final.headers["content-type"] == "image/png"
    assert final.content == _get(urls[0].replace("=s1024-rj", "=s0")).content


def test_images_need_cookies(sim: str) -> None:
    _, urls = _images(sim, "a boat")
    assert _get(urls[0], account=None).status_code == 403
    assert _get(urls[0].replace("/gg-dl/", "/gg-dl/x")).status_code == 404


def test_synthesised_mark_peaks_near_half() -> None:
    mark = synthesised_alpha(96)
    assert 0.45 <= float(mark.max()) <= 0.5 and float(mark[0, 0]) == 0.0
    fallback = alpha_map(48, "/nonexistent")
    assert fallback.shape == (48, 48) and float(fallback.max()) <= 0.5


def test_real_mark_is_used_when_present() -> None:
    directory = realdata("watermark", "bg_96.png").parent
    real = alpha_map(96, str(directory))
    assert 0.45 <= float(real.max()) <= 0.55
    assert not np.array_equal(real, synthesised_alpha(96))


def test_video_pending_then_ready(sim: str) -> None:
    # Long enough that the answer (slowed by a loaded machine) ends well before the render does.
    httpx.post(f"{sim}/_sim/config", json={"video_render_seconds": 3.0}, timeout=5).raise_for_status()
    decoded = decode(generate(sim, "a drone shot of waves", tool=TOOL_VIDEO).content)
    assert decoded.payloads[0][2]["44"] is True  # the locator marks an async job
    pending = [c for c in decoded.candidates if isinstance(c[12], list) and isinstance(c[12][0], dict)]
    assert pending and pending[0][12][0]["65"][0] == ["http://googleusercontent.com/video_gen_chip/0"]
    thumb, video = decoded.candidates[-1][12][59][0][0][0][0][7]
    assert "filename=video.mp4" in video
    assert _get(video).status_code == 206
    deadline = time.monotonic() + 30  # generous: the render time is short, the machine may be loaded
    while (ready := _get(video)).status_code == 206 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready.status_code == 200 and ready.headers["content-type"] == "video/mp4"
    assert ready.content[4:8] == b"ftyp" and len(ready.content) < 50_000
    assert _get(thumb).headers["content-type"] == "image/jpeg"
