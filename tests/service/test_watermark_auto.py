"""``remove_watermark`` on a fresh install: the mark is calibrated on first need, with the account that
made the image, once per size class (stored; concurrent first requests wait for one calibration),
and a 400 remains only when calibration itself fails, saying why. A real uvicorn gateway over a
scripted pool whose images carry the simulator's synthesised mark (the pure black ones too)."""

from __future__ import annotations

import asyncio
import base64
import functools
import io
import json
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from browser import GeneratedImage, Media, Tool, TurnRequest, TurnSnapshot
from service.watermark.auto import AutoCalibration
from service.watermark.calibrate import CalibrationFailed
from simulator.images import unmarked_pixels
from simulator.watermark import stamp
from tests.service.admin_pool import AdminPool
from tests.service.conftest import API_KEY
from tests.service.scripted_pool import Pause, Script, ScriptedLease, ScriptedTurn, account
from tests.service.test_admin_accounts import gateway

SYNTHESISED = "/nonexistent"  # the simulator's synthesised sparkle, not the real capture
MODEL = "gemini-2.5-flash-imagen"


@functools.cache  # the same prompts (the calibration's above all) recur in every test
def marked_png(prompt: str) -> bytes:
    """What the simulator would answer: black for "pure black", 0.5K for "0.5K", mark stamped."""
    side = 512 if "0.5K" in prompt else 1024
    plain = (
        np.zeros((side, side, 3), np.uint8) if "pure black" in prompt else unmarked_pixels(prompt, side, side)
    )
    buffer = io.BytesIO()
    Image.fromarray(stamp(plain, SYNTHESISED), "RGB").save(buffer, format="PNG")
    return buffer.getvalue()


class _MarkTurn(ScriptedTurn):
    def __init__(self, lease: _MarkLease) -> None:
        super().__init__(lease.pool, lease.script)
        self.data = lease.data

    async def fetch_media_full(self, url: str) -> Media:
        return Media(data=self.data, mime="image/png", url=url)

    async def fetch_original(self, image: GeneratedImage) -> Media:
        return await self.fetch_media_full(image.url)


class _MarkLease(ScriptedLease):
    def __init__(self, pool: MarkPool, script: Script, data: bytes) -> None:
        super().__init__(pool, script)
        self.data = data

    async def __aenter__(self) -> ScriptedTurn:
        await super().__aenter__()
        return _MarkTurn(self)


@dataclass
class MarkPool(AdminPool):
    """Image turns answer a marked PNG; ``calibration_delay`` holds each calibration turn so that
    concurrent requests meet it; ``broken_black`` answers a picture where black was asked."""

    calibration_delay: float = 0.0
    broken_black: bool = False
    image_account: str = "acct-2"
    calibrations: list[TurnRequest] = field(default_factory=list)

    def turn(self, request: TurnRequest) -> ScriptedLease:
        if request.tool is not Tool.IMAGE:
            return super().turn(request)
        self.requests.append(request)
        black = "pure black" in request.prompt
        if black:
            self.calibrations.append(request)
        prompt = (
            request.prompt.replace("pure black", "grey") if black and self.broken_black else request.prompt
        )
        image = GeneratedImage(
            url="https://lh3.googleusercontent.com/gg-dl/x=s1024-rj", image_id=None, alt=None
        )
        answer = TurnSnapshot(cid="c_image", text="Here.", images=(image,), completed=True, frames=1)
        steps = [Pause(self.calibration_delay), answer] if black else [answer]
        account_id = request.account_id or self.image_account
        return _MarkLease(self, Script(steps, account_id=account_id), marked_png(prompt))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, MarkPool]]:
    pool = MarkPool(account_list=[account("acct-1"), account("acct-2")], calibration_delay=0.3)
    with gateway(tmp_path / "data", pool) as url:
        yield url, pool


def generate(url: str, prompt: str = "a lighthouse", **extra: object) -> httpx.Response:
    body = {"prompt": prompt, "model": MODEL, "remove_watermark": True, **extra}
    headers = {"Authorization": f"Bearer {API_KEY}"}
    return httpx.post(url + "/v1/images/generations", json=body, headers=headers, timeout=30)


def test_the_first_removal_calibrates_with_the_account_that_made_the_image(
    served: tuple[str, MarkPool], tmp_path: Path
) -> None:
    url, pool = served
    answer = generate(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-watermark"].startswith("found; geometry=96px@64")
    cleaned = Image.open(io.BytesIO(base64.b64decode(answer.json()["data"][0]["b64_json"])))
    corner = np.asarray(cleaned.convert("RGB"), np.int16)[1024 - 160 : 1024 - 64, 1024 - 160 : 1024 - 64]
    plain = unmarked_pixels("a lighthouse", 1024, 1024).astype(np.int16)[
        1024 - 160 : 1024 - 64, 1024 - 160 : 1024 - 64
    ]
    assert np.abs(corner - plain).max() <= 3
    # The 1K class's two prompts, on the account that made the image, and nothing for 0.5K yet.
    assert [(r.account_id, r.mode.value) for r in pool.calibrations] == [("acct-2", "flash")] * 2
    stored = tmp_path / "data" / "watermark"
    assert sorted(p.name for p in stored.iterdir()) == ["bg_96.png", "classes.json"]
    assert stat.S_IMODE((stored / "bg_96.png").stat().st_mode) == 0o600
    assert json.loads((stored / "classes.json").read_text()) == ["1k"]

    assert generate(url, "another lighthouse").status_code == 200
    assert len(pool.calibrations) == 2  # stored: not calibrated again
    small = generate(url, "a 0.5K lighthouse")
    assert small.status_code == 200 and small.headers["x-watermark"].startswith("found; geometry=48px@32")
    assert len(pool.calibrations) == 4  # the 0.5K class, once


def test_concurrent_first_requests_wait_for_one_calibration(served: tuple[str, MarkPool]) -> None:
    url, pool = served
    with ThreadPoolExecutor(4) as workers:
        answers = list(workers.map(lambda i: generate(url, f"lighthouse {i}"), range(4)))
    assert [a.status_code for a in answers] == [200] * 4
    assert all(a.headers["x-watermark"].startswith("found") for a in answers)
    assert len(pool.calibrations) == 2  # one calibration (two prompts) for all four


def test_calibration_failure_is_a_400_saying_why_and_is_tried_again(tmp_path: Path) -> None:
    pool = MarkPool(account_list=[account("acct-2")], broken_black=True)
    with gateway(tmp_path / "data", pool) as url:
        refused = generate(url)
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert error["param"] == "remove_watermark"
        assert "could not be calibrated" in error["message"] and "no black image" in error["message"]
        without = generate(url, remove_watermark=False)
        assert without.status_code == 200 and "x-watermark" not in without.headers
        pool.broken_black = False
        again = generate(url)
        assert again.status_code == 200, again.text
    assert len(pool.calibrations) == 4  # the failed attempt, then the one that worked
    assert not (tmp_path / "data" / "watermark" / "bg_48.png").exists()


def test_maps_from_the_calibrate_command_are_used_as_they_are(tmp_path: Path) -> None:
    """A data directory calibrated by ``watermark calibrate`` before classes were recorded."""
    from service.watermark import save_alpha_map
    from simulator.watermark import synthesised_alpha

    for size in (48, 96):
        save_alpha_map(tmp_path / "data", synthesised_alpha(size))
    pool = MarkPool(account_list=[account("acct-2")])
    with gateway(tmp_path / "data", pool) as url:
        assert generate(url).headers["x-watermark"].startswith("found")
        assert generate(url, "a 0.5K lighthouse").headers["x-watermark"].startswith("found")
    assert pool.calibrations == []


def test_watermark_alpha_dir_is_never_calibrated(tmp_path: Path) -> None:
    pool = MarkPool(account_list=[account("acct-2")])
    empty = tmp_path / "captures"
    empty.mkdir()
    with gateway(tmp_path / "data", pool, watermark_alpha_dir=empty) as url:
        refused = generate(url)
    assert refused.status_code == 400 and "watermark_alpha_dir" in refused.json()["error"]["message"]
    assert pool.calibrations == []


async def test_start_calibrates_every_class_in_the_background(tmp_path: Path) -> None:
    from service.pool_adapter import BrowserBackend

    pool = MarkPool(account_list=[account("acct-1")], calibration_delay=0.1, image_account="acct-1")
    async with AutoCalibration(BrowserBackend(pool), tmp_path) as maps:
        maps.start()
        assert len(pool.calibrations) == 0  # nothing waited for it
        found = await maps.maps_for(512, 512, account_id=None)
        assert 48 in found.sizes
        await asyncio.wait_for(maps.maps_for(1024, 1024, account_id=None), 10)
    assert len(pool.calibrations) == 4
    assert {r.account_id for r in pool.calibrations} == {None}  # any account the pool picks


async def test_a_waiter_that_goes_away_does_not_cancel_the_calibration(tmp_path: Path) -> None:
    from service.pool_adapter import BrowserBackend

    pool = MarkPool(account_list=[account("acct-1")], calibration_delay=0.2)
    async with AutoCalibration(BrowserBackend(pool), tmp_path) as maps:
        first = asyncio.create_task(maps.maps_for(1024, 1024, account_id="acct-1"))
        await asyncio.sleep(0.05)
        first.cancel()
        found = await asyncio.wait_for(maps.maps_for(1024, 1024, account_id="acct-1"), 10)
    assert 96 in found.sizes and len(pool.calibrations) == 2
    with pytest.raises(CalibrationFailed):
        async with AutoCalibration(BrowserBackend(MarkPool(broken_black=True)), tmp_path / "x") as broken:
            await broken.maps_for(1024, 1024, account_id=None)
