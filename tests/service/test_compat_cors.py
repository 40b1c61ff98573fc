"""CORS over real HTTP: a preflight is answered without an API key, answers (errors included) carry
the headers, credentials are never allowed, and the origin list is a setting."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.service.conftest import API_KEY, Served

ORIGIN = "http://app.example"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-stainless-os",
}


def test_preflight_needs_no_key_and_allows_the_auth_header(gateway: Served) -> None:
    response = httpx.options(f"{gateway.url}/v1/chat/completions", headers=PREFLIGHT, timeout=10)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].lower().split(",")}
    assert {"authorization", "content-type", "x-stainless-os"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers
    assert gateway.pool.requests == []


def test_answers_and_401s_carry_the_origin_header(gateway: Served) -> None:
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "Hi"}]}
    ok = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        json=body,
        headers={"Origin": ORIGIN, "Authorization": f"Bearer {API_KEY}"},
        timeout=10,
    )
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "*"
    refused = httpx.post(
        f"{gateway.url}/v1/chat/completions", json=body, headers={"Origin": ORIGIN}, timeout=10
    )
    # A browser page can read why it was refused.
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == "*"


def test_origins_are_a_setting(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(cors_origins=["http://allowed.example"])
    url = f"{served.url}/v1/models"
    allowed = httpx.options(url, headers={**PREFLIGHT, "Origin": "http://allowed.example"}, timeout=10)
    assert allowed.headers["access-control-allow-origin"] == "http://allowed.example"
    other = httpx.options(url, headers={**PREFLIGHT, "Origin": "http://evil.example"}, timeout=10)
    assert other.status_code == 400 and "access-control-allow-origin" not in other.headers


def test_cors_off_leaves_preflights_to_the_key_gate(serve_gateway: Callable[..., Served]) -> None:
    served = serve_gateway(cors_origins=[])
    response = httpx.options(f"{served.url}/v1/chat/completions", headers=PREFLIGHT, timeout=10)
    assert response.status_code == 401 and "access-control-allow-origin" not in response.headers
