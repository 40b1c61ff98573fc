"""A gateway whose only account is a free one: the catalog says so, and paid models answer 503."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.e2e.conftest import Stack, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("e2e"), pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def free_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e-free"), ("free",)) as running:
        yield running


def test_only_the_free_model_is_available_and_paid_models_answer_503(free_stack: Stack) -> None:
    client = free_stack.client(prefix="/v1")
    available = {m.id for m in client.models.list().data if (m.model_extra or {}).get("available")}
    assert available == {"gemini-2.5-flash-free"}
    assert [account.tier for account in free_stack.accounts()] == ["free"]  # type: ignore[attr-defined]

    for model in ("gemini-2.5-flash", "gemini-2.5-pro"):
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert caught.value.status_code == 503
        assert caught.value.body["code"] == "no_healthy_account"  # type: ignore[index]

    reply = client.chat.completions.create(
        model="gemini-2.5-flash-free", messages=[{"role": "user", "content": "hi"}]
    )
    assert (reply.choices[0].message.content or "").startswith("Turn 1 of chat")
    entries = free_stack.sim_requests()
    assert [entry["account"] for entry in entries] == ["free"]
