"""Gems as models through the official ``openai`` client, the real gateway, pool and simulator: a
custom Gem made on the account shows up as ``gem-<slug>`` once the pool lists the account's Gems
again, and a chat with it is answered on the Gem's page (docs/guides/gems.md)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.e2e.conftest import Stack, marker, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

ANSWERED_AS = "Answering as the Gem \u201cPirate Captain\u201d"


@pytest.fixture(scope="module")
def gem_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # Listed again every half second, so a Gem made after the start shows without a restart.
    with running_stack(
        tmp_path_factory.mktemp("e2e-gems"), ("paid",), browser={"gems_interval": 0.5}
    ) as running:
        yield running


def test_a_custom_gem_is_a_model_answered_on_its_page(gem_stack: Stack) -> None:
    client = gem_stack.client()
    assert not [model.id for model in client.models.list() if model.id.startswith("gem-")]
    gem = {"name": "Pirate Captain", "description": "Arr.", "prompt": "Talk like a pirate."}
    made = httpx.post(f"{gem_stack.sim_url}/_sim/gems", json={"account": "paid", "gems": [gem]}, timeout=10)
    gem_id = made.json()["gems"][0]["id"]
    gem_stack.wait_for(
        lambda: "gem-pirate-captain" in [model.id for model in client.models.list()], "the Gem model"
    )

    word = marker()
    answer = client.chat.completions.create(
        model="gem-pirate-captain", messages=[{"role": "user", "content": f"ahoy {word}"}]
    )
    said = answer.choices[0].message.content or ""
    assert ANSWERED_AS in said
    # The history sent back continues the same chat, on the Gem's page again.
    again = client.chat.completions.create(
        model="gem-pirate-captain",
        messages=[
            {"role": "user", "content": f"ahoy {word}"},
            {"role": "assistant", "content": said},
            {"role": "user", "content": f"and then {word}"},
        ],
    )
    assert ANSWERED_AS in (again.choices[0].message.content or "")
    first, follow = gem_stack.requests_with(word)
    assert follow["sent_cid"] and follow["sent_cid"] == first["cid"] and follow["gem"] == gem_id
    streamed = client.responses.create(model="gem-pirate-captain", input=f"sail on {word}", stream=True)
    text = "".join(event.delta for event in streamed if event.type == "response.output_text.delta")
    assert ANSWERED_AS in text
    assert [entry["gem"] for entry in gem_stack.requests_with(word)] == [gem_id, gem_id, gem_id]

    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="gem-parrot", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.code == "model_not_found"
