"""Log lines on the real stack (simulator + BrowserPool on Chromium): the id of a request, given or
made, is on every line written for it, from the HTTP layer down to the browser layer's turn, which
names the account and the turn; JSON lines parse."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from service.logs import configure_logging
from tests.e2e.conftest import KEY_A, Stack, running_stack
from tests.service.test_logs import when_answered

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def paid_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("e2e-logs"), ("paid",)) as running:
        yield running


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level, buffer = root.level, io.StringIO()
    handler = configure_logging("INFO", "json", stream=buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _chat(stack: Stack, request_id: str | None, *, stream: bool) -> str:
    headers = {"Authorization": f"Bearer {KEY_A}", **({"X-Request-Id": request_id} if request_id else {})}
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    response = httpx.post(f"{stack.url}/v1/chat/completions", json=body, headers=headers, timeout=90)
    assert response.status_code == 200
    return response.headers["X-Request-Id"]


def test_the_request_id_reaches_the_browser_turn(paid_stack: Stack, log_lines: io.StringIO) -> None:
    ids = [
        _chat(paid_stack, "req-e2e-whole", stream=False),
        _chat(paid_stack, "req-e2e-stream", stream=True),
        _chat(paid_stack, None, stream=False),
    ]
    assert ids[:2] == ["req-e2e-whole", "req-e2e-stream"] and ids[2].startswith("req_")
    written = when_answered(log_lines, len(ids))
    turns = [line for line in written if line["logger"] == "browser._turn"]
    # Every line the browser layer wrote for a turn meanwhile belongs to one of the three requests.
    assert {line["request_id"] for line in turns} == set(ids)
    for request_id in ids:
        mine = [line for line in written if line["request_id"] == request_id]
        started, answered = (line for line in mine if line["logger"] == "browser._turn")
        assert started["message"].startswith(f"turn {started['turn']} on e2e-paid: flash")
        assert answered["message"].startswith(f"turn {started['turn']} on e2e-paid answered: complete")
        assert started["account"] == answered["account"] == "e2e-paid" and started["turn"] == answered["turn"]
        (http,) = (line for line in mine if line["logger"] == "service.request_ids")
        assert (http["path"], http["status"]) == ("/v1/chat/completions", 200)
    assert len({line["turn"] for line in turns}) == 3
