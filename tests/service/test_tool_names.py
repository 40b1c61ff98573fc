"""A function tool whose name breaks the rule every door shares (letters, digits, ``_.:-``, at most
64) is a 400 in the door's own envelope, naming the field, and nothing reaches the page: found by
the schemathesis run (``make check``) as a 500 from the Anthropic door, whose conversion into the
chat pipeline's tools met the rule only after the request had been accepted."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.service.conftest import API_KEY, Served

BAD_NAMES = ["get weather", "\x1fÉ", "x" * 65, "naïve"]


@pytest.fixture
def served(serve_gateway: Callable[..., Served]) -> Served:
    return serve_gateway()


@pytest.mark.parametrize("name", BAD_NAMES)
def test_the_anthropic_door_refuses_a_bad_tool_name(served: Served, name: str) -> None:
    body = {
        "model": "gemini-2.5-flash",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": name, "input_schema": {"type": "object"}}],
    }
    refused = httpx.post(served.url + "/v1/messages", json=body, headers={"x-api-key": API_KEY}, timeout=15)
    assert refused.status_code == 400, refused.text
    error = refused.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error", error
    assert "tools" in error["error"]["message"] and "name" in error["error"]["message"], error
    assert served.pool.requests == []


@pytest.mark.parametrize("name", BAD_NAMES)
def test_the_gemini_door_refuses_a_bad_function_name(served: Served, name: str) -> None:
    body = {
        "contents": [{"parts": [{"text": "hi"}]}],
        "tools": [{"functionDeclarations": [{"name": name, "parameters": {"type": "OBJECT"}}]}],
    }
    url = f"{served.url}/v1beta/models/gemini-2.5-flash:generateContent"
    refused = httpx.post(url, params={"key": API_KEY}, json=body, timeout=15)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and "name" in error["message"], error
    assert served.pool.requests == []


def test_a_name_with_dots_colons_and_dashes_is_still_taken(served: Served) -> None:
    # The shared rule is OpenAI's: dots, colons and dashes are names (a 400 here would be a regression).
    body = {
        "model": "gemini-2.5-flash",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"name": "ns.tool:get-weather_1", "input_schema": {"type": "object"}}],
    }
    from service.anthropic.protocol import MessagesRequest

    assert MessagesRequest.model_validate(body).tools is not None
