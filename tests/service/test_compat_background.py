"""Background responses (issue 18, item 7) with the official openai client on a ScriptedPool: the
request answers ``queued`` at once, GET polls the status through ``in_progress`` to ``completed``,
``POST /responses/{id}/cancel`` stops the page's answer and gives the account back, a streamed
background response is followed again from any sequence number, and one the gateway was stopped
under is ``failed`` after the restart. Turns are held by ``Hold`` steps the test releases, so each
state is looked at while it lasts; every wait is bounded."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest

from browser import UpstreamRejected
from service.app import create_app
from service.responses.store import ResponseStore
from tests.service.conftest import API_KEY, Served, _factory, settings_for
from tests.service.scripted_pool import Hold, Script, ScriptedPool, growing
from tests.support.servers import serve

FLASH = "gemini-2.5-flash"
WAIT = 15.0


def wait_for(check: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def held(release: threading.Event, text: str = "Done in the background.", cid: str = "c_bg") -> Script:
    return Script([Hold(release), *growing(text, cid=cid)])


def status(client: openai.OpenAI, response_id: str) -> str:
    return str(client.responses.retrieve(response_id).status)


def test_a_background_response_is_queued_then_polled_to_completion(gateway: Served) -> None:
    release = threading.Event()
    gateway.pool.queue(held(release))
    client = gateway.client()
    created = client.responses.create(model=FLASH, input="Take your time.", background=True)
    assert created.status == "queued" and created.background is True and created.output == []
    wait_for(lambda: status(client, created.id) == "in_progress", "in_progress")
    release.set()
    wait_for(lambda: status(client, created.id) == "completed", "completed")
    done = client.responses.retrieve(created.id)
    assert done.output_text == "Done in the background." and done.background is True
    assert gateway.pool.active == 0 and gateway.pool.stops == 0


def test_cancel_stops_the_pages_answer_and_frees_the_account(gateway: Served) -> None:
    release = threading.Event()
    gateway.pool.queue(held(release))
    client = gateway.client()
    created = client.responses.create(model=FLASH, input="Never mind.", background=True)
    wait_for(lambda: gateway.pool.active == 1, "the lease")
    try:
        cancelled = client.responses.cancel(created.id)
    finally:
        release.set()
    assert cancelled.status == "cancelled"
    assert gateway.pool.stops == 1 and gateway.pool.active == 0 and gateway.pool.released == 1
    assert status(client, created.id) == "cancelled"
    assert client.responses.cancel(created.id).status == "cancelled"  # again: the same answer


def test_what_cannot_be_cancelled_is_a_400(gateway: Served) -> None:
    client = gateway.client()
    foreground = client.responses.create(model=FLASH, input="now")
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(foreground.id)
    finished = client.responses.create(model=FLASH, input="quick", background=True)
    wait_for(lambda: status(client, finished.id) == "completed", "completed")
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.cancel(finished.id)
    assert "completed" in refused.value.body["message"]  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        client.responses.cancel("resp_missing")


def test_a_streamed_background_response_is_followed_again_from_any_event(gateway: Served) -> None:
    gateway.pool.queue(Script(growing("One, two, three.", pieces=3, cid="c_st")))
    client = gateway.client()
    events = list(client.responses.create(model=FLASH, input="count", background=True, stream=True))
    kinds = [event.type for event in events]
    assert kinds[:3] == ["response.created", "response.queued", "response.in_progress"]
    assert kinds[-1] == "response.completed" and events[0].response.status == "queued"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    response_id = events[0].response.id
    again = list(client.responses.retrieve(response_id, stream=True, starting_after=2))
    assert [event.sequence_number for event in again] == list(range(3, len(events)))
    assert again[-1].response.output_text == "One, two, three."  # type: ignore[union-attr]


def test_a_stream_follows_a_running_background_response(gateway: Served) -> None:
    release = threading.Event()
    gateway.pool.queue(held(release, "Later."))
    client = gateway.client()
    created = client.responses.create(model=FLASH, input="wait", background=True)
    wait_for(lambda: status(client, created.id) == "in_progress", "in_progress")
    stream = client.responses.retrieve(created.id, stream=True)
    release.set()
    kinds = [event.type for event in stream]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds


def test_a_background_response_that_fails_is_failed(gateway: Served) -> None:
    gateway.pool.queue(Script(enter_error=UpstreamRejected(1037, "RESOURCE_EXHAUSTED")))
    client = gateway.client()
    created = client.responses.create(model=FLASH, input="too much", background=True)
    failed = wait_for(lambda: (r := client.responses.retrieve(created.id)).status == "failed" and r, "failed")
    assert failed.error is not None and failed.error.code == "gemini_1037"


def test_background_needs_store_and_checks_the_request_first(gateway: Served) -> None:
    client = gateway.client()
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model=FLASH, input="x", background=True, store=False)
    assert refused.value.body["param"] == "store"  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="gemini-9", input="x", background=True)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=FLASH, input=" ", background=True)
    assert gateway.pool.requests == []


def test_another_key_cannot_poll_or_cancel(gateway: Served) -> None:
    release = threading.Event()
    gateway.pool.queue(held(release))
    created = gateway.client().responses.create(model=FLASH, input="mine", background=True)
    other = gateway.client(key="sk-other-key")
    try:
        with pytest.raises(openai.NotFoundError):
            other.responses.retrieve(created.id)
        with pytest.raises(openai.NotFoundError):
            other.responses.cancel(created.id)
    finally:
        release.set()
    wait_for(lambda: status(gateway.client(), created.id) == "completed", "completed")


def test_a_background_conversation_turn_is_added_when_it_completes(gateway: Served) -> None:
    client = gateway.client()
    conversation = client.conversations.create()
    created = client.responses.create(
        model=FLASH, input="in the background", background=True, conversation=conversation.id
    )
    wait_for(lambda: status(client, created.id) == "completed", "completed")
    roles = [item.role for item in client.conversations.items.list(conversation.id, order="asc").data]  # type: ignore[union-attr]
    assert roles == ["user", "assistant"]


@contextmanager
def _gateway(tmp_path: Path, pool: ScriptedPool) -> Iterator[openai.OpenAI]:
    with serve(create_app(settings_for(tmp_path, stop_timeout=2), pool_factory=_factory(pool))) as url:
        yield openai.OpenAI(api_key=API_KEY, base_url=url + "/v1", max_retries=0, timeout=15)


def test_a_response_running_when_the_gateway_stops_is_failed_after_the_restart(tmp_path: Path) -> None:
    release = threading.Event()
    pool = ScriptedPool()
    pool.queue(held(release))
    try:
        with _gateway(tmp_path, pool) as client:
            created = client.responses.create(model=FLASH, input="interrupted", background=True)
            wait_for(lambda: status(client, created.id) == "in_progress", "in_progress")
    finally:
        release.set()
    assert pool.stops == 1 and pool.active == 0  # the shutdown stopped its page answer
    with _gateway(tmp_path, ScriptedPool()) as client:
        after = client.responses.retrieve(created.id)
    assert after.status == "failed" and after.error is not None and after.error.code == "server_shutdown"


def test_a_store_opened_after_a_crash_fails_what_was_running(tmp_path: Path) -> None:
    path = tmp_path / "responses.sqlite3"
    body: dict[str, Any] = {"id": "resp_x", "object": "response", "status": "in_progress", "output": []}
    with ResponseStore(path, ttl=3600, purge_interval=3600) as store:
        store.put("key", body, [])
    with sqlite3.connect(path) as db:  # what a kill -9 leaves: the row as it was
        assert db.execute("SELECT status FROM responses").fetchone() == ("in_progress",)
    with ResponseStore(path, ttl=3600, purge_interval=3600) as store:
        found = store.get("key", "resp_x")
    assert found is not None and found.body["status"] == "failed"
    assert found.body["error"]["code"] == "server_shutdown"
