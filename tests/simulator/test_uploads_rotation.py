"""Uploads round-trip into the answer and the request log; cookie rotation; the walls."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.simulator.wire import cookies, decode, generate, requests_log

UPLOAD_HEADERS = {"Push-ID": "feeds/mcudyrk2a4khkz", "X-Tenant-Id": "bard-storage"}


def _upload(base: str, data: bytes, name: str = "notes.txt", account: str | None = "paid-alice") -> str:
    response = httpx.post(
        f"{base}/upload",
        files={"file": (name, data, "text/plain")},
        headers=UPLOAD_HEADERS,
        cookies=cookies(account),
        timeout=10,
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return response.text


def test_upload_round_trip(sim: str) -> None:
    data = "hello 😄\n".encode() * 100
    ref = _upload(sim, data)
    assert ref.startswith("/contrib_service/ttl_1d/")
    files = [[[ref, 3, None, "text/plain"], "notes.txt"]]
    decoded = decode(generate(sim, "read this", files=files).content)
    digest = hashlib.sha256(data).hexdigest()
    assert f"notes.txt (text/plain, {len(data)} bytes, sha256 {digest[:16]})" in decoded.text
    logged = requests_log(sim)[-1]["files"][0]
    assert logged["sha256"] == digest and logged["size"] == len(data) and logged["ref"] == ref
    uploads = httpx.get(f"{sim}/_sim/uploads", timeout=5).json()
    assert uploads[0]["sha256"] == digest and uploads[0]["tenant"] == "bard-storage"


def test_unknown_ref_and_signed_out_reference_are_1100(sim: str) -> None:
    unknown = [[["/contrib_service/ttl_1d/nope", 1, None, "image/png"], "a.png"]]
    assert decode(generate(sim, "x", files=unknown).content).errors == [(7, 1100)]
    ref = _upload(sim, b"x", account=None)
    mine = [[[ref, 3, None, "text/plain"], "a.txt"]]
    assert decode(generate(sim, "x", account=None, at=None, files=mine).content).errors == [(7, 1100)]


def test_upload_requires_the_file_part(sim: str) -> None:
    response = httpx.post(f"{sim}/upload", files={"other": ("a", b"x")}, timeout=5)
    assert response.status_code == 400


def test_rotation_sets_a_fresh_ticket_each_call(sim: str) -> None:
    tickets = []
    for _ in range(3):
        response = httpx.post(f"{sim}/RotateCookies", cookies=cookies("paid-alice"), timeout=5)
        assert response.status_code == 200
        header = response.headers["set-cookie"]
        assert "__Secure-1PSIDTS=" in header and "Secure" in header and "HttpOnly" in header
        tickets.append(response.cookies["__Secure-1PSIDTS"])
    assert len(set(tickets)) == 3
    assert len(httpx.get(f"{sim}/_sim/rotations", timeout=5).json()) == 3
    assert httpx.post(f"{sim}/RotateCookies", timeout=5).status_code == 401


def test_consent_wall_then_paid(sim: str) -> None:
    with httpx.Client(base_url=sim, cookies=cookies("consent-c"), timeout=10) as client:
        first = client.get("/app", follow_redirects=False)
        assert first.status_code == 302 and first.headers["location"].startswith("/consent?continue=")
        wall = client.get(first.headers["location"])
        assert "Before you continue to Google" in wall.text and "Accept all" in wall.text
        accepted = client.post("/consent", data={"continue": f"{sim}/app", "set_eom": "true"})
        assert accepted.status_code == 303 and accepted.headers["location"] == "/app"
        consent = accepted.cookies["CONSENT"]
        assert consent.startswith("YES")
        # httpx keeps Secure cookies off plain http; Chromium sends them to localhost.
        page = httpx.get(f"{sim}/app", cookies={**cookies("consent-c"), "CONSENT": consent})
        assert page.status_code == 200 and '"simTier":"paid"' in page.text and "SNlM0e" in page.text


def test_captcha_and_login_pages(sim: str) -> None:
    redirect = httpx.get(f"{sim}/app", cookies=cookies("captcha-q"), timeout=5)
    assert redirect.status_code == 302 and redirect.headers["location"].startswith("/sorry/index?continue=")
    sorry = httpx.get(f"{sim}{redirect.headers['location']}", timeout=5)
    assert "unusual traffic" in sorry.text
    assert "Sign in" in httpx.get(f"{sim}/ServiceLogin", timeout=5).text


# --- the page's resumable, cross-origin upload (docs/architecture/evidence.md#e7) ---------------------------


def _page_config(base: str, account: str) -> dict[str, Any]:
    html = httpx.get(f"{base}/app", cookies=cookies(account), timeout=10).text
    match = re.search(r'id="sim-page-config">(.*?)</script>', html, re.S)
    assert match
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def _twin(base: str) -> tuple[str, str]:
    """The page's origin (``localhost``) and the upload origin (``127.0.0.1``) of the same port."""
    port = urlsplit(base).port
    return f"http://localhost:{port}", f"http://127.0.0.1:{port}"


def _start(upload: str, page: str, session: str, data: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{upload}/upload/?upload_protocol=resumable&sim_session={session}",
        content="File name: notes.txt",
        headers={
            "origin": page,
            "content-type": "application/x-www-form-urlencoded;charset=UTF-8",
            "x-goog-upload-command": "start",
            "x-goog-upload-protocol": "resumable",
            "x-goog-upload-header-content-length": str(len(data)),
            "x-goog-upload-header-content-type": "text/plain",
            **UPLOAD_HEADERS,
            **headers,
        },
        timeout=10,
    )


def _finalize(url: str, page: str, data: bytes, offset: str = "0") -> httpx.Response:
    headers = {"origin": page, "x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": offset}
    return httpx.post(url, content=data, headers={**headers, **UPLOAD_HEADERS}, timeout=10)


def test_resumable_upload_across_the_loopback_twin(sim: str) -> None:
    page, upload = _twin(sim)
    config = _page_config(sim, "paid-alice")
    assert config["uploadOrigin"] == upload and config["uploadSession"]
    preflight = httpx.options(
        f"{upload}/upload/",
        headers={
            "origin": page,
            "access-control-request-method": "POST",
            "access-control-request-headers": "push-id,x-goog-upload-command,x-goog-upload-protocol",
        },
        timeout=10,
    )
    assert preflight.headers["access-control-allow-origin"] == page
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert "x-goog-upload-command" in preflight.headers["access-control-allow-headers"]

    data = "résumé 😄\n".encode() * 50
    start = _start(upload, page, config["uploadSession"], data)  # no cookie: the session names the account
    assert start.status_code == 200 and start.headers["x-goog-upload-status"] == "active"
    assert "x-goog-upload-url" in start.headers["access-control-expose-headers"]
    target = start.headers["x-goog-upload-url"]
    assert target.startswith(f"{upload}/upload/?upload_id=")
    done = _finalize(target, page, data)
    assert done.status_code == 200 and done.text.startswith("/contrib_service/ttl_1d/")
    assert done.headers["access-control-allow-origin"] == page
    [logged] = httpx.get(f"{sim}/_sim/uploads", timeout=5).json()
    assert (logged["account"], logged["protocol"], logged["origin"]) == ("paid", "resumable", page)
    assert (logged["push_id"], logged["tenant"], logged["name"]) == (
        "feeds/mcudyrk2a4khkz",
        "bard-storage",
        "notes.txt",
    )
    assert logged["sha256"] == hashlib.sha256(data).hexdigest() and logged["mime"] == "text/plain"
    files = [[[done.text, 3, None, "text/plain"], "notes.txt"]]
    decoded = decode(generate(sim, "read this", files=files).content)
    assert f"notes.txt (text/plain, {len(data)} bytes" in decoded.text
    assert _finalize(target, page, data).status_code == 404, "an upload URL is used once"


def test_resumable_upload_refuses_bad_requests_and_foreign_origins(sim: str) -> None:
    page, upload = _twin(sim)
    session = _page_config(sim, "paid-alice")["uploadSession"]
    data = b"0123456789"
    foreign = _start(upload, "http://evil.example", session, data)
    assert foreign.status_code == 200 and "access-control-allow-origin" not in foreign.headers
    missing = _start(upload, page, session, data, **{"x-goog-upload-header-content-length": ""})
    assert missing.status_code == 400
    target = _start(upload, page, session, data).headers["x-goog-upload-url"]
    assert _finalize(target, page, data, offset="5").status_code == 400
    assert _finalize(target, page, data + b"!").status_code == 400
    assert httpx.post(f"{upload}/upload/", headers={"origin": page}, timeout=10).status_code == 400
