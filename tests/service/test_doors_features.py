"""The new features through the Anthropic and Gemini-native doors, with their official SDKs on a
scripted pool (no page): temporary chats by the ``X-Gateway-Temporary`` header, the accounts' Gem
models, the streamed imagen answer's keep-alives, and ``usageMetadata.thoughtsTokenCount``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import anthropic
import httpx
import pytest
from google import genai
from google.genai import errors, types

from browser import Gem, Tool, TurnRequest
from service.chat.inputs import FOLD_PREAMBLE
from tests.service.conftest import API_KEY, Served
from tests.service.image_pool import ImagePool
from tests.service.scripted_pool import Hold, Pause, Script, ScriptedLease, account, growing

FLASH = "gemini-2.5-flash"
IMAGEN = "gemini-2.5-flash-imagen"
PIRATE = Gem("aa11", "Pirate", "Talks like a pirate.", "You are a pirate.", premade=False)
TEMPORARY = {"X-Gateway-Temporary": "true"}


@dataclass
class HeldImagePool(ImagePool):
    """Image turns wait for ``release`` before the page shows the image."""

    release: threading.Event = field(default_factory=threading.Event)

    def turn(self, request: TurnRequest) -> ScriptedLease:
        lease = super().turn(request)
        if request.tool is Tool.IMAGE:
            lease.script = Script([Hold(self.release), *lease.script.steps])
        return lease


@pytest.fixture
def served(serve_gateway: Callable[..., Served]) -> Served:
    pool = HeldImagePool(account_list=[replace(account("acct-1"), gems=(PIRATE,))])
    return serve_gateway(pool, keep_alive_interval=0.05)


def gemini(served: Served, **headers: str) -> genai.Client:
    options = types.HttpOptions(
        base_url=served.url, api_version="v1beta", timeout=15_000, headers=headers or None
    )
    return genai.Client(api_key=API_KEY, http_options=options)


def claude(served: Served) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=API_KEY, base_url=served.url, max_retries=0, timeout=15)


def test_the_header_makes_a_temporary_chat_on_the_gemini_door(served: Served) -> None:
    served.pool.queue(Script(growing("Hello!", cid="c_1")), Script(growing("More.", cid="c_2")))
    client = gemini(served, **TEMPORARY)
    first = client.models.generate_content(model=FLASH, contents="Hi")
    history = [
        types.Content(role="user", parts=[types.Part(text="Hi")]),
        types.Content(role="model", parts=[types.Part(text=first.text or "")]),
        types.Content(role="user", parts=[types.Part(text="And then?")]),
    ]
    list(client.models.generate_content_stream(model=FLASH, contents=history))  # type: ignore[arg-type]
    opening, again = served.pool.requests
    assert opening.temporary and again.temporary
    assert again.chat_id is None and again.prompt.startswith(FOLD_PREAMBLE)  # never continued
    unsure = gemini(served, **{"X-Gateway-Temporary": "maybe"})  # kept: the SDK closes it when collected
    with pytest.raises(errors.ClientError) as wrong:
        unsure.models.generate_content(model=FLASH, contents="Hi")
    assert (wrong.value.code, wrong.value.status) == (400, "INVALID_ARGUMENT")
    assert "X-Gateway-Temporary" in (wrong.value.message or "")
    assert len(served.pool.requests) == 2  # refused before any page work


def test_the_header_makes_a_temporary_chat_on_the_anthropic_door(served: Served) -> None:
    served.pool.queue(Script(growing("Hello!", cid="c_1")), Script(growing("More.", cid="c_2")))
    client = claude(served)
    first = client.messages.create(
        model=FLASH, max_tokens=100, messages=[{"role": "user", "content": "Hi"}], extra_headers=TEMPORARY
    )
    said = first.content[0].text  # type: ignore[union-attr]
    follow_up = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": said},
        {"role": "user", "content": "And then?"},
    ]
    with client.messages.stream(
        model=FLASH,
        max_tokens=100,
        messages=follow_up,
        extra_headers=TEMPORARY,  # type: ignore[arg-type]
    ) as stream:
        assert stream.get_final_text() == "More."
    opening, again = served.pool.requests
    assert opening.temporary and again.temporary
    assert again.chat_id is None and "[Assistant]\nHello!" in again.prompt
    with pytest.raises(anthropic.BadRequestError) as wrong:
        client.messages.create(
            model=FLASH,
            max_tokens=10,
            messages=[{"role": "user", "content": "Hi"}],
            extra_headers={"X-Gateway-Temporary": "maybe"},
        )
    assert wrong.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError) as misplaced:
        client.messages.create(
            model=FLASH,
            max_tokens=10,
            messages=[{"role": "user", "content": "Hi"}],
            metadata={"temporary": "true"},  # type: ignore[typeddict-unknown-key]
        )
    assert "X-Gateway-Temporary" in misplaced.value.message
    assert len(served.pool.requests) == 2


def test_an_accounts_gems_are_models_of_both_doors(served: Served) -> None:
    client = gemini(served)
    assert "models/gem-pirate" in [model.name for model in client.models.list()]
    assert client.models.get(model="gem-pirate").name == "models/gem-pirate"
    with pytest.raises(errors.ClientError) as unknown:
        client.models.get(model="gem-nobody-has")
    assert unknown.value.code == 404
    assert client.models.generate_content(model="gem-pirate", contents="Ahoy").text
    assert served.pool.requests[-1].gem_by_account == {"acct-1": "aa11"}
    answer = claude(served).messages.create(
        model="gem-pirate", max_tokens=100, messages=[{"role": "user", "content": "Ahoy"}]
    )
    assert answer.model == "gem-pirate" and answer.content[0].text  # type: ignore[union-attr]
    assert len(served.pool.requests) == 2 and served.pool.requests[-1].gem_by_account == {"acct-1": "aa11"}


def test_a_streamed_image_sends_chunks_before_the_image_is_ready(served: Served) -> None:
    pool = served.pool
    assert isinstance(pool, HeldImagePool)
    url = f"{served.url}/v1beta/models/{IMAGEN}:streamGenerateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "a blue square"}]}]}
    params = {"alt": "sse", "key": API_KEY}
    with httpx.stream("POST", url, params=params, json=body, timeout=15) as response:
        assert response.status_code == 200
        events = (json.loads(line[len("data: ") :]) for line in response.iter_lines() if line)
        # The opening chunk and a keep-alive arrive while the page is still making the image.
        early = [next(events), next(events)]
        assert not pool.release.is_set()
        for chunk in early:
            assert chunk["candidates"][0]["content"]["parts"] == [{"text": ""}]
        pool.release.set()
        last = [event for event in events][-1]
    parts = last["candidates"][0]["content"]["parts"]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert any("inlineData" in part for part in parts)


def test_the_sdk_reads_a_text_stream_through_its_keep_alives(served: Served) -> None:
    steps = growing("Hello there.", cid="c_1")
    served.pool.queue(Script([steps[0], Pause(0.3), *steps[1:]]))  # several keep-alive intervals
    client = gemini(served)  # kept: the SDK closes its HTTP client when the Client is collected
    chunks = list(client.models.generate_content_stream(model=FLASH, contents="Hi"))
    assert "".join(chunk.text or "" for chunk in chunks) == "Hello there."


def test_thoughts_are_counted_apart_in_usage_metadata(served: Served) -> None:
    client = gemini(served)
    served.pool.queue(Script(growing("Answer.", thoughts="t" * 40)))
    whole = client.models.generate_content(model=FLASH, contents="x" * 40)
    served.pool.queue(Script(growing("Answer.", thoughts="t" * 40)))
    streamed = list(client.models.generate_content_stream(model=FLASH, contents="x" * 40))
    for usage in (whole.usage_metadata, streamed[-1].usage_metadata):
        assert usage is not None
        assert (usage.thoughts_token_count, usage.candidates_token_count) == (10, 2)  # 40 and 7 characters
        assert usage.total_token_count == (usage.prompt_token_count or 0) + 12
    served.pool.queue(Script(growing("Answer.")))
    plain = client.models.generate_content(model=FLASH, contents="Hi").usage_metadata
    assert plain is not None and plain.thoughts_token_count is None  # no thoughts, no count
