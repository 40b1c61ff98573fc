"""The sign-in flow and device-bound sessions over HTTP (docs/simulator-contract.md, "Sign-in and
device-bound sessions"): pages, the attempts log, the jar, key registration, RotateBoundCookies,
ticket lifetimes on the simulated clock, a forced "Verify it's you" and revocation."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from simulator.dbsc import jwk_of, sign_jwt
from tests.simulator.batchexecute_wire import BATCH_PATH, answers, batch_form

USER = {"email": "ada@example.com", "password": "correct horse", "kind": "paid"}
JAR = {
    "__Secure-1PSID",
    "__Secure-1PSIDTS",
    "__Secure-3PSID",
    "SID",
    "HSID",
    "SSID",
    "APISID",
    "SAPISID",
    "SIDCC",
}
WAIT_S = 20.0


@pytest.fixture
def client(sim: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim, timeout=10) as http:
        yield http


def _add_user(client: httpx.Client, **changes: Any) -> dict[str, Any]:
    body = {**USER, **changes}
    client.post("/_sim/users", json=body).raise_for_status()
    return body


def _sign_in(client: httpx.Client, *, webdriver: str = "false", email: str = USER["email"]) -> httpx.Response:
    """Identifier then password; answers the password step's response."""
    first = client.post(
        "/v3/signin/identifier", data={"identifier": email, "continue": "/app", "webdriver": webdriver}
    )
    assert first.status_code == 303 and first.headers["location"].startswith("/v3/signin/challenge/pwd?TL=")
    token = first.headers["location"].split("TL=", 1)[1]
    return client.post("/v3/signin/challenge/pwd", data={"TL": token, "Passwd": USER["password"]})


def _public_id(response: httpx.Response) -> str:
    """How the simulator names a session: a digest of its ``__Secure-1PSID``."""
    return hashlib.sha256(response.cookies["__Secure-1PSID"].encode()).hexdigest()[:16]


def _status(base: str, jar: dict[str, str]) -> tuple[int | None, str]:
    """otAQ7b's status slot [14] for a request carrying ``jar``, and the kind the server logged."""
    page = httpx.get(f"{base}/app", cookies=jar, timeout=10).text
    match = re.search(r'"SNlM0e":"([^"]+)"', page)
    assert match, "the page renders signed in"
    response = httpx.post(
        f"{base}{BATCH_PATH}?rpcids=otAQ7b&source-path=/app&hl=en&_reqid=1&rt=c",
        data={"f.req": batch_form([("otAQ7b", [])]), "at": match.group(1)},
        headers={"x-same-domain": "1"},
        cookies=jar,
        timeout=10,
    )
    [answer] = answers(response.content)
    kind = httpx.get(f"{base}/_sim/rpcs", timeout=10).json()[-1]["account"]
    return answer.payload[14], str(kind)


def _session(base: str, public_id: str) -> dict[str, Any]:
    [found] = [
        s for s in httpx.get(f"{base}/_sim/sessions", timeout=10).json() if s["public_id"] == public_id
    ]
    return dict(found)


def _wait_session(base: str, public_id: str, key: str, value: object) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while (view := _session(base, public_id))[key] != value:
        assert time.monotonic() < deadline, f"{key} never became {value!r}: {view}"
        time.sleep(0.02)
    return view


def _exported(client: httpx.Client, **body: Any) -> tuple[str, dict[str, str]]:
    response = client.post("/_sim/sessions", json=body)
    response.raise_for_status()
    return response.headers["x-sim-public-id"], {c["name"]: c["value"] for c in response.json()}


def _challenge(base: str, jar: dict[str, str]) -> str:
    response = httpx.get(f"{base}/RotateBoundCookies", cookies=jar, timeout=10)
    assert response.status_code == 401
    header = response.headers["sec-session-google-challenge"]
    assert header.startswith("session_id=sidts_session; challenge=")
    return header.split("challenge=", 1)[1]


def _register(base: str, jar: dict[str, str], bind_url: str) -> ec.EllipticCurvePrivateKey:
    """What the success page's script does, with a key of our own."""
    page = httpx.get(f"{base}{bind_url}", cookies=jar, timeout=10).text
    nonce = re.search(r'"nonce": "([^"]+)"', page)
    assert nonce and "/static/bind.js" in page
    key = ec.generate_private_key(ec.SECP256R1())
    proof = sign_jwt({"challenge": nonce.group(1)}, key)
    body = {"key": jwk_of(key.public_key()), "jwt": proof}
    response = httpx.post(f"{base}/RegisterBoundSession", json=body, cookies=jar, timeout=10)
    assert response.status_code == 200, response.text
    again = httpx.post(f"{base}/RegisterBoundSession", json=body, cookies=jar, timeout=10)
    assert again.status_code == 409, "a session binds one key only"
    return key


def test_the_sign_in_page_is_served_at_both_paths(client: httpx.Client) -> None:
    for path in ("/ServiceLogin?continue=%2Fapp%2Fabc", "/v3/signin/identifier"):
        page = client.get(path).text
        assert "Sign in" in page
        assert "id='identifierId'" in page and "name='identifier'" in page and "id='identifierNext'" in page
        assert "name='webdriver'" in page and "navigator.webdriver" in page
    assert "value='/app/abc'" in client.get("/ServiceLogin?continue=https://evil.example/app/abc").text


def test_password_sign_in_sets_the_jar_and_logs_the_attempt(client: httpx.Client, sim: str) -> None:
    _add_user(client)
    done = _sign_in(client)
    assert done.status_code == 303 and done.headers["location"] == "/v3/signin/bind?continue=%2Fapp"
    headers = done.headers.get_list("set-cookie")
    assert {h.split("=", 1)[0] for h in headers} == JAR
    assert all("Secure" in h and "Path=/" in h for h in headers)
    assert all("HttpOnly" in h for h in headers if h.startswith(("__Secure-1PSID=", "__Secure-1PSIDTS=")))
    assert done.cookies["__Secure-1PSID"].startswith("paid-")
    [attempt] = client.get("/_sim/signins").json()
    assert (
        attempt["outcome"] == "signed_in"
        and attempt["webdriver"] is False
        and attempt["email"] == USER["email"]
    )
    [session] = client.get("/_sim/sessions").json()
    assert session["bound"] and session["alive"] and not session["key_registered"]
    assert "password" not in str(client.get("/_sim/users").json())


def test_a_browser_seen_as_automated_is_refused(client: httpx.Client) -> None:
    _add_user(client)
    refused = client.post(
        "/v3/signin/identifier", data={"identifier": USER["email"], "continue": "/app", "webdriver": "true"}
    )
    assert refused.status_code == 303 and refused.headers["location"] == "/v3/signin/rejected"
    page = client.get("/v3/signin/rejected").text
    assert "Couldn't sign you in" in page and "This browser or app may not be secure" in page
    [attempt] = client.get("/_sim/signins").json()
    assert attempt["outcome"] == "rejected" and attempt["webdriver"] is True
    assert client.get("/_sim/sessions").json() == []


def test_unknown_email_wrong_password_and_wrong_code(client: httpx.Client) -> None:
    _add_user(client, otp="424242")
    unknown = client.post(
        "/v3/signin/identifier", data={"identifier": "who@example.com", "webdriver": "false"}
    )
    assert unknown.status_code == 200 and "Couldn't find your Google Account" in unknown.text
    first = client.post("/v3/signin/identifier", data={"identifier": USER["email"], "webdriver": "false"})
    token = first.headers["location"].split("TL=", 1)[1]
    page = client.get(first.headers["location"]).text
    assert "Welcome" in page and "name='Passwd'" in page and "id='passwordNext'" in page
    wrong = client.post("/v3/signin/challenge/pwd", data={"TL": token, "Passwd": "nope"})
    assert wrong.status_code == 200 and "Wrong password" in wrong.text
    right = client.post("/v3/signin/challenge/pwd", data={"TL": token, "Passwd": USER["password"]})
    assert right.headers["location"] == f"/v3/signin/challenge/totp?TL={token}"
    assert "id='totpPin'" in client.get(right.headers["location"]).text
    bad_code = client.post("/v3/signin/challenge/totp", data={"TL": token, "totpPin": "000000"})
    assert "Wrong code" in bad_code.text and "__Secure-1PSID" not in bad_code.headers.get("set-cookie", "")
    good = client.post("/v3/signin/challenge/totp", data={"TL": token, "totpPin": "424242"})
    assert good.headers["location"].startswith("/v3/signin/bind")
    outcomes = [a["outcome"] for a in client.get("/_sim/signins").json()]
    assert outcomes == ["unknown_email", "wrong_password", "wrong_code", "signed_in"]


def test_rotate_bound_cookies_needs_the_registered_key(client: httpx.Client, sim: str) -> None:
    _add_user(client)
    done = _sign_in(client)
    jar = dict(done.cookies)
    key = _register(sim, jar, done.headers["location"])
    stranger = ec.generate_private_key(ec.SECP256R1())
    nonce = _challenge(sim, jar)
    forged = httpx.get(
        f"{sim}/RotateBoundCookies",
        cookies=jar,
        headers={"Sec-Session-Google-Response": sign_jwt({"challenge": nonce}, stranger)},
        timeout=10,
    )
    assert forged.status_code == 401 and "__Secure-1PSIDTS" not in forged.headers.get("set-cookie", "")
    nonce = _challenge(sim, jar)
    proof = {"Sec-Session-Google-Response": sign_jwt({"challenge": nonce}, key)}
    renewed = httpx.get(f"{sim}/RotateBoundCookies", cookies=jar, headers=proof, timeout=10)
    assert renewed.status_code == 200 and renewed.cookies["__Secure-1PSIDTS"] != jar["__Secure-1PSIDTS"]
    replayed = httpx.get(f"{sim}/RotateBoundCookies", cookies=jar, headers=proof, timeout=10)
    assert replayed.status_code == 401, "a challenge is used once"
    plain = httpx.post(f"{sim}/RotateCookies", cookies=jar, timeout=10)
    assert plain.status_code == 200 and set(plain.cookies) == {"SIDCC"}, (
        "a bound session's ticket is not refreshed"
    )
    assert _session(sim, _public_id(done))["rotations"] == 1


def test_a_copied_bound_jar_dies_after_the_lifetime_and_an_unbound_one_does_not(
    client: httpx.Client, sim: str
) -> None:
    bound_id, bound = _exported(client, kind="paid", bound=True)
    free_id, unbound = _exported(client, kind="free", bound=False)
    old_form = {"__Secure-1PSID": "paid-oldform"}
    assert _status(sim, bound) == (1000, "paid")
    without_ticket = {k: v for k, v in bound.items() if k != "__Secure-1PSIDTS"}
    assert _status(sim, without_ticket) == (1016, "expired"), "a bound session needs one of its tickets"
    client.post("/_sim/config", json={"time_scale": 1e6}).raise_for_status()  # 7200 s in 7 ms
    _wait_session(sim, bound_id, "alive", False)
    assert _status(sim, bound) == (1016, "expired")
    assert (
        httpx.post(f"{sim}/RotateCookies", cookies=bound, timeout=10).cookies.get("__Secure-1PSIDTS") is None
    )
    assert _status(sim, bound) == (1016, "expired"), "RotateCookies cannot revive a bound copy"
    _challenge(sim, bound)  # the device that holds the key could still refresh it
    assert _status(sim, unbound)[1] == "free" and _session(sim, free_id)["alive"]
    rotated = httpx.post(f"{sim}/RotateCookies", cookies=unbound, timeout=10)
    assert rotated.cookies["__Secure-1PSIDTS"] != unbound["__Secure-1PSIDTS"]
    assert _session(sim, free_id)["rotations"] == 1
    assert _status(sim, old_form) == (1000, "paid"), "old-form cookies never die"


def test_the_signing_key_revives_a_stale_session(client: httpx.Client, sim: str) -> None:
    _add_user(client)
    done = _sign_in(client)
    jar = dict(done.cookies)
    key = _register(sim, jar, done.headers["location"])
    client.post("/_sim/config", json={"time_scale": 1e6}).raise_for_status()
    _wait_session(sim, _public_id(done), "alive", False)
    client.post("/_sim/config", json={"time_scale": 1.0}).raise_for_status()
    assert _status(sim, jar)[1] == "expired"
    proof = {"Sec-Session-Google-Response": sign_jwt({"challenge": _challenge(sim, jar)}, key)}
    renewed = httpx.get(f"{sim}/RotateBoundCookies", cookies=jar, headers=proof, timeout=10)
    assert renewed.status_code == 200
    assert _status(sim, {**jar, "__Secure-1PSIDTS": renewed.cookies["__Secure-1PSIDTS"]}) == (1000, "paid")
    assert _session(sim, _public_id(done))["alive"]


def test_a_forced_challenge_walls_the_app_until_the_password(client: httpx.Client, sim: str) -> None:
    _add_user(client, verify=False)
    public_id, jar = _exported(client, bound=True, email=USER["email"])
    client.post(f"/_sim/sessions/{public_id}/challenge").raise_for_status()
    walled = httpx.get(f"{sim}/app/0123456789abcdef?hl=en", cookies=jar, timeout=10)
    assert walled.status_code == 302
    target = walled.headers["location"]
    assert target == "/v3/signin/challenge/verify?continue=%2Fapp%2F0123456789abcdef%3Fhl%3Den"
    page = httpx.get(f"{sim}{target}", cookies=jar, timeout=10).text
    assert "<h1 id='headingText'>Verify it's you</h1>" in page and "id='verifyNext'" in page
    form = {"continue": "/app", "Passwd": "sim-password"}
    wrong = httpx.post(f"{sim}/v3/signin/challenge/verify", data=form, cookies=jar, timeout=10)
    assert "Wrong password" in wrong.text
    assert httpx.get(f"{sim}/app", cookies=jar, timeout=10).status_code == 302
    form["Passwd"] = USER["password"]
    passed = httpx.post(f"{sim}/v3/signin/challenge/verify", data=form, cookies=jar, timeout=10)
    assert passed.status_code == 303 and passed.headers["location"] == "/app"
    assert httpx.get(f"{sim}/app", cookies=jar, timeout=10).status_code == 200
    assert not _session(sim, public_id)["verify_pending"]


def test_a_user_with_verify_passes_it_during_sign_in(client: httpx.Client) -> None:
    _add_user(client, verify=True)
    done = _sign_in(client)
    assert done.headers["location"].startswith("/v3/signin/challenge/verify?TL=")
    token = done.headers["location"].split("TL=", 1)[1].split("&", 1)[0]
    assert "Verify it's you" in client.get(done.headers["location"]).text
    assert client.get("/_sim/sessions").json() == []
    passed = client.post("/v3/signin/challenge/verify", data={"TL": token, "Passwd": USER["password"]})
    assert (
        passed.headers["location"] == "/v3/signin/bind?continue=%2Fapp" and "__Secure-1PSID" in passed.cookies
    )


def test_expire_kills_for_good(client: httpx.Client, sim: str) -> None:
    public_id, jar = _exported(client, bound=False)
    assert _status(sim, jar)[1] == "paid"
    client.post(f"/_sim/sessions/{public_id}/expire").raise_for_status()
    assert _status(sim, jar) == (1016, "expired")
    assert httpx.post(f"{sim}/RotateCookies", cookies=jar, timeout=10).status_code == 401
    bound_id, bound = _exported(client, bound=True)
    client.post(f"/_sim/sessions/{bound_id}/expire").raise_for_status()
    refused = httpx.get(f"{sim}/RotateBoundCookies", cookies=bound, timeout=10)
    assert refused.status_code == 401 and "sec-session-google-challenge" not in refused.headers
    assert not _session(sim, bound_id)["alive"] and _session(sim, bound_id)["revoked"]
    assert client.post("/_sim/sessions/0000000000000000/expire").status_code == 404


def test_time_scale_shortens_the_rotation_interval_and_reset_forgets_sign_in(
    client: httpx.Client, sim: str
) -> None:
    client.post("/_sim/config", json={"rotation_interval": 600, "time_scale": 3600}).raise_for_status()
    page = httpx.get(f"{sim}/app", cookies={"__Secure-1PSID": "paid-x"}, timeout=10).text
    assert re.search(r'"simRotationInterval":"0\.16666', page)
    _add_user(client)
    _sign_in(client)
    client.post("/_sim/reset").raise_for_status()
    for listing in ("users", "sessions", "signins"):
        assert client.get(f"/_sim/{listing}").json() == []
    assert client.get("/_sim/config").json()["time_scale"] == 1.0
