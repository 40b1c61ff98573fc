"""A gateway whose only account is a free one: what its page offers is served (its Flash, its limited
Pro, Create image, Canvas, Deep Research: docs/architecture/evidence.md#d8), and Create video, which its menu
does not list, is a clear 403."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.e2e.conftest import Stack, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def free_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e-free"), ("free",)) as running:
        yield running


def test_the_free_page_serves_what_it_offers_and_video_is_refused(free_stack: Stack) -> None:
    client = free_stack.client(prefix="/v1")
    available = {m.id for m in client.models.list().data if (m.model_extra or {}).get("available")}
    assert (
        "gemini-2.5-pro-video" not in available and {"gemini-2.5-pro", "gemini-2.5-flash-imagen"} <= available
    )
    assert [account.tier for account in free_stack.accounts()] == ["free"]  # type: ignore[attr-defined]

    for model in ("gemini-2.5-flash-free", "gemini-2.5-flash", "gemini-2.5-pro"):
        reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert (reply.choices[0].message.content or "").startswith("Turn 1 of chat")
    entries = free_stack.sim_requests()
    assert [entry["account"] for entry in entries] == ["free"] * 3
    # The free tier's own Pro id (M5), not the paid one.
    assert entries[-1]["mode_hex"] == "9d8ca3786ebdfbea"
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(
            model="gemini-2.5-pro-video", messages=[{"role": "user", "content": "hi"}]
        )
    assert refused.value.code == "not_offered"
