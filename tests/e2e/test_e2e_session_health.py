"""Session health on the real stack (simulator + BrowserPool on Chromium + the app on uvicorn, issue
19 items 3 and 6): an account whose session dies shows why in the admin API and ``/metrics``, and
the alerts' webhook (a real loopback receiver) is called with ``account.needs_person``, then with
``account.recovered`` once the cookies are replaced or the person passed the challenge; no cookie
value of any jar is in a webhook body or a log line.

The device-bound tests use the simulator's sign-in contract (/work/notes/signin-contract.md,
protocol.md §1.4, peers-late-2026.md §4.1): a jar exported from a browser that signed in elsewhere
(``POST /_sim/sessions`` ``{"bound": true}``) cannot refresh its ``__Secure-1PSIDTS`` and dies after
``bound_ticket_lifetime``; ``POST /_sim/sessions/{id}/challenge`` sends the session's next app load to
"Verify it's you" (fidelity.md A4)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from browser._cookies import for_site, parse_export
from tests.conftest import NewContext
from tests.e2e.conftest import KEY_A, Stack, running_stack
from tests.service.test_metrics import samples
from tests.support.webhooks import TOKEN, Receiver, receiving

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_KEY = "adm-health-e2e-key-0123456789"
WAIT = 60.0  # a rebuild after a failed turn loads a page on a busy machine
PUBLIC_ID_HEADER = "x-sim-public-id"


@pytest.fixture(scope="module")
def receiver() -> Receiver:
    return Receiver(fail_first=1)  # the first try is refused: every event here is retried once


@pytest.fixture(scope="module")
def health_stack(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[Stack]:
    with receiving(receiver) as hook:
        alerts = {"webhook_url": hook, "backoff": 0.1, "backoff_max": 0.5, "check_interval": 0.1}
        with running_stack(
            tmp_path_factory.mktemp("health"), (), admin_keys=(SecretStr(ADMIN_KEY),), alerts=alerts
        ) as stack:
            yield stack


@pytest.fixture(autouse=True)
def _quiet_sim(health_stack: Stack) -> Iterator[None]:
    yield
    httpx.post(f"{health_stack.sim_url}/_sim/reset", timeout=10).raise_for_status()


def admin(stack: Stack) -> httpx.Client:
    return httpx.Client(
        base_url=stack.url + "/admin", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=120
    )


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def account_json(stack: Stack, account_id: str) -> dict[str, Any]:
    with admin(stack) as client:
        found: dict[str, Any] = client.get(f"/accounts/{account_id}").json()
        return found


def events(receiver: Receiver, account_id: str) -> list[tuple[str, str]]:
    return [(body["event"], body["reason"]) for body in receiver.delivered() if body["account"] == account_id]


def needs_person_metric(stack: Stack, account_id: str) -> dict[str, float]:
    text = httpx.get(stack.url + "/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).text
    return {
        dict(labels)["reason"]: value
        for (name, labels), value in samples(text).items()
        if name == "gateway_account_needs_person" and dict(labels)["account"] == account_id
    }


def jar_of(kind: str) -> list[dict[str, Any]]:
    """A jar as a cookie-export extension writes it, for a simulator account kind (old form:
    ``<kind>-<random>``, no session record)."""
    run = uuid.uuid4().hex
    values = {
        "__Secure-1PSID": f"{kind}-{run[:16]}",
        "__Secure-1PSIDTS": f"sidts-{run[16:]}",
        "SAPISID": f"sapisid-{run[:12]}",
    }
    return [
        {"name": name, "value": value, "domain": ".google.com", "path": "/", "secure": True, "httpOnly": True}
        for name, value in values.items()
    ]


def add(stack: Stack, name: str, jar: list[dict[str, Any]]) -> dict[str, Any]:
    with admin(stack) as client:
        response = client.post("/accounts", json={"name": name, "cookie_file": json.dumps(jar)})
        assert response.status_code == 201, response.text
        added: dict[str, Any] = response.json()
        return added


def assert_no_value_of(jars: list[list[dict[str, Any]]], receiver: Receiver, logs: str) -> None:
    sent = receiver.raw()
    assert sent, "the webhook was called"
    for jar in jars:
        for cookie in jar:
            assert cookie["value"] not in sent, f"{cookie['name']} in a webhook body"
            assert cookie["value"] not in logs, f"{cookie['name']} in a log line"
    assert TOKEN not in logs


def test_an_expired_session_needs_a_person_until_its_cookies_are_replaced(
    health_stack: Stack, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dead = jar_of("expired")  # the page renders signed in; otAQ7b says 1016
    shown = add(health_stack, "copied", dead)
    assert (shown["state"], shown["needs_person"]) == ("signed_out", "expired")
    assert shown["signin_method"] == "cookie_import" and shown["session_started_at"] is None
    assert "Sign in inside the gateway" in shown["needs_person_hint"]
    assert needs_person_metric(health_stack, "copied") == {"expired": 1}
    wait_for(lambda: events(receiver, "copied") == [("account.needs_person", "expired")], "the alert")

    # The operator replaces the cookies (the account is added again under its name): it serves again.
    with admin(health_stack) as client:
        assert client.delete("/accounts/copied").status_code in (200, 204)
    fresh = jar_of("paid")
    again = add(health_stack, "copied", fresh)
    assert (again["state"], again["needs_person"]) == ("ready", None)
    assert again["session_started_at"] is not None
    assert needs_person_metric(health_stack, "copied") == {}
    wait_for(lambda: len(events(receiver, "copied")) == 2, "the recovery")
    assert events(receiver, "copied")[1] == ("account.recovered", "expired")
    assert_no_value_of([dead, fresh], receiver, caplog.text)


# -- device-bound sessions (the simulator's sign-in contract) --


def needs_sessions(stack: Stack) -> None:
    if httpx.get(f"{stack.sim_url}/_sim/sessions", timeout=10).status_code == 404:
        pytest.skip("the simulator has no sign-in sessions yet (signin-sim branch not merged)")


def bound_session(stack: Stack, **body: Any) -> tuple[list[dict[str, Any]], str]:
    """A jar exported from a browser that signed in elsewhere, and the simulator's id of its session."""
    needs_sessions(stack)
    response = httpx.post(f"{stack.sim_url}/_sim/sessions", json={"kind": "paid", **body}, timeout=10)
    response.raise_for_status()
    jar: list[dict[str, Any]] = response.json()
    psid = next(c["value"] for c in jar if c["name"] == "__Secure-1PSID")
    public_id = response.headers.get(PUBLIC_ID_HEADER) or hashlib.sha256(psid.encode()).hexdigest()[:16]
    return jar, public_id


def sim_session(stack: Stack, public_id: str) -> dict[str, Any]:
    sessions = httpx.get(f"{stack.sim_url}/_sim/sessions", timeout=10).json()
    found: dict[str, Any] = next(s for s in sessions if s["public_id"] == public_id)
    return found


def challenge(stack: Stack, public_id: str) -> None:
    httpx.post(f"{stack.sim_url}/_sim/sessions/{public_id}/challenge", timeout=10).raise_for_status()


def test_an_imported_device_bound_cookie_dies_after_its_lifetime(
    health_stack: Stack, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    needs_sessions(health_stack)
    # A ticket lives 20 min on the simulated clock, which runs 60 times faster: 20 s here.
    health_stack.sim_config(time_scale=60, bound_ticket_lifetime=1200)
    jar, public_id = bound_session(health_stack, bound=True)
    shown = add(health_stack, "exported", jar)
    assert (shown["state"], shown["needs_person"]) == ("ready", None)
    assert shown["signin_method"] == "cookie_import"

    # Only the browser holding the device key can refresh the ticket: this copy dies.
    wait_for(lambda: not sim_session(health_stack, public_id)["alive"], "the session's end in the simulator")
    assert account_json(health_stack, "exported")["last_rotation_at"] is None  # never a fresh ticket
    # The next turn meets the dead session; the account is read again and says why.
    with admin(health_stack) as client:
        made = client.post("/keys", json={"name": "only-exported", "accounts": ["exported"]})
        assert made.status_code == 201, made.text
        key = made.json()["key"]
    turn = httpx.post(
        health_stack.url + "/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "still there?"}]},
        timeout=180,
    )
    assert turn.status_code >= 400, "a dead session answered"
    wait_for(
        lambda: account_json(health_stack, "exported")["needs_person"] == "expired", "needs_person=expired"
    )
    shown = account_json(health_stack, "exported")
    assert shown["state"] == "signed_out" and shown["needs_person_hint"]
    assert needs_person_metric(health_stack, "exported") == {"expired": 1}
    wait_for(lambda: ("account.needs_person", "expired") in events(receiver, "exported"), "the alert")
    body = next(b for b in receiver.delivered() if b["account"] == "exported")
    assert (body["signin_method"], body["state"]) == ("cookie_import", "signed_out")
    assert_no_value_of([jar], receiver, caplog.text)
    assert_no_value_shown_or_filed(health_stack, jar)


# The stores that hold cookies by design (0600): the cookie store, the added-accounts registry and
# the accounts' Chromium profiles. No other file of the data directory may carry a value.
COOKIE_STORES = ("cookies.sqlite3", "added_accounts.sqlite3")


def assert_no_value_shown_or_filed(stack: Stack, jar: list[dict[str, Any]]) -> None:
    """Issue 19 item 6: no cookie value in the dashboard, the admin API, /metrics, or any file of the
    data directory outside the stores."""
    with httpx.Client(base_url=stack.url + "/admin/ui", timeout=30) as ui:
        assert ui.post("/login", data={"key": ADMIN_KEY}).status_code == 303
        shown = ui.get("").text + ui.get("/accounts/exported/live").text
    assert 'data-account="exported"' in shown, "the dashboard lists the account: the check means something"
    with admin(stack) as client:
        shown += client.get("/accounts").text + client.get("/accounts/exported").text
    shown += httpx.get(stack.url + "/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).text
    data_dir = stack.settings.data_dir
    filed = [
        path
        for path in data_dir.rglob("*")
        if path.is_file()
        and not path.name.startswith(COOKIE_STORES)
        and "profiles" not in path.relative_to(data_dir).parts
    ]
    assert filed, "the data directory holds other files: the check means something"
    for cookie in jar:
        assert cookie["value"] not in shown, f"{cookie['name']} shown by the dashboard, admin API or metrics"
        for path in filed:
            assert cookie["value"].encode() not in path.read_bytes(), f"{cookie['name']} in {path.name}"


async def test_verify_its_you_needs_a_person_until_passed(
    health_stack: Stack, receiver: Receiver, new_context: NewContext
) -> None:
    jar, public_id = bound_session(health_stack, bound=False)
    shown = add(health_stack, "challenged", jar)
    assert (shown["state"], shown["needs_person"]) == ("ready", None)
    challenge(health_stack, public_id)
    with admin(health_stack) as client:
        checked = client.post("/accounts/challenged/check").json()
    assert (checked["state"], checked["needs_person"]) == ("signed_out", "verify")
    assert "Verify it's you" in checked["needs_person_hint"]
    assert needs_person_metric(health_stack, "challenged") == {"verify": 1}
    wait_for(lambda: events(receiver, "challenged") == [("account.needs_person", "verify")], "the alert")

    # The person passes the challenge in a browser holding the same session, then checks the account.
    context = await new_context()
    await context.add_cookies(for_site(parse_export(json.dumps(jar)), health_stack.sim_url))
    page = await context.new_page()
    await page.goto(f"{health_stack.sim_url}/app")
    assert "/v3/signin/challenge" in page.url
    await page.fill("input[name=Passwd]", "sim-password")
    await page.click("#verifyNext")
    await page.wait_for_url("**/app**")
    with admin(health_stack) as client:
        checked = client.post("/accounts/challenged/check").json()
    assert (checked["state"], checked["needs_person"]) == ("ready", None)
    wait_for(lambda: len(events(receiver, "challenged")) == 2, "the recovery")
    assert events(receiver, "challenged")[1] == ("account.recovered", "verify")
    assert KEY_A not in receiver.raw()
