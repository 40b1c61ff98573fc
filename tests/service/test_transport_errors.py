"""Our transport failures are not Gemini's codes: a dropped connection or an HTTP error reaches the
client as ``upstream_connection_lost`` / ``upstream_http_<status>``, never ``gemini_13`` / ``gemini_0``."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest

from browser import ConnectionLost, HTTPStatusError, TransportError, UpstreamRejected
from tests.service.conftest import Served
from tests.service.scripted_pool import Script, ScriptedPool, growing

USER = [{"role": "user", "content": "Hi"}]


def test_transport_errors_are_not_gemini_rejections() -> None:
    for error in (ConnectionLost("dropped"), HTTPStatusError(502, "StreamGenerate")):
        assert isinstance(error, TransportError) and not isinstance(error, UpstreamRejected)


def test_a_drop_before_content_is_an_honest_502(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool()
    pool.queue(Script([ConnectionLost("the answer's connection failed")]))
    gateway = serve_gateway(pool)
    with pytest.raises(openai.APIStatusError) as info:
        gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=USER)
    assert info.value.status_code == 502 and info.value.code == "upstream_connection_lost"


def test_an_http_error_names_its_status_not_a_gemini_code(serve_gateway: Callable[..., Served]) -> None:
    pool = ScriptedPool()
    pool.queue(Script(enter_error=HTTPStatusError(500, "StreamGenerate")))
    gateway = serve_gateway(pool)
    with pytest.raises(openai.APIStatusError) as info:
        gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=USER)
    assert info.value.status_code == 502 and info.value.code == "upstream_http_500"


def test_a_drop_mid_stream_is_one_error_event_without_a_gemini_code(
    serve_gateway: Callable[..., Served],
) -> None:
    pool = ScriptedPool()
    pool.queue(Script([*growing("Half an answer", pieces=2)[:1], ConnectionLost("dropped")]))
    gateway = serve_gateway(pool)
    stream = gateway.client().chat.completions.create(model="gemini-2.5-flash", messages=USER, stream=True)
    with pytest.raises(openai.APIError) as info:
        list(stream)
    assert "gemini_" not in str(info.value.body) and "upstream_connection_lost" in str(info.value.body)
