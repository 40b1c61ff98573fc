"""Any replica answers any request (issue 20 item 3, forwarding): gateways on one real Redis, each a
real uvicorn on loopback with its ``cluster.internal_url`` and the shared ``cluster.secret``; the
pools are scripted and record which replica drives each account (``test_cluster_replicas``), so the
test sees on which replica a turn ran and whether it continued a chat or started a new one."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from pydantic import SecretStr

from bench import forward as forward_bench
from browser import Media, TurnSnapshot, VideoInfo
from service.app import create_app
from service.chat.longrun_research import report_text
from service.cluster.signing import BY_HEADER, SIGNATURE_HEADER, sign
from service.pool_adapter import BrowserBackend
from service.settings import GatewaySettings
from service.stores.redis_base import connect
from service.stores.redis_responses import RedisResponseStore
from tests.service.conftest import API_KEY, Served
from tests.service.scripted_pool import SCRIPTED_VIDEO_URL, Hold, Script, growing
from tests.service.test_admin_accounts import ADMIN_KEY, admin
from tests.service.test_cluster_replicas import Driving, ExclusivePool, configured
from tests.service.test_longrun_research import REPORT, planned, reported
from tests.support import polling
from tests.support.servers import free_port, serve

WAIT = 20.0
SECRET = "forwarding-secret-0123456789"
until = partial(polling.until, bound=WAIT)
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@dataclass
class Replica:
    name: str
    pool: ExclusivePool
    url: str
    stack: ExitStack

    def ids(self) -> set[str]:
        return self.pool.ids()

    def stop(self) -> None:
        self.stack.close()


Start = Callable[..., Replica]


@pytest.fixture
def replicas(redis_url: str, tmp_path: Path) -> Iterator[Start]:
    """``start(name, accounts, internal_url=..., **cluster)``: a replica on the shared Redis, with
    the shared secret and its own loopback URL as ``internal_url`` unless told otherwise."""
    driving = Driving()
    stacks: list[ExitStack] = []

    def start(
        name: str,
        accounts: int,
        *,
        internal_url: str | None = None,
        overrides: dict[str, Any] | None = None,
        **cluster: Any,
    ) -> Replica:
        pool = ExclusivePool(account_list=[], replica=name, driving=driving)
        port = free_port()
        settings = GatewaySettings(  # type: ignore[call-arg]
            data_dir=tmp_path / name,
            api_keys=[SecretStr(API_KEY)],
            admin_keys=[SecretStr(ADMIN_KEY)],
            state={"backend": "redis", "redis_url": redis_url},
            media={"shared_dir": tmp_path / "media"},
            cluster={
                "replica_id": name,
                "lease_ttl": 3.0,
                "renew_interval": 0.1,
                "internal_url": internal_url or f"http://127.0.0.1:{port}",
                "secret": SECRET,
                **cluster,
            },
            accounts=configured(accounts),
            **(overrides or {}),
        )

        @asynccontextmanager
        async def factory(_settings: GatewaySettings) -> AsyncIterator[BrowserBackend]:
            yield BrowserBackend(pool)

        stack = ExitStack()
        stacks.append(stack)
        url = stack.enter_context(serve(create_app(settings, pool_factory=factory), port=port))
        return Replica(name, pool, url, stack)

    yield start
    for stack in reversed(stacks):
        stack.close()
    assert driving.overlaps == [], "two replicas drove one account at once"


def pair(
    replicas: Start, overrides: dict[str, Any] | None = None, **a_options: Any
) -> tuple[Replica, Replica, str]:
    """A and B sharing two accounts, one each; returns them and the account A drives."""
    a = replicas("a", 2, overrides=overrides, **a_options)
    b = replicas("b", 2, overrides=overrides)
    until(lambda: len(a.ids()) == len(b.ids()) == 1, "each replica drives one account")
    (mine,) = a.ids()
    return a, b, mine


def first_response_on_a(a: Replica, mine: str) -> str:
    """A stored response answered in A's chat ``c_1``, A's next answer in that chat queued; its id."""
    a.pool.queue(Script(growing("Hello from A", cid="c_1"), account_id=mine))
    first = httpx.post(
        a.url + "/v1/responses", json={"model": "gemini-2.5-flash", "input": "hi"}, headers=AUTH, timeout=WAIT
    )
    assert first.status_code == 200, first.text
    a.pool.queue(Script(growing("More from A", cid="c_1"), account_id=mine))
    return str(first.json()["id"])


def ask(url: str, messages: list[dict[str, str]], **body: Any) -> httpx.Response:
    return httpx.post(
        url + "/v1/chat/completions",
        json={"model": "gemini-2.5-flash", "messages": messages, **body},
        headers=AUTH,
        timeout=WAIT,
    )


def first_turn(a: Replica, account_id: str) -> list[dict[str, str]]:
    """A conversation started through A on its account, in chat ``c_1``: the history after it."""
    a.pool.queue(Script(growing("Hello from A", cid="c_1"), account_id=account_id))
    answer = ask(a.url, [{"role": "user", "content": "hi"}])
    assert answer.status_code == 200, answer.text
    said = answer.json()["choices"][0]["message"]["content"]
    return [{"role": "user", "content": "hi"}, {"role": "assistant", "content": said}]


def test_a_conversation_started_on_a_continues_through_b_in_a_s_chat(
    replicas: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    a, b, mine = pair(replicas)
    history = first_turn(a, mine)
    b_turns = len(b.pool.requests)
    a.pool.queue(Script(growing("More from A", cid="c_1"), account_id=mine))

    answer = ask(b.url, [*history, {"role": "user", "content": "and more?"}])

    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "More from A"
    assert answer.headers["x-request-id"]
    continued = a.pool.requests[-1]
    # A continuation, not a fold: A's chat, A's account, only the new turn typed.
    assert (continued.account_id, continued.chat_id) == (mine, "c_1")
    assert continued.prompt == "and more?"
    assert len(b.pool.requests) == b_turns  # B's own account typed nothing
    assert SECRET not in caplog.text
    with admin(b.url) as on_b:  # where B sends what lives on A, as the operator sees it
        listed = {row["id"]: row for row in on_b.get("/replicas").json()["data"]}
    assert listed["a"]["internal_url"] == a.url.replace("localhost", "127.0.0.1")


def test_a_streamed_continuation_through_b_arrives_chunk_by_chunk(replicas: Start) -> None:
    a, b, mine = pair(replicas)
    history = first_turn(a, mine)
    release = threading.Event()
    first = TurnSnapshot(cid="c_1", text="Part one", served_model_label="3 Flash", frames=1)
    last = TurnSnapshot(
        cid="c_1", text="Part one, part two", served_model_label="3 Flash", completed=True, frames=2
    )
    a.pool.queue(Script([first, Hold(release, timeout=WAIT), last], account_id=mine))
    seen_first = threading.Event()
    texts: list[str] = []
    failure: list[BaseException] = []

    def read() -> None:
        try:
            body = {"model": "gemini-2.5-flash", "stream": True}
            body["messages"] = [*history, {"role": "user", "content": "go on"}]
            with httpx.stream(
                "POST", b.url + "/v1/chat/completions", json=body, headers=AUTH, timeout=WAIT
            ) as r:
                assert r.status_code == 200
                for line in r.iter_lines():
                    if not line.startswith("data: {"):
                        continue
                    delta = json.loads(line[6:])["choices"][0]["delta"].get("content")
                    if delta:
                        texts.append(delta)
                        seen_first.set()
        except BaseException as error:  # handed to the test's thread
            failure.append(error)
            seen_first.set()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        # The first chunk crossed both replicas while A's answer is still held: nothing buffered it.
        assert seen_first.wait(WAIT), "no chunk arrived through B while A was answering"
        assert not failure, failure
        assert not release.is_set() and "".join(texts) == "Part one"
    finally:
        release.set()
        reader.join(WAIT)
    assert not failure, failure
    assert "".join(texts) == "Part one, part two"
    assert (a.pool.requests[-1].chat_id, a.pool.requests[-1].prompt) == ("c_1", "go on")


def test_a_response_on_a_continues_through_b_by_its_previous_response_id(replicas: Start) -> None:
    a, b, mine = pair(replicas)
    first_id = first_response_on_a(a, mine)
    b_turns = len(b.pool.requests)
    body = {"model": "gemini-2.5-flash", "input": "and more?", "previous_response_id": first_id}

    with httpx.stream(
        "POST", b.url + "/v1/responses", json={**body, "stream": True}, headers=AUTH, timeout=WAIT
    ) as r:
        assert r.status_code == 200
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: {")]

    assert events[-1]["type"] == "response.completed"
    assert "More from A" in json.dumps(events[-1]["response"]["output"])
    continued = a.pool.requests[-1]
    assert (continued.account_id, continued.chat_id, continued.prompt) == (mine, "c_1", "and more?")
    assert len(b.pool.requests) == b_turns


def test_a_client_leaving_b_stops_a_s_answer(replicas: Start) -> None:
    a, b, mine = pair(replicas)
    history = first_turn(a, mine)
    never = threading.Event()  # A's answer would hold longer than this test waits
    first = TurnSnapshot(cid="c_1", text="Part one", served_model_label="3 Flash", frames=1)
    a.pool.queue(Script([first, Hold(never, timeout=3 * WAIT)], account_id=mine))
    stops = a.pool.stops
    body = {"model": "gemini-2.5-flash", "stream": True}
    body["messages"] = [*history, {"role": "user", "content": "then leave"}]
    with httpx.stream("POST", b.url + "/v1/chat/completions", json=body, headers=AUTH, timeout=WAIT) as r:
        assert r.status_code == 200
        lines = r.iter_lines()
        assert any(line.startswith("data: {") and "Part one" in line for line in lines)
    # The client left B: B closed its request to A, and A stopped the page and gave the lease back.
    until(lambda: a.pool.stops > stops and a.pool.active == 0, "A stops the answer nobody reads")


def test_a_research_run_on_a_is_collected_through_b(replicas: Start) -> None:
    research = {"research_max_wait": 0.2, "research_poll_interval": 0.01}
    a, b, mine = pair(replicas, overrides=research)
    a.pool.queue(planned(on=mine), reported(canvas=None, on=mine))  # started; the report comes later
    a.pool.research_states.extend(["running"] * 1000)
    messages = [{"role": "user", "content": "tides"}]
    body = {"model": "gemini-2.5-flash-deepsearch", "messages": messages}
    started = httpx.post(a.url + "/v1/chat/completions", json=body, headers=AUTH, timeout=WAIT)
    assert started.status_code == 504, started.text  # still running at Google: ask again later
    a.pool.research_states.clear()
    a.pool.research_states.append("done")
    a.pool.research_reports.append(REPORT)
    b_reads = list(b.pool.lookups)

    collected = httpx.post(b.url + "/v1/chat/completions", json=body, headers=AUTH, timeout=WAIT)

    assert collected.status_code == 200, collected.text
    assert collected.json()["choices"][0]["message"]["content"] == report_text(REPORT)
    assert ("research_report", mine) in a.pool.lookups and b.pool.lookups == b_reads  # read on A


def test_a_research_run_on_a_is_collected_through_b_as_a_stream(replicas: Start) -> None:
    # The streamed collection opens early (keep-alives while a research is planned): B looks the
    # research up before it opens, so the stream is A's, chunk by chunk while A still waits.
    research = {"research_max_wait": 0.2, "research_stream_max_wait": WAIT, "research_poll_interval": 0.01}
    a, b, mine = pair(replicas, overrides=research)
    a.pool.queue(planned(on=mine), reported(canvas=None, on=mine))
    a.pool.research_states.extend(["running"] * 100_000)  # polled until the test says done
    body: dict[str, Any] = {
        "model": "gemini-2.5-flash-deepsearch",
        "messages": [{"role": "user", "content": "tides"}],
    }
    started = httpx.post(a.url + "/v1/chat/completions", json=body, headers=AUTH, timeout=WAIT)
    assert started.status_code == 504, started.text
    a.pool.research_reports.append(REPORT)
    b_reads = list(b.pool.lookups)
    thoughts: list[str] = []
    texts: list[str] = []
    released = False

    with httpx.stream(
        "POST", b.url + "/v1/chat/completions", json={**body, "stream": True}, headers=AUTH, timeout=WAIT
    ) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if not line.startswith("data: {"):
                continue
            delta = json.loads(line[6:])["choices"][0]["delta"]
            thoughts.append(delta.get("reasoning_content") or "")
            texts.append(delta.get("content") or "")
            if "Researching" in thoughts[-1] and not released:
                # A is still waiting for the report, and its progress crossed B already.
                assert "".join(texts) == ""
                a.pool.research_states.appendleft("done")
                released = True

    assert released, "no progress arrived through B while A was waiting"
    assert "".join(texts) == report_text(REPORT)
    assert any("Research started" in thought for thought in thoughts)
    assert ("research_report", mine) in a.pool.lookups and b.pool.lookups == b_reads  # read on A


def test_a_research_run_on_a_is_collected_through_b_s_anthropic_door_as_a_stream(replicas: Start) -> None:
    research = {"research_max_wait": 0.2, "research_stream_max_wait": WAIT, "research_poll_interval": 0.01}
    a, b, mine = pair(replicas, overrides=research)
    a.pool.queue(planned(on=mine), reported(canvas=None, on=mine))
    a.pool.research_states.extend(["running"] * 100_000)
    body: dict[str, Any] = {
        "model": "gemini-2.5-flash-deepsearch",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "tides"}],
    }
    started = httpx.post(a.url + "/v1/messages", json=body, headers=AUTH, timeout=WAIT)
    assert started.status_code == 504, started.text
    a.pool.research_reports.append(REPORT)
    a.pool.research_states.appendleft("done")
    b_reads = list(b.pool.lookups)

    with httpx.stream(
        "POST", b.url + "/v1/messages", json={**body, "stream": True}, headers=AUTH, timeout=WAIT
    ) as r:
        assert r.status_code == 200
        deltas = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: {")]

    text = "".join(
        event["delta"].get("text", "") for event in deltas if event["type"] == "content_block_delta"
    )
    assert text == report_text(REPORT)
    assert ("research_report", mine) in a.pool.lookups and b.pool.lookups == b_reads  # read on A


def test_a_model_no_account_of_b_serves_is_answered_by_a(replicas: Start) -> None:
    # Rounds far apart: what B knows of A's accounts is A's first report, made before A served.
    a = replicas("a", 1, lease_ttl=60.0, renew_interval=30.0)
    b = replicas("b", 1, lease_ttl=60.0, renew_interval=30.0)
    assert b.ids() == set()  # A drives the only account
    (mine,) = a.ids()
    a.pool.queue(Script(growing("A answers", cid="c_9"), account_id=mine))

    answer = ask(b.url, [{"role": "user", "content": "who answers?"}], stream=False)

    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "A answers"
    assert a.pool.requests[-1].prompt.endswith("who answers?")
    # The caller's key is checked on both replicas but counted once: the same request id on both.
    assert answer.headers["x-request-id"].startswith("req_")


def script_a_video(a: Replica, account_id: str) -> bytes:
    """A's scripted pool makes one video on ``account_id`` (the chip, a pending then a done poll, the
    chat's video and its file); returns the file's bytes."""
    data = b"\x00\x00\x00\x18ftypmp42 a video made on A"
    chip = VideoInfo(thumbnail_url=None, video_url=None, job_id="job-1", pending=True)
    a.pool.queue(
        Script(
            [TurnSnapshot(cid="c_video", text="On its way.", video=chip, completed=True)],
            account_id=account_id,
        )
    )
    a.pool.video_jobs.extend([False, True])
    a.pool.chat_videos.append(
        VideoInfo(thumbnail_url=None, video_url=SCRIPTED_VIDEO_URL, job_id="job-1", pending=False)
    )
    a.pool.media[SCRIPTED_VIDEO_URL] = Media(data=data, mime="video/mp4", url=SCRIPTED_VIDEO_URL)
    return data


def test_a_video_made_on_a_is_polled_downloaded_and_deleted_through_b(
    replicas: Start, tmp_path: Path
) -> None:
    a = replicas("a", 1)
    b = replicas("b", 1)
    (mine,) = a.ids()
    data = script_a_video(a, mine)
    created = httpx.post(a.url + "/v1/videos", json={"prompt": "a paper boat"}, headers=AUTH, timeout=WAIT)
    assert created.status_code == 200, created.text
    video_id = created.json()["id"]

    def status() -> str:
        polled = httpx.get(f"{b.url}/v1/videos/{video_id}", headers=AUTH, timeout=WAIT)
        assert polled.status_code == 200, polled.text
        return str(polled.json()["status"])

    until(lambda: status() == "completed", "the job is completed, as polled through B")
    assert not any((tmp_path / "b").rglob(f"{video_id}.mp4"))  # the file is A's only
    content = httpx.get(f"{b.url}/v1/videos/{video_id}/content", headers=AUTH, timeout=WAIT)
    assert content.status_code == 200, content.text
    assert content.content == data and content.headers["content-type"] == "video/mp4"

    deleted = httpx.delete(f"{b.url}/v1/videos/{video_id}", headers=AUTH, timeout=WAIT)
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert not any((tmp_path / "a").rglob(f"{video_id}.mp4"))  # A removed its file
    gone = httpx.get(f"{b.url}/v1/videos/{video_id}", headers=AUTH, timeout=WAIT)
    assert gone.status_code == 404


def test_a_dead_replica_s_video_job_is_resumed_by_the_adopter_of_its_account(
    replicas: Start, redis_url: str
) -> None:
    a, b, mine = pair(replicas, overrides={"video_poll_interval": 0.02})
    chip = VideoInfo(thumbnail_url=None, video_url=None, job_id="job-1", pending=True)
    a.pool.queue(
        Script([TurnSnapshot(cid="c_video", text="On its way.", video=chip, completed=True)], account_id=mine)
    )
    a.pool.video_jobs.extend([False] * 100_000)  # still rendering, as long as A follows it
    created = httpx.post(a.url + "/v1/videos", json={"prompt": "a paper boat"}, headers=AUTH, timeout=WAIT)
    assert created.status_code == 200, created.text
    video_id = created.json()["id"]
    until(lambda: ("video_job", mine) in a.pool.lookups, "A follows the render")
    data = b"\x00\x00\x00\x18ftypmp42 rendered while A was gone"
    b.pool.chat_videos.append(
        VideoInfo(thumbnail_url=None, video_url=SCRIPTED_VIDEO_URL, job_id=None, pending=False)
    )
    b.pool.media[SCRIPTED_VIDEO_URL] = Media(data=data, mime="video/mp4", url=SCRIPTED_VIDEO_URL)

    a.stop()
    until(lambda: mine in b.ids(), "B adopts A's account")
    with redis.Redis.from_url(redis_url) as client:  # as if A had died a minute ago: its run lapsed
        assert client.zadd("gateway:videos:runs", {video_id: 0}, xx=True, ch=True) == 1

    def status() -> str:
        polled = httpx.get(f"{b.url}/v1/videos/{video_id}", headers=AUTH, timeout=WAIT)
        return str(polled.json()["status"])

    until(lambda: status() == "completed", "B resumes the job on the account it adopted")
    assert ("chat_video", mine) in b.pool.lookups
    content = httpx.get(f"{b.url}/v1/videos/{video_id}/content", headers=AUTH, timeout=WAIT)
    assert content.status_code == 200 and content.content == data


def _background(a: Replica, mine: str, release: threading.Event) -> str:
    """A background response started on A, its answer held after its first part: its id."""
    first = TurnSnapshot(cid="c_bg", text="Part one", served_model_label="3 Flash", frames=1)
    last = TurnSnapshot(
        cid="c_bg", text="Part one, part two", served_model_label="3 Flash", completed=True, frames=2
    )
    a.pool.queue(Script([first, Hold(release, timeout=2 * WAIT), last], account_id=mine))
    body = {"model": "gemini-2.5-flash", "input": "in the background", "background": True}
    created = httpx.post(a.url + "/v1/responses", json=body, headers=AUTH, timeout=WAIT)
    assert created.status_code == 200, created.text
    response_id = str(created.json()["id"])

    def status() -> str:
        got = httpx.get(f"{a.url}/v1/responses/{response_id}", headers=AUTH, timeout=WAIT)
        return str(got.json()["status"])

    until(
        lambda: a.pool.active == 1 and status() == "in_progress", "A's page answers the background response"
    )
    return response_id


def test_a_background_response_running_on_a_is_cancelled_through_b(replicas: Start) -> None:
    a, b, mine = pair(replicas)
    release = threading.Event()
    try:
        response_id = _background(a, mine, release)
        stops = a.pool.stops

        cancelled = httpx.post(f"{b.url}/v1/responses/{response_id}/cancel", headers=AUTH, timeout=WAIT)

        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        assert a.pool.stops > stops and a.pool.active == 0  # A stopped the page's answer
        got = httpx.get(f"{b.url}/v1/responses/{response_id}", headers=AUTH, timeout=WAIT)
        assert got.json()["status"] == "cancelled"
    finally:
        release.set()


def test_a_background_response_running_on_a_is_streamed_through_b_as_it_comes(replicas: Start) -> None:
    a, b, mine = pair(replicas)
    release = threading.Event()
    try:
        response_id = _background(a, mine, release)
        events: list[dict[str, Any]] = []
        url = f"{b.url}/v1/responses/{response_id}?stream=true&starting_after=1"
        with httpx.stream("GET", url, headers=AUTH, timeout=WAIT) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if not line.startswith("data: {"):
                    continue
                events.append(json.loads(line[6:]))
                if events[-1]["type"] == "response.output_text.delta" and not release.is_set():
                    # The first part crossed B while A's answer is still held: nothing buffered it.
                    assert events[-1]["delta"] == "Part one"
                    release.set()
        assert release.is_set(), "no delta arrived through B while A was answering"
    finally:
        release.set()
    assert min(event["sequence_number"] for event in events) == 2  # after 1, as asked
    assert events[-1]["type"] == "response.completed"
    assert "Part one, part two" in json.dumps(events[-1]["response"]["output"])


def test_a_background_response_running_on_a_is_deleted_through_b(replicas: Start) -> None:
    a, b, mine = pair(replicas)
    release = threading.Event()
    try:
        response_id = _background(a, mine, release)
        stops = a.pool.stops

        deleted = httpx.delete(f"{b.url}/v1/responses/{response_id}", headers=AUTH, timeout=WAIT)

        assert deleted.status_code == 200 and deleted.json()["deleted"] is True
        # A discarded its run (else it would store the response again when it ends).
        assert a.pool.stops > stops and a.pool.active == 0
        gone = httpx.get(f"{b.url}/v1/responses/{response_id}", headers=AUTH, timeout=WAIT)
        assert gone.status_code == 404
    finally:
        release.set()


def test_a_background_response_whose_run_lapsed_is_answered_where_asked(
    replicas: Start, redis_url: str
) -> None:
    a, b, mine = pair(replicas)
    release = threading.Event()
    try:
        response_id = _background(a, mine, release)
        with redis.Redis.from_url(redis_url) as client:  # as if A had died a minute ago: its run lapsed
            assert client.zadd("gateway:responses:running", {response_id: 0}, xx=True, ch=True) == 1

        answered = httpx.post(f"{b.url}/v1/responses/{response_id}/cancel", headers=AUTH, timeout=WAIT)

        # Not sent to A: B answers with what is stored (marked failed once B's next round sees it).
        assert answered.status_code == 200, answered.text
        assert answered.json()["status"] == "in_progress"
        assert a.pool.active == 1
    finally:
        release.set()


def _completed(url: str, response_id: str) -> dict[str, Any]:
    def status() -> str:
        got = httpx.get(f"{url}/v1/responses/{response_id}", headers=AUTH, timeout=WAIT)
        assert got.status_code == 200, got.text
        return str(got.json()["status"])

    until(lambda: status() not in ("queued", "in_progress"), "the background response ends")
    got = httpx.get(f"{url}/v1/responses/{response_id}", headers=AUTH, timeout=WAIT)
    body: dict[str, Any] = got.json()
    return body


def test_a_background_continuation_of_a_s_conversation_through_b_runs_on_a(replicas: Start) -> None:
    a, b, mine = pair(replicas)
    first_id = first_response_on_a(a, mine)
    b_turns = len(b.pool.requests)
    body = {
        "model": "gemini-2.5-flash",
        "input": "and more?",
        "previous_response_id": first_id,
        "background": True,
    }

    created = httpx.post(b.url + "/v1/responses", json=body, headers=AUTH, timeout=WAIT)

    assert created.status_code == 200, created.text
    done = _completed(b.url, created.json()["id"])
    assert done["status"] == "completed" and "More from A" in json.dumps(done["output"])
    continued = a.pool.requests[-1]  # created on A: a continuation of A's chat, not a fold on B
    assert (continued.account_id, continued.chat_id, continued.prompt) == (mine, "c_1", "and more?")
    assert len(b.pool.requests) == b_turns


def test_a_background_response_for_a_model_only_a_serves_runs_on_a(replicas: Start) -> None:
    a = replicas("a", 1, lease_ttl=60.0, renew_interval=30.0)
    b = replicas("b", 1, lease_ttl=60.0, renew_interval=30.0)
    assert b.ids() == set()  # A drives the only account
    (mine,) = a.ids()
    a.pool.queue(Script(growing("A answers", cid="c_9"), account_id=mine))
    body = {"model": "gemini-2.5-flash", "input": "who answers?", "background": True}

    created = httpx.post(b.url + "/v1/responses", json=body, headers=AUTH, timeout=WAIT)

    assert created.status_code == 200, created.text
    done = _completed(b.url, created.json()["id"])
    assert done["status"] == "completed", done
    assert a.pool.requests[-1].prompt.endswith("who answers?")


def test_a_run_s_replica_is_recorded_with_it_and_goes_with_it(redis_url: str) -> None:
    client = connect(redis_url)
    store = RedisResponseStore(client, ttl=600, purge_interval=600)
    store.open()
    try:
        running = {"id": "resp_r", "status": "in_progress", "background": True, "output": []}
        store.put("me", running, [])
        assert store.runs.runner("resp_r") is None  # nothing recorded alone
        assert not client.exists(store.runs.on)
        store.runs.replica = "a"
        store.put("me", running, [])
        assert store.runs.runner("resp_r") == "a"
        store.put("me", {**running, "status": "completed"}, [])
        assert store.runs.runner("resp_r") is None and not client.hexists(store.runs.on, "resp_r")
        store.put("me", running, [])
        client.zadd(store.runs.key, {"resp_r": 0}, xx=True)  # its replica stopped renewing it
        assert store.runs.runner("resp_r") is None
        assert store.interrupt_lapsed() == 1  # marked failed, and its replica forgotten with it
        assert not client.hexists(store.runs.on, "resp_r")
    finally:
        store.close()
        client.close()


def _signed(
    url: str, path: str, body: bytes, *, secret: str = SECRET, now: float | None = None, by: str = "b"
) -> httpx.Response:
    headers = {
        **AUTH,
        "content-type": "application/json",
        BY_HEADER: by,
        SIGNATURE_HEADER: sign(SecretStr(secret), "POST", path, by, body, now=now),
    }
    return httpx.post(url + path, content=body, headers=headers, timeout=WAIT)


def test_a_forwarded_request_must_carry_a_valid_fresh_signature(
    replicas: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    a = replicas("a", 1)
    path = "/v1/chat/completions"
    body = json.dumps({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}).encode()

    unsigned = httpx.post(a.url + path, content=body, headers={**AUTH, BY_HEADER: "b"}, timeout=WAIT)
    forged = _signed(a.url, path, body, secret="another-secret-0123456789")
    expired = _signed(a.url, path, body, now=time.time() - 120)
    tampered = httpx.post(
        a.url + path,
        content=body.replace(b"hi", b"ho"),
        headers={
            **AUTH,
            "content-type": "application/json",
            BY_HEADER: "b",
            SIGNATURE_HEADER: sign(SecretStr(SECRET), "POST", path, "b", body),
        },
        timeout=WAIT,
    )
    for refused in (unsigned, forged, expired, tampered):
        assert refused.status_code == 401, refused.text
        error = refused.json()["error"]
        assert error["type"] == "authentication_error" and error["code"] == "invalid_forward_signature"
    assert "expired" in expired.json()["error"]["message"]
    turns = len(a.pool.requests)
    assert turns == 0  # none of them reached a page

    accepted = _signed(a.url, path, body)
    assert accepted.status_code == 200, accepted.text
    assert len(a.pool.requests) == 1
    assert SECRET not in caplog.text
    assert "v1=" not in caplog.text  # nor any signature


def test_a_forwarded_body_over_the_limit_is_refused_before_its_signature_is_checked(replicas: Start) -> None:
    # The gate reads the body to check its digest: it holds to the same limit as every request.
    a = replicas("a", 1, overrides={"max_body_bytes": 1024})
    body = json.dumps({"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "x" * 2048}]})

    refused = _signed(a.url, "/v1/chat/completions", body.encode())

    assert refused.status_code == 413, refused.text
    assert refused.json()["error"]["message"] == "Request body exceeds the limit of 1024 bytes."
    assert len(a.pool.requests) == 0


def test_a_replica_without_the_secret_refuses_a_forwarded_request(gateway: Served) -> None:
    # The SQLite gateway of the service tests: alone, no cluster.secret.
    body = b'{"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}'
    refused = _signed(gateway.url, "/v1/chat/completions", body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forwarding_disabled"


def test_a_forwarded_request_is_served_where_it_arrives(replicas: Start) -> None:
    a, b, mine = pair(replicas)
    history = first_turn(a, mine)
    (theirs,) = b.ids()
    b.pool.queue(Script(growing("B folds", cid="c_b"), account_id=theirs))
    a_turns = len(a.pool.requests)
    messages = [*history, {"role": "user", "content": "one hop"}]
    body = json.dumps({"model": "gemini-2.5-flash", "messages": messages}).encode()

    # As if A had forwarded it to B: B never sends it on (to A, where the chat lives), it folds.
    answer = _signed(b.url, "/v1/chat/completions", body, by="a")

    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "B folds"
    assert b.pool.requests[-1].chat_id is None and len(a.pool.requests) == a_turns


def test_a_forwarded_request_counts_once_against_its_key(replicas: Start) -> None:
    a = replicas("a", 1)
    b = replicas("b", 1)
    (mine,) = a.ids()
    with admin(b.url) as on_b:
        created = on_b.post("/keys", json={"name": "one-at-a-time", "max_concurrent": 1})
        assert created.status_code == 201, created.text
    key = created.json()["key"]
    a.pool.queue(Script(growing("A answers", cid="c_k"), account_id=mine))
    # B holds the key's one slot while A answers: A admits the forwarded request without a second.
    answer = httpx.post(
        b.url + "/v1/chat/completions",
        json={"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "once"}]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=WAIT,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "A answers"


def test_an_unreachable_owner_folds_the_conversation_here(
    replicas: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # A publishes a URL nothing listens on (it died since B's last look at the cluster).
    a, b, mine = pair(replicas, internal_url=f"http://127.0.0.1:{free_port()}")
    history = first_turn(a, mine)
    (theirs,) = b.ids()
    b.pool.queue(Script(growing("B folds", cid="c_b"), account_id=theirs))

    answer = ask(b.url, [*history, {"role": "user", "content": "still there?"}])

    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"] == "B folds"
    folded = b.pool.requests[-1]
    assert folded.chat_id is None  # a new chat, the history folded into its prompt
    assert "Hello from A" in folded.prompt and "still there?" in folded.prompt
    assert "replica a is unreachable" in caplog.text  # it was tried first


@contextmanager
def broken_owner(answer: bytes) -> Iterator[str]:
    """A listener that reads a request, writes ``answer`` and hangs up: a replica that was reached
    and failed. Yields its URL; closed at the end."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_forever() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # the listener was closed: the test is over
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the pending accept (close alone does not)
        listener.close()
        thread.join(WAIT)
        assert not thread.is_alive()


def test_an_owner_that_fails_after_it_was_reached_is_our_502(replicas: Start) -> None:
    with broken_owner(b"") as url:
        a, b, mine = pair(replicas, internal_url=url)
        history = first_turn(a, mine)
        answer = ask(b.url, [*history, {"role": "user", "content": "anyone?"}])
    assert answer.status_code == 502, answer.text
    error = answer.json()["error"]
    assert (error["type"], error["code"]) == ("replica_error", "forward_failed")
    assert "'a'" in error["message"]


def test_an_owner_that_breaks_off_mid_stream_ends_it_with_an_error_event(replicas: Start) -> None:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
    event = b'data: {"choices": []}\n\n'
    with broken_owner(head + f"{len(event):x}\r\n".encode() + event + b"\r\n") as url:
        a, b, mine = pair(replicas, internal_url=url)
        history = first_turn(a, mine)
        body = {"model": "gemini-2.5-flash", "stream": True}
        body["messages"] = [*history, {"role": "user", "content": "anyone?"}]
        with httpx.stream("POST", b.url + "/v1/chat/completions", json=body, headers=AUTH, timeout=WAIT) as r:
            assert r.status_code == 200
            lines = [line for line in r.iter_lines() if line]
    assert lines[0] == 'data: {"choices": []}'
    assert json.loads(lines[-2][6:])["error"]["code"] == "forward_failed" and lines[-1] == "data: [DONE]"


def test_cluster_settings_need_a_secret_for_an_internal_url(redis_url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cluster\.internal_url needs cluster\.secret"):
        GatewaySettings(  # type: ignore[call-arg]
            data_dir=tmp_path,
            api_keys=[SecretStr(API_KEY)],
            state={"backend": "redis", "redis_url": redis_url},
            media={"shared_dir": tmp_path / "media"},
            cluster={"internal_url": "http://127.0.0.1:1"},
        )
    with pytest.raises(ValueError, match=r"state\.backend: redis only"):
        GatewaySettings(data_dir=tmp_path, api_keys=[SecretStr(API_KEY)], cluster={"secret": SECRET})  # type: ignore[call-arg]
    settings = GatewaySettings(  # type: ignore[call-arg]
        data_dir=tmp_path,
        api_keys=[SecretStr(API_KEY)],
        state={"backend": "redis", "redis_url": redis_url},
        media={"shared_dir": tmp_path / "media"},
        cluster={"secret": SECRET},
    )
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())


def test_the_forwarding_bench_measures_both_paths(replicas: Start) -> None:
    # ``python -m bench.forward`` runs the replicas as processes; its measurement, on these, quickly.
    a = replicas("a", 1)
    b = replicas("b", 1)
    assert b.ids() == set()
    figures = forward_bench.measure(a.url, b.url, requests=3, key=API_KEY)
    assert figures["direct"]["n"] == figures["forwarded"]["n"] == 3
    assert len(a.pool.requests) == 2 * (3 + forward_bench.WARMUP)  # every one answered by A
    assert "through another replica" in forward_bench.report(figures)
