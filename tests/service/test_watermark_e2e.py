"""The simulator's mark end to end, in real Chromium: calibrate the maps through a real BrowserPool on
the simulator (pure black images, ``=s0`` originals through the turn's media fetch), generate images
in several geometries, remove the mark: found where the simulator put it, the corner back to the
unmarked picture, every other pixel identical, a clean image byte-identical."""

from __future__ import annotations

import io
import stat
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from browser import AccountSpec, BrowserPool, PoolSettings, Tool, TurnRequest
from service.pool_adapter import BrowserBackend
from service.watermark import AlphaMaps, load_alpha_maps, remove_watermark
from service.watermark.calibrate import calibrate
from simulator.images import unmarked_pixels
from simulator.watermark import placement

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("watermark-data")


@pytest.fixture(scope="module")
async def pool(simulator_url: str, data_dir: Path) -> AsyncIterator[BrowserPool]:
    settings = PoolSettings.model_validate(
        {
            "gemini_url": simulator_url,
            "data_dir": data_dir,
            "ui_timeout": 5,
            "navigation_timeout": 15,
            "first_frame_timeout": 30,
            "idle_timeout": 30,
            "queue_timeout": 10,
        }
    )
    async with BrowserPool(settings) as running:
        await running.add_account(AccountSpec(name="paid", psid=f"paid-{uuid.uuid4().hex[:12]}"))
        yield running


@pytest.fixture(scope="module")
async def maps(pool: BrowserPool, data_dir: Path) -> AlphaMaps:
    measured = await calibrate(BrowserBackend(pool), data_dir)
    assert {item.size for item in measured} == {48, 96}
    for item in measured:
        assert 0.45 <= item.peak <= 0.55
        assert stat.S_IMODE(item.path.stat().st_mode) == 0o600
    assert stat.S_IMODE((data_dir / "watermark").stat().st_mode) == 0o700
    loaded = load_alpha_maps(data_dir, None)
    assert loaded is not None and loaded.sizes == (48, 96)
    return loaded


async def _generate(pool: BrowserPool, prompt: str) -> tuple[bytes, str]:
    async with pool.turn(TurnRequest(prompt=prompt, tool=Tool.IMAGE)) as turn:
        async for _ in turn:
            pass
        assert turn.final is not None and turn.final.images and turn.final.cid
        url = turn.final.images[0].url
        original = await turn.fetch_media(url.rsplit("=", 1)[0] + "=s0")
    return original, f"{turn.final.cid}:1:0:{prompt}"


def _rgb(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize(
    "prompt",
    [
        "a lighthouse at dusk, aspect ratio 1:1",  # 2048x2048: 96 px at 64
        "a lighthouse at dusk, aspect ratio 9:16",  # 1152x2048: 96 px at 192
        "a 0.5K lighthouse, aspect ratio 16:9",  # 688x384: 48 px at 32
        "a 0.5K lighthouse, aspect ratio 9:16",  # 384x688: 48 px at 96
        "a lighthouse at dusk, aspect ratio 1:2",  # 1024x2048: 36 px at 143 (resampled map)
    ],
)
async def test_generated_mark_is_removed(pool: BrowserPool, maps: AlphaMaps, prompt: str) -> None:
    original, seed = await _generate(pool, prompt)
    marked = _rgb(original)
    height, width = marked.shape[:2]
    plain = unmarked_pixels(seed, width, height).astype(np.int16)
    assert not np.array_equal(marked, plain)

    cleaned, detection = remove_watermark(original, maps)
    where = placement(width, height)
    assert detection.found, detection.header()
    assert (detection.x, detection.y, detection.size) == (*where.origin(width, height), where.size)
    assert detection.header().startswith(f"found; geometry={where.size}px@{where.margin}; score=")
    after = _rgb(cleaned)
    assert np.abs(after - plain).max() <= 2  # the corner matches what was under the mark
    box = np.zeros((height, width), dtype=bool)
    x, y = where.origin(width, height)
    box[y : y + where.size, x : x + where.size] = True
    assert (after[~box] == marked[~box]).all()
    again, second = remove_watermark(cleaned, maps)
    assert not second.found and again == cleaned


async def test_unmarked_image_comes_back_byte_identical(pool: BrowserPool, maps: AlphaMaps) -> None:
    original, _ = await _generate(pool, "an unmarked lighthouse at dusk")
    cleaned, detection = remove_watermark(original, maps)
    assert not detection.found and cleaned is original


def test_calibrate_command_stores_the_maps(simulator_url: str, tmp_path: Path) -> None:
    """``python -m service watermark calibrate`` with a configured simulator account, in a child
    process (its own Chromium and pool), stores one map per mark size."""
    import json
    import os
    import subprocess
    import sys

    from tests.support.paths import ROOT

    env = {
        **os.environ,
        "GATEWAY_DATA_DIR": str(tmp_path / "data"),
        "GATEWAY_ACCOUNTS": json.dumps([{"name": "paid", "psid": f"paid-{uuid.uuid4().hex[:12]}"}]),
        "GATEWAY_BROWSER__GEMINI_URL": simulator_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "service", "watermark", "calibrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "48 px mark" in done.stdout and "96 px mark" in done.stdout
    assert "paid-" not in done.stdout + done.stderr  # the cookie never reaches the output
    stored = sorted(path.name for path in (tmp_path / "data" / "watermark").iterdir())
    assert stored == ["bg_48.png", "bg_96.png", "classes.json"]
    classes = json.loads((tmp_path / "data" / "watermark" / "classes.json").read_text())
    assert classes == ["0.5k", "1k"]  # the gateway will not calibrate these again
