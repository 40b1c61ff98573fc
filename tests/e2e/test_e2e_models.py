"""GET /v1/models through the real gateway, pool and simulator: availability and the page models
named come from each account's own otAQ7b answer (an expired account serves nothing)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import KEY_A, Stack, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def mixed_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e-models"), ("free", "expired"), ui="early2026") as running:
        yield running


def cards(stack: Stack) -> dict[str, dict[str, Any]]:
    response = httpx.get(f"{stack.url}/v1/models", headers={"Authorization": f"Bearer {KEY_A}"}, timeout=30)
    response.raise_for_status()
    return {card["id"]: card for card in response.json()["data"]}


# The early-2026 free tier's models (docs/architecture/evidence.md#m5: GA's BASIC_FLASH, BASIC_THINKING,
# BASIC_PRO).
FREE_FAST, FREE_THINKING, FREE_PRO = "fbb127bbb056c959", "5bf011840784117a", "9d8ca3786ebdfbea"


def test_models_name_what_the_accounts_really_offer(mixed_stack: Stack) -> None:
    states = {account.id: account.state for account in mixed_stack.accounts()}
    assert sorted(str(state) for state in states.values()) == ["ready", "signed_out"]
    listing = cards(mixed_stack)
    available = {name for name, card in listing.items() if card["available"]}
    # The expired account's page looks paid; its otAQ7b answer (1016) keeps it out of rotation. The
    # free one serves what its page offers: its Flash and limited Pro, image, canvas, research, the
    # storybook gem; not Create video, which its tools menu does not list, nor Create music, which
    # early 2026 pages (this stack's) have not (fidelity D3/D4: behind More tools from mid 2026).
    unoffered = {"gemini-2.5-pro-video", "gemini-2.5-flash-music"}
    assert mixed_stack.ui == "early2026"
    assert available == {card for card in listing if card not in unoffered}
    flashes = [{"id": FREE_FAST, "label": "Fast"}, {"id": FREE_THINKING, "label": "Thinking"}]
    assert listing["gemini-2.5-flash-free"]["upstream_models"] == flashes
    assert listing["gemini-2.5-pro"]["upstream_models"] == [{"id": FREE_PRO, "label": "Pro"}]
    assert listing["gemini-2.5-pro-video"]["upstream_models"] == []
