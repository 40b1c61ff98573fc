"""Session health in the service (issue 19 item 3) on a real uvicorn gateway over a scripted pool:
the admin API's account JSON, the dashboard and ``/metrics`` show how each account was signed in,
its session's age, its last rotation and why it needs a person; the alerts' webhook is called on a
real loopback receiver that refuses the first tries (retried with backoff, in order), never with a
cookie, and the webhook's URL (which may carry a token) never reaches a log line in full."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from browser import AccountInfo, AccountState
from service.alerts import NEEDS_PERSON, RECOVERED, AccountAlerts, AlertSettings, shown_url
from service.settings import GatewaySettings
from tests.service.admin_pool import AdminPool
from tests.service.scripted_pool import account
from tests.service.test_admin_accounts import PSID, admin, gateway
from tests.service.test_dashboard import signed_in
from tests.service.test_metrics import samples, scrape
from tests.support.webhooks import TOKEN, Receiver, receiving

WAIT = 20.0


def wait_for(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _alerts(url: str, **values: Any) -> dict[str, Any]:
    return {"webhook_url": url, "backoff": 0.05, "backoff_max": 0.2, "check_interval": 0.02, **values}


def _needs(
    info: AccountInfo, reason: str | None, state: AccountState, since: float | None = None
) -> AccountInfo:
    return replace(
        info,
        state=state,
        needs_person=reason,
        needs_person_since=(since or time.time()) if reason else None,
        reason="cookies expired (account status 1016)" if reason == "expired" else None,
    )


def test_the_webhook_is_retried_with_backoff_in_order_and_never_carries_a_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = Receiver(fail_first=2)
    started = time.time() - 7200
    healthy = replace(
        account("acct-1"), signin_method="cookie_import", session_started_at=started, last_rotation_at=started
    )
    pool = AdminPool(account_list=[healthy])
    with receiving(receiver) as hook, gateway(tmp_path / "d", pool, alerts=_alerts(hook, attempts=4)) as url:
        with admin(url) as client:
            assert client.post("/accounts", json={"name": "x", "psid": PSID}).status_code == 201
        pool.account_list[0] = _needs(healthy, "expired", AccountState.SIGNED_OUT)
        wait_for(lambda: len(receiver.delivered()) == 1, "the needs_person event, after two refusals")
        pool.account_list[0] = _needs(healthy, None, AccountState.READY)
        wait_for(lambda: len(receiver.delivered()) == 2, "the recovered event")
        metrics = samples(scrape(url).text)

    # Two 503s, then the same body again: one event, three tries; then the recovery, once.
    assert len(receiver.tries) == 4
    assert receiver.tries[0]["body"] == receiver.tries[1]["body"] == receiver.tries[2]["body"]
    needs, recovered = receiver.delivered()
    assert needs["event"] == NEEDS_PERSON == receiver.tries[0]["event_header"]
    assert (needs["account"], needs["reason"], needs["signin_method"]) == (
        "acct-1",
        "expired",
        "cookie_import",
    )
    assert needs["state"] == "signed_out" and needs["previous_reason"] is None
    assert "Sign in inside the gateway" in needs["hint"]
    assert needs["session_age_seconds"] >= 7200 and needs["time"].endswith("Z")
    assert (recovered["event"], recovered["reason"], recovered["state"]) == (RECOVERED, "expired", "ready")
    # Nothing secret: the cookie the admin API was given, the webhook's token.
    text = receiver.raw()
    assert PSID not in text and TOKEN not in text
    assert metrics[("gateway_alerts_total", (("event", NEEDS_PERSON), ("outcome", "delivered")))] == 1
    assert metrics[("gateway_alerts_total", (("event", RECOVERED), ("outcome", "delivered")))] == 1
    # The logs tell each refused try and the receiver's host, never the URL's path.
    assert "try 1 of 4: HTTP 503" in caplog.text and "try 2 of 4: HTTP 503" in caplog.text
    assert shown_url(hook) in caplog.text
    assert TOKEN not in caplog.text and PSID not in caplog.text


def test_a_receiver_that_keeps_failing_is_given_up_and_a_refusal_is_not_retried(tmp_path: Path) -> None:
    failing = Receiver(fail_first=10**6)
    pool = AdminPool(account_list=[account("acct-1")])
    with receiving(failing) as hook, gateway(tmp_path / "d", pool, alerts=_alerts(hook, attempts=3)) as url:
        pool.account_list[0] = _needs(account("acct-1"), "verify", AccountState.SIGNED_OUT)

        def failed() -> float:
            return samples(scrape(url).text).get(
                ("gateway_alerts_total", (("event", NEEDS_PERSON), ("outcome", "failed"))), 0
            )

        wait_for(lambda: failed() == 1, "the event given up")
    assert len(failing.tries) == 3  # bounded

    refusing = Receiver(status_after=400)  # a 4xx other than 408/429: the receiver will not change its mind
    pool = AdminPool(account_list=[account("acct-1")])
    with receiving(refusing) as hook, gateway(tmp_path / "e", pool, alerts=_alerts(hook, attempts=3)) as url:
        pool.account_list[0] = _needs(account("acct-1"), "consent", AccountState.BLOCKED)
        wait_for(lambda: len(refusing.tries) == 1, "one try")
        pool.account_list.append(_needs(account("acct-2"), "captcha", AccountState.BLOCKED))
        wait_for(lambda: len(refusing.tries) == 2, "the next event's try")
    assert [t["body"]["account"] for t in refusing.tries] == ["acct-1", "acct-2"]


async def test_changes_are_announced_once_and_a_reason_older_than_the_process_is_not_news() -> None:
    receiver = Receiver()
    now = time.time()
    infos = [
        _needs(account("old"), "expired", AccountState.SIGNED_OUT, since=now - 3600),  # seen by the last run
        _needs(account("new"), "terms", AccountState.BLOCKED),
        account("fine"),
    ]
    with receiving(receiver) as hook:
        settings = AlertSettings.model_validate(_alerts(hook))
        alerts = AccountAlerts(settings, lambda: list(infos), started_at=now - 60)
        async with alerts:
            alerts.check()
            alerts.check()  # nothing changed: nothing more
            # An account waiting for its re-check (starting, reason cleared) has not recovered yet.
            infos[0] = replace(infos[0], state=AccountState.STARTING, needs_person=None)
            alerts.check()
            infos[0] = _needs(account("old"), None, AccountState.READY)
            infos[1] = _needs(account("new"), "region", AccountState.BLOCKED)  # another reason: news
            alerts.check()
            await _until_async(lambda: len(receiver.delivered()) == 3)
    got = [(b["event"], b["account"], b["reason"], b["previous_reason"]) for b in receiver.delivered()]
    assert got == [
        (NEEDS_PERSON, "new", "terms", None),
        (RECOVERED, "old", "expired", "expired"),
        (NEEDS_PERSON, "new", "region", "terms"),
    ]


async def _until_async(predicate: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_admin_api_dashboard_and_metrics_show_session_health(tmp_path: Path) -> None:
    now = time.time()
    inside = replace(
        account("inside"),
        signin_method="signed_in_inside",
        session_started_at=now - 90000,
        last_rotation_at=now,
    )
    expired = replace(
        _needs(account("copied"), "expired", AccountState.SIGNED_OUT, since=now - 60),
        signin_method="cookie_import",
        session_started_at=now - 5400,
    )
    with gateway(tmp_path / "d", AdminPool(account_list=[inside, expired])) as url:
        with admin(url) as client:
            shown = {a["id"]: a for a in client.get("/accounts").json()["data"]}
        with signed_in(url) as client:
            page = client.get("").text
        metrics = samples(scrape(url).text)
    assert shown["inside"]["signin_method"] == "signed_in_inside" and shown["inside"]["needs_person"] is None
    assert shown["inside"]["session_age_seconds"] >= 90000 and shown["inside"]["last_rotation_at"] == now
    assert shown["inside"]["needs_person_hint"] is None
    copied = shown["copied"]
    assert (copied["needs_person"], copied["needs_person_since"]) == ("expired", now - 60)
    assert "paste fresh cookies" in copied["needs_person_hint"]
    # The dashboard: the session column and a plain-language hint on the account that needs a person.
    assert "signed in inside the gateway" in page and "imported cookies" in page
    assert 'data-reason="expired"' in page and "Needs a person: session expired" in page
    assert "1 d 1 h" in page  # the inside account's session age (90000 s)
    assert metrics[("gateway_account_needs_person", (("account", "copied"), ("reason", "expired")))] == 1
    assert not any(
        name == "gateway_account_needs_person" and dict(labels)["account"] == "inside"
        for name, labels in metrics
    )
    age = metrics[
        (
            "gateway_account_session_age_seconds",
            (("account", "inside"), ("signin_method", "signed_in_inside")),
        )
    ]
    assert age >= 90000
    assert metrics[("gateway_account_last_rotation_timestamp_seconds", (("account", "inside"),))] == now


def test_the_webhook_url_is_read_from_the_environment_and_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GATEWAY_ALERTS__WEBHOOK_URL", f"https://hooks.example.com:8443/t/{TOKEN}")
    monkeypatch.setenv("GATEWAY_ALERTS__ATTEMPTS", "3")
    settings = GatewaySettings(open_access=True)
    assert settings.alerts.webhook_url is not None and settings.alerts.attempts == 3
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.alerts)
    assert shown_url(settings.alerts.webhook_url.get_secret_value()) == "https://hooks.example.com:8443/…"
    with pytest.raises(ValidationError) as caught:
        AlertSettings.model_validate({"webhook_url": f"ftp://h/{TOKEN}"})
    assert TOKEN not in str(caught.value)
    monkeypatch.delenv("GATEWAY_ALERTS__WEBHOOK_URL")
    assert GatewaySettings(open_access=True).alerts.webhook_url is None  # no webhook unless set
