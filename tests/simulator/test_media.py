"""Generated images (sizes, watermark, URL options, text hop) and videos (206 while rendering)."""

from __future__ import annotations

import hashlib
import io
import re
import time
from typing import Any

import httpx
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from simulator.answers import image_specs
from simulator.images import unmarked_pixels
from simulator.watermark import alpha_map, placement, synthesised_alpha
from tests.simulator.batchexecute_wire import one, read_payload
from tests.simulator.wire import cookies, decode, generate
from tests.support.paths import REALDATA, realdata

TOOL_IMAGE = 14
TOOL_VIDEO = 11


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


# Pinned from docs/guides/images.md#where-the-mark-sits (early 2026): 1K/2K outputs carry the 96 px mark
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
    _check_marked_original(sim, "a lighthouse at dusk", {(2048, 2048), (2048, 1152)}, 96, 64)


def test_half_k_prompt_gets_a_small_image_with_the_small_mark(sim: str) -> None:
    _check_marked_original(sim, "a 0.5K sketch of a lighthouse", {(512, 512), (688, 384)}, 48, 32)


def test_half_k_keyword_picks_both_small_sizes_and_only_them() -> None:
    small = {(s.width, s.height) for i in range(40) for s in image_specs(f"0.5K fox {i}", 1, "c", 1)}
    large = {(s.width, s.height) for i in range(40) for s in image_specs(f"fox {i}", 1, "c", 1)}
    assert small == {(512, 512), (688, 384)}
    assert large == {(2048, 2048), (2048, 1152)}


@pytest.mark.parametrize(
    ("prompt", "size"),
    [
        ("a fox, aspect ratio 16:9", (2048, 1152)),
        ("a fox, Aspect Ratio 9:16", (1152, 2048)),
        ("a fox (aspect ratio 3:2)", (2048, 1360)),
        ("a fox, aspect ratio 1:1", (2048, 2048)),
        ("a 0.5K fox, aspect ratio 9:16", (384, 688)),
        ("a 0.5K fox, aspect ratio 4:3", (688, 512)),
    ],
)
def test_aspect_ratio_in_the_prompt_sets_the_size(prompt: str, size: tuple[int, int]) -> None:
    assert {(s.width, s.height) for s in image_specs(prompt, 2, "c", 1)} == {size}


def _size(response: httpx.Response) -> tuple[int, int]:
    width, height = Image.open(io.BytesIO(response.content)).size
    return width, height


def test_preview_is_jpeg_and_size_options_work(sim: str) -> None:
    _, urls = _images(sim, "two cats")
    preview = _get(urls[0])
    assert preview.headers["content-type"] == "image/jpeg" and preview.content[:2] == b"\xff\xd8"
    assert max(_size(preview)) == 1024
    # The original is larger than the preview the page shows, so the two can be told apart.
    assert max(_size(_get(urls[0].replace("=s1024-rj", "=s0")))) == 2048
    bare = _get(urls[0].removesuffix("=s1024-rj"))
    assert bare.headers["content-type"] == "image/jpeg" and max(_size(bare)) == 512
    large = _get(urls[0].replace("=s1024-rj", "=s2048-rj"))
    assert large.headers["content-type"] == "image/jpeg"
    small = _get(urls[0].replace("=s1024-rj", "=s512"))
    assert (
        small.headers["content-type"] == "image/png"
        and max(Image.open(io.BytesIO(small.content)).size) == 512
    )


def test_download_option_answers_two_text_hops_then_the_original(sim: str) -> None:
    _, urls = _images(sim, "a red kite")
    first = _get(urls[0].removesuffix("=s1024-rj") + "=d-I?alr=yes")
    assert first.headers["content-type"].startswith("text/plain") and "/rd-gg/" in first.text
    second = _get(first.text)
    assert second.headers["content-type"].startswith("text/plain")
    assert "/rd-gg-dl/" in second.text and second.text.endswith("=s0")
    final = _get(second.text)
    assert final.headers["content-type"] == "image/png"
    assert final.content == _get(urls[0].replace("=s1024-rj", "=s0")).content
    assert _get(first.text, account=None).status_code == 403  # cookies are needed on every hop


def test_clean_keyword_gives_an_unmarked_original(sim: str) -> None:
    prompt = "an unmarked lighthouse, aspect ratio 1:1"
    cid, urls = _images(sim, prompt)
    original = np.asarray(Image.open(io.BytesIO(_get(urls[0].replace("=s1024-rj", "=s0")).content)))
    assert (original == unmarked_pixels(f"{cid}:1:0:{prompt}", 2048, 2048)).all()


def _upload_image(sim: str, data: bytes, name: str) -> list[Any]:
    response = httpx.post(
        f"{sim}/upload",
        files={"file": (name, data, "image/png")},
        headers={"Push-ID": "feeds/mcudyrk2a4khkz", "X-Tenant-Id": "bard-storage"},
        cookies=cookies("paid-alice"),
        timeout=10,
    )
    assert response.status_code == 200
    return [[response.text, 1, None, "image/png"], name]


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _edit(sim: str, prompt: str, inputs: list[bytes]) -> tuple[list[Any], NDArray[np.uint8]]:
    files = [_upload_image(sim, data, f"in{i}.png") for i, data in enumerate(inputs)]
    decoded = decode(generate(sim, prompt, tool=TOOL_IMAGE, files=files).content)
    rich = decoded.candidates[-1][12]
    url = rich[0]["8"][0][0][0][3][3]
    original = _get(url.replace("=s1024-rj", "=s0"))
    return rich, np.asarray(Image.open(io.BytesIO(original.content)).convert("RGB"))


def test_edit_results_sit_in_field_8_and_depend_on_every_input(sim: str) -> None:
    red, blue, green = _png((255, 0, 0)), _png((0, 0, 255)), _png((0, 255, 0))
    prompt = "unmarked: put them side by side, aspect ratio 16:9"
    rich, both = _edit(sim, prompt, [red, blue])
    assert len(rich) == 1 and set(rich[0]) == {"8"}  # not c[12][7][0]: the edit layout
    digests = ",".join(hashlib.sha256(data).hexdigest() for data in (red, blue))
    assert both.shape == (1152, 2048, 3)
    assert (both == unmarked_pixels(f"edit:{prompt}:{digests}", 2048, 1152)).all()
    _, other_second = _edit(sim, prompt, [red, green])
    _, other_prompt = _edit(sim, prompt + "!", [red, blue])
    assert not np.array_equal(both, other_second) and not np.array_equal(both, other_prompt)


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


def test_streamed_video_pending_then_ready(sim: str) -> None:
    """``video_flow: stream``: the final frame carries the URL, which answers 206 until rendered (J4)."""
    # Held until released below, so the answer (however slow the machine) ends before the render does.
    config = {"video_render_seconds": 3600, "video_flow": "stream"}
    httpx.post(f"{sim}/_sim/config", json=config, timeout=5).raise_for_status()
    decoded = decode(generate(sim, "a drone shot of waves", tool=TOOL_VIDEO).content)
    assert decoded.payloads[0][2]["44"] is True  # the locator marks an async job
    pending = [c for c in decoded.candidates if isinstance(c[12], list) and isinstance(c[12][0], dict)]
    assert pending and pending[0][12][0]["65"][0] == ["http://googleusercontent.com/video_gen_chip/0"]
    thumb, video = decoded.candidates[-1][12][59][0][0][0][0][7]
    assert "filename=video.mp4" in video
    assert _get(video).status_code == 206
    # The render ends now (the simulator reads the setting at each look).
    httpx.post(f"{sim}/_sim/config", json={"video_render_seconds": 0}, timeout=5).raise_for_status()
    deadline = time.monotonic() + 30
    while (ready := _get(video)).status_code == 206 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ready.status_code == 200 and ready.headers["content-type"] == "video/mp4"
    assert ready.content[4:8] == b"ftyp" and len(ready.content) < 50_000
    assert _get(thumb).headers["content-type"] == "image/jpeg"


def test_web_images_use_the_two_segment_placeholder(sim: str) -> None:
    """F20 (PWA): ``image_collection/image_retrieval/<n>`` in the text, the images at c[12][1] (I2)."""
    prompt = "show me web images of lighthouses"
    decoded = decode(generate(sim, prompt).content)
    kind = r"http://googleusercontent\.com/image_collection/image_retrieval/\d+_\d"
    placeholders = re.findall(kind, decoded.text)
    assert len(placeholders) == 2
    entries = decoded.candidates[-1][12][1]
    urls = [entry[0][0][0] for entry in entries]
    assert [entry[0][4] for entry in entries] == [f"Web image {n} for {prompt}" for n in (1, 2)]
    assert all(url.startswith(f"{sim}/webimg/") for url in urls)
    [turn] = one(sim, "hNvQHb", read_payload(decoded.final[1][0])).payload[0]
    assert turn[3][0][0][12][1] == entries, "the history shows the same web images"
    picture = httpx.get(urls[0], timeout=10)  # public pictures: no cookie needed
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert decode(generate(sim, "no pictures please").content).candidates[-1][12] is None
