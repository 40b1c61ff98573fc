"""StreamGenerate per account kind, as docs/simulator-contract.md's account table says."""

from __future__ import annotations

import httpx

from tests.simulator.wire import FLASH, PRO, decode, generate, requests_log


def test_paid_account_answers_with_served_model_echo(sim: str) -> None:
    response = generate(sim, "hello", model=PRO)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    decoded = decode(response.content)
    final = decoded.final
    assert final[39] == PRO and final[42] == "3.1 Pro"
    assert decoded.text.startswith("Turn 1 of chat c_")
    assert decoded.candidates[-1][37][0][0].startswith("**Reading the request**")
    assert decoded.keyed("26").startswith("AwAAAAAAAAAQ")
    assert decoded.keyed("28")[1] == PRO


def test_free_account_pro_is_downgraded_to_flash(sim: str) -> None:
    decoded = decode(generate(sim, "hi", account="free-bob", model=PRO).content)
    assert decoded.final[39] == FLASH and decoded.final[42] == "3.5 Flash"
    assert decoded.candidates[-1][37] is None


def test_limited_and_blocked_get_error_envelopes(sim: str) -> None:
    limited = decode(generate(sim, "hi", account="limited-x").content)
    blocked = decode(generate(sim, "hi", account="blocked-y").content)
    assert limited.errors == [(8, 1037)] and not limited.payloads
    assert blocked.errors == [(9, 1060)] and not blocked.payloads
    assert [e["outcome"] for e in requests_log(sim)] == ["error", "error"]


def test_captcha_and_consent_redirect(sim: str) -> None:
    captcha = generate(sim, "hi", account="captcha-z", at=None)
    consent = generate(sim, "hi", account="consent-w", at=None)
    assert captcha.status_code == 302 and captcha.headers["location"].startswith("/sorry/index?continue=")
    assert consent.status_code == 302 and consent.headers["location"].startswith("/consent?continue=")


def test_anonymous_needs_no_at_and_is_served_flash_lite(sim: str) -> None:
    decoded = decode(generate(sim, "hi", account=None, at=None, model=PRO).content)
    assert decoded.final[39] == "cf41b0e0dd7d53e5" and decoded.final[42] == "3.5 Flash-Lite"
    assert decoded.errors == [(13, 1096)]  # the trailing envelope of unpersisted turns
    assert decoded.keyed("26") is None


def test_signed_in_without_or_with_stale_at_gets_xsrf_400(sim: str) -> None:
    for at in (None, "stale:1"):
        response = generate(sim, "hi", at=at)
        assert response.status_code == 400
        assert '"xsrf"' in response.text
    assert "paid-alice" not in response.text


def test_malformed_freq_is_400(sim: str) -> None:
    url = f"{sim}/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate?rt=c"
    for body in ({"f.req": "not json"}, {"f.req": '[null, "{}"]'}, {"f.req": '[null, "[[1]]"]'}, {}):
        assert httpx.post(url, data=body, timeout=5).status_code == 400
    entries = requests_log(sim)
    assert {e["outcome"] for e in entries} == {"rejected"} and len(entries) == 4


def test_unknown_model_id_is_1052(sim: str) -> None:
    assert decode(generate(sim, "hi", model="0000000000000000").content).errors == [(9, 1052)]
