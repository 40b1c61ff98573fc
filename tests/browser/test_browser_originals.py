"""An image's full-size original, the page's way (c8o8Fe names it, its text hops lead to the bytes),
and by the preview's size suffix when c8o8Fe cannot name it; against the simulator."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from browser import AccountSpec, Tool, TurnRequest
from tests.browser.conftest import PoolOf, Sim, cookie
from tests.browser.test_browser_pool import _settings

pytestmark = [pytest.mark.browser]


async def test_the_original_comes_the_pages_way_else_by_its_size_suffix(
    simulators: dict[str, str], tmp_path: Path, pool_of: PoolOf
) -> None:
    from simulator.answers import image_specs

    mid = Sim(simulators["mid2026"])
    mid.reset()  # the simulator is shared: its RPC log below is this test's alone

    prompt = "a windmill at noon"
    spec = image_specs(prompt, 1, "", 1)[0]  # the size depends on the prompt alone
    async with pool_of(_settings(mid.base_url, tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="paid", psid=cookie("paid")))
        async with pool.turn(TurnRequest(prompt=prompt, tool=Tool.IMAGE)) as turn:
            async for _ in turn:
                pass
            assert turn.final is not None and turn.final.images
            image = turn.final.images[0]
            named = await turn.fetch_original(image)
            # Without the placeholder id c8o8Fe cannot be asked: the preview's ``=s0`` serves.
            suffixed = await turn.fetch_original(replace(image, image_id=None))
    # Only the hops from the URL c8o8Fe named end on /rd-gg-dl/; the suffix path stays on /gg-dl/.
    assert named.mime == "image/png" and "/rd-gg-dl/" in named.url
    assert suffixed.mime == "image/png" and suffixed.url.endswith("=s0") and "/rd-gg-dl/" not in suffixed.url
    assert named.data == suffixed.data
    with Image.open(io.BytesIO(named.data)) as original:
        assert original.size == (spec.width, spec.height)
    rpcs = [entry for entry in mid.rpcs() if entry.get("rpcid") == "c8o8Fe"]
    assert [entry["outcome"] for entry in rpcs] == ["ok"]
