"""``remove_watermark`` on a fresh data directory, on the real stack (simulator + BrowserPool in
Chromium): the first image calibrates the mark on the account that made it (the simulator is asked for
pure black images after the image itself), the mark is found, and the next image of the same size
class is cleaned without calibrating again."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import KEY_A, Stack, marker, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e-wm-auto"), ("paid",)) as running:
        yield running


def generate(stack: Stack, prompt: str) -> httpx.Response:
    return httpx.post(
        f"{stack.url}/v1/images/generations",
        headers={"Authorization": f"Bearer {KEY_A}"},
        json={"prompt": prompt, "model": "gemini-2.5-flash-imagen", "remove_watermark": True},
        timeout=180,
    )


def test_the_first_removal_calibrates_then_the_next_does_not(fresh: Stack) -> None:
    first = f"a lighthouse {marker()}"
    answer = generate(fresh, first)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-watermark"].startswith("found")  # the preview: the mark scaled down
    log = fresh.sim_requests()
    made = next(i for i, entry in enumerate(log) if first in entry["prompt"])
    black = [i for i, entry in enumerate(log) if "pure black" in entry["prompt"]]
    assert len(black) == 2 and black[0] > made  # the 1K class, on first need, after the image
    assert {log[i]["account_id"] for i in black} == {log[made]["account_id"]}  # the same account
    assert (fresh.settings.data_dir / "watermark" / "bg_96.png").is_file()

    # The simulator's images are random (their seed holds the chat's id), and a mark over a light
    # disc in the corner of the small preview can score below the threshold (seen once in a full
    # run: "not found; score=0.21"). Up to three images, then: one found, none calibrating again.
    verdicts = []
    for _ in range(3):
        second = generate(fresh, f"a harbour {marker()}")
        assert second.status_code == 200, second.text
        verdicts.append(second.headers["x-watermark"])
        if verdicts[-1].startswith("found"):
            break
    assert verdicts[-1].startswith("found"), verdicts
    assert sum("pure black" in entry["prompt"] for entry in fresh.sim_requests()) == 2
