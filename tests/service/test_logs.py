"""Log lines an operator can use (``service.logs``): text or JSON, and the id of the request each
line was written for, from the HTTP layer down to the turn on the pool (its stream's task included);
lines outside any request have none."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from service.logs import LogFormat, configure_logging
from service.request_ids import CURRENT_REQUEST_ID
from service.settings import GatewaySettings
from tests.service.conftest import API_KEY, Served

SCRIPTED_TURN = "tests.service.scripted_pool"


@pytest.fixture
def captured() -> Iterator[Callable[[str, str], io.StringIO]]:
    """``capture(level, format)``: the gateway's handler on a buffer, removed afterwards."""
    root = logging.getLogger()
    level, installed = root.level, []

    def capture(at: str = "INFO", fmt: str = "json") -> io.StringIO:
        buffer = io.StringIO()
        installed.append(configure_logging(at, fmt, stream=buffer))
        return buffer

    yield capture
    for handler in installed:
        root.removeHandler(handler)
    root.setLevel(level)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def when_answered(buffer: io.StringIO, count: int, limit: float = 10.0) -> list[dict[str, Any]]:
    """The lines, once ``count`` requests have had their line: the server writes it when the
    response has ended, which a client may see before the line is written."""
    deadline = time.monotonic() + limit
    while True:
        written = lines(buffer)
        if sum(line["logger"] == "service.request_ids" for line in written) >= count:
            return written
        assert time.monotonic() < deadline, "the requests' lines were never written"
        time.sleep(0.02)


def test_json_lines_parse_with_their_fields(captured: Callable[[str, str], io.StringIO]) -> None:
    buffer = captured("DEBUG", "json")
    log = logging.getLogger("service.test")
    log.debug("outside any request: %s", 'quoted "text"\nover two lines')
    token = CURRENT_REQUEST_ID.set("req_abc")
    try:
        log.info("turn %d", 7, extra={"account": "acct-1", "turn": 7, "odd": object()})
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    finally:
        CURRENT_REQUEST_ID.reset(token)
    outside, turn, failed = lines(buffer)
    assert outside["request_id"] is None and outside["level"] == "DEBUG"
    assert outside["message"] == 'outside any request: quoted "text"\nover two lines'
    assert (
        turn["request_id"] == "req_abc" and turn["message"] == "turn 7" and turn["logger"] == "service.test"
    )
    assert (turn["account"], turn["turn"]) == ("acct-1", 7) and turn["odd"].startswith("<object")
    assert turn["time"].endswith("Z") and "T" in turn["time"]
    assert failed["level"] == "ERROR" and "ValueError: boom" in failed["exception"]


def test_text_lines_name_the_request(captured: Callable[[str, str], io.StringIO]) -> None:
    buffer = captured("INFO", "text")
    log = logging.getLogger("service.test")
    log.debug("below the level")
    log.info("outside")
    token = CURRENT_REQUEST_ID.set("req_abc")
    try:
        log.warning("inside")
    finally:
        CURRENT_REQUEST_ID.reset(token)
    outside, inside = buffer.getvalue().splitlines()
    assert outside.endswith("INFO service.test [-] outside")
    assert inside.endswith("WARNING service.test [req_abc] inside")


def test_the_settings_name_a_level_and_a_format(tmp_path: Any) -> None:
    settings = GatewaySettings(data_dir=tmp_path, open_access=True, log_level="debug", log_format="json")  # type: ignore[arg-type]
    assert settings.log_level == "DEBUG" and settings.log_format is LogFormat.JSON
    with pytest.raises(ValueError):
        GatewaySettings(data_dir=tmp_path, open_access=True, log_format="yaml")  # type: ignore[arg-type]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_every_line_of_a_request_carries_its_id(
    gateway: Served, captured: Callable[[str, str], io.StringIO], stream: bool
) -> None:
    buffer = captured("INFO", "json")
    headers = {"Authorization": f"Bearer {API_KEY}"}
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    given = httpx.post(
        gateway.url + "/v1/chat/completions", json=body, headers={**headers, "X-Request-Id": "req-given-1"}
    )
    made = httpx.post(gateway.url + "/v1/chat/completions", json=body, headers=headers)
    assert given.status_code == made.status_code == 200
    made_id = made.headers["X-Request-Id"]
    assert given.headers["X-Request-Id"] == "req-given-1" and made_id.startswith("req_")
    written = [
        line for line in when_answered(buffer, 2) if line["logger"] in ("service.request_ids", SCRIPTED_TURN)
    ]
    by_id = {(line["request_id"], line["logger"]) for line in written}
    assert by_id == {
        ("req-given-1", "service.request_ids"),
        ("req-given-1", SCRIPTED_TURN),
        (made_id, "service.request_ids"),
        (made_id, SCRIPTED_TURN),
    }
    answered = [line for line in written if line["logger"] == "service.request_ids"]
    assert [(line["method"], line["path"], line["status"]) for line in answered] == [
        ("POST", "/v1/chat/completions", 200)
    ] * 2
    assert all(line["account"] == "acct-1" for line in written if line["logger"] == SCRIPTED_TURN)
