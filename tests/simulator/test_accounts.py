"""StreamGenerate per account kind, as docs/simulator-contract.md's account table says."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.simulator.wire import (
    ANON,
    FREE_FLASH,
    FREE_PRO,
    PATH,
    PRO,
    cookies,
    decode,
    freq,
    generate,
    requests_log,
    xsrf_token,
)


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


def test_free_account_asking_for_an_id_its_picker_lacks_gets_its_own_flash(sim: str) -> None:
    """The free picker offers its own ids (M5): the paid Pro id is served by the free Flash, and the
    echo says so (the old rule "no Pro for free" is gone, D8)."""
    decoded = decode(generate(sim, "hi", account="free-bob", model=PRO).content)
    assert decoded.final[39] == FREE_FLASH and decoded.final[42] == "3.8 Flash"
    assert decoded.candidates[-1][37] is None
    pro = decode(generate(sim, "hi", account="free-bob", model=FREE_PRO, category=3).content)
    assert (pro.final[39], pro.final[42]) == (FREE_PRO, "3.1 Pro") and pro.candidates[-1][37][0][0]


def test_plus_account_answers_like_paid(sim: str) -> None:
    decoded = decode(generate(sim, "hi", account="plus-p", model=PRO, category=3).content)
    assert (decoded.final[39], decoded.final[42]) == (PRO, "3.1 Pro")
    assert requests_log(sim)[-1]["account"] == "plus"


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
    assert decoded.final[39] == ANON and decoded.final[42] == "3.5 Flash-Lite"
    assert decoded.errors == [(13, 1096)]  # the trailing envelope of unpersisted turns
    assert decoded.keyed("26") is None


def test_signed_in_without_or_with_stale_at_gets_xsrf_400(sim: str) -> None:
    for at in (None, "stale:1"):
        response = generate(sim, "hi", at=at)
        assert response.status_code == 400
        assert '"xsrf"' in response.text
    assert "paid-alice" not in response.text


def _er_body(response: httpx.Response) -> list[Any]:
    """A 400 answered like Google's (protocol.md §4, §9.3): the guard, then one ``er`` item with 400."""
    assert response.status_code == 400
    assert response.text.startswith(")]}'\n\n")
    body = json.loads(response.text[len(")]}'\n\n") :])
    assert len(body) == 1 and body[0][0] == "er" and 400 in body[0]
    return list(body[0])


def test_malformed_freq_is_400(sim: str) -> None:
    url = f"{sim}/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate?rt=c"
    for body in ({"f.req": "not json"}, {"f.req": '[null, "{}"]'}, {"f.req": '[null, "[[1]]"]'}, {}):
        response = httpx.post(url, data=body, timeout=5)
        assert "xsrf" not in json.dumps(_er_body(response))  # a shape error, not a token problem
    entries = requests_log(sim)
    assert {e["outcome"] for e in entries} == {"rejected"} and len(entries) == 4


@pytest.mark.parametrize(
    "header", ["x", "[1,null,null,null]", '{"4": "56fdd199312815e2"}', "[1,null,null,null,5]"]
)
def test_malformed_model_header_is_400(sim: str, header: str) -> None:
    token = xsrf_token(sim, "paid-alice")
    response = httpx.post(
        f"{sim}{PATH}?rt=c",
        data={"f.req": freq("hi"), "at": token},
        headers={"x-goog-ext-525001261-jspb": header},
        cookies=cookies("paid-alice"),
        timeout=5,
    )
    assert "xsrf" not in json.dumps(_er_body(response))
    [entry] = requests_log(sim)
    assert (
        entry["outcome"] == "rejected" and entry["http_status"] == 400 and "model header" in entry["reason"]
    )


def test_without_rt_c_the_answer_is_one_json_array(sim: str) -> None:
    response = generate(sim, "hello", chunked=False)
    assert response.status_code == 200
    guard, blank, line, end = response.text.split("\n")  # GA's pre-2026 reader takes line 2
    assert (guard, blank, end) == (")]}'", "", "")
    items = json.loads(line)
    assert [item[0] for item in items] == ["wrb.fr"] * 4 + ["di", "af.httprm"]  # no "e" trailer
    payloads = [json.loads(item[2]) for item in items[:4]]
    [answer] = [p for p in payloads if len(p) > 4 and p[4]]
    assert answer[4][0][8] == [2] and answer[42] == "3.8 Flash"
    assert answer[4][0][1][0].startswith(f"Turn 1 of chat {answer[1][0]}. I received 5 characters")
    assert [sorted(p[2]) for p in payloads if isinstance(p[2], dict)] == [
        ["18", "21", "44"],
        ["28", "44"],
        ["26", "44"],
    ]
    entry = requests_log(sim)[-1]
    assert (entry["framing"], entry["outcome"]) == ("single", "completed")


def test_without_rt_c_an_error_is_one_json_array(sim: str) -> None:
    response = generate(sim, "hello", account="blocked-b", chunked=False)
    guard, _, line, _ = response.text.split("\n")
    items = json.loads(line)
    assert guard == ")]}'" and [item[0] for item in items] == ["wrb.fr", "di", "af.httprm"]
    assert items[0][5][0] == 9 and items[0][5][2][0][1][0] == 1060


def test_unknown_model_id_is_1052(sim: str) -> None:
    assert decode(generate(sim, "hi", model="0000000000000000").content).errors == [(9, 1052)]
