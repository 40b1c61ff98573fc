"""Generated images (sizes, watermark, URL options, text hop) and videos (206 while rendering)."""

from __future__ import annotations

import io
import time

import httpx
import numpy as np
from PIL import Image

from simulator.images import unmarked_pixels
from simulator.watermark import alpha_map, placement, synthesised_alpha
from tests.simulator.wire import cookies, decode, generate
from tests.support.paths import realdata

TOOL_IMAGE = 14
TOOL_VIDEO = 15


def _images(sim: str, prompt: str) -> tuple[str, list[str]]:
    decoded = decode(generate(sim, prompt, tool=TOOL_IMAGE).content)
    entries = decoded.candidates[-1][12][7][0]
    assert "http://googleusercontent.com/image_generation_content/0" in decoded.text
    return decoded.final[1][0], [entry[0][3][3] for entry in entries]


def _get(url: str, account: str | None = "paid-alice") -> httpx.Response:
    return httpx.get(url, cookies=cookies(account), timeout=20)


def test_original_png_carries_the_mark_bottom_right(sim: str) -> None:
    prompt = "a lighthouse at dusk"
    cid, urls = _images(sim, prompt)
    assert urls and all(url.endswith("=s1024-rj") and "/gg-dl/" in url for url in urls)
    original = _get(urls[0].replace("=s1024-rj", "=s0"))
    assert original.headers["content-type"] == "image/png"
    marked = np.asarray(Image.open(io.BytesIO(original.content)).convert("RGB"), dtype=np.int16)
    height, width = marked.shape[:2]
    assert (width, height) in {(1024, 1024), (1408, 768)}
    plain = unmarked_pixels(f"{cid}:1:0:{prompt}", width, height).astype(np.int16)
    where = placement(width, height)
    x, y = where.origin(width, height)
    box = (slice(y, y + where.size), slice(x, x + where.size))
    assert (marked[box] >= plain[box]).all()
    assert marked[box].mean() - plain[box].mean() > 10
    outside = np.ones((height, width), dtype=bool)
    outside[box] = False
    assert (marked[outside] == plain[outside]).all()


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
