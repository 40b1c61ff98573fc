"""batchexecute over HTTP: the envelope (framing, several RPCs, refusals) and each RPC's answer,
checked against the simulator's state (docs/simulator-contract.md "Side RPCs (batchexecute)")."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.simulator.batchexecute_wire import (
    LIST_ALL,
    LIST_PINNED,
    answers,
    batch_form,
    batchexecute,
    image_payload,
    one,
    read_payload,
    rpc_log,
    single_answers,
)
from tests.simulator.wire import PRO, TOOL_VIDEO, cookies, decode, generate, requests_log, split_frames

FLASH_LITE_ANON = "cf41b0e0dd7d53e5"
MAX_HOPS = 4


def _turn(base: str, prompt: str, account: str = "paid-alice", **kwargs: Any) -> tuple[str, str, str]:
    decoded = decode(generate(base, prompt, account=account, **kwargs).content)
    cid, rid = decoded.final[1]
    return cid, rid, decoded.candidates[-1][0]


# --- the envelope ---------------------------------------------------------------------------------


def test_several_rpcs_answer_in_one_chunked_body_in_order(sim: str) -> None:
    calls = [("otAQ7b", []), ("ESY5D", [[["bard_activity_enabled"]]]), ("CNgdBe", [3, ["en"], 0])]
    response = batchexecute(sim, calls, identifier="mine")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    found = answers(response.content)  # split_frames checks lengths, escapes and the trailer
    assert [a.rpc_id for a in found] == ["otAQ7b", "ESY5D", "CNgdBe"]
    assert all(a.identifier == "mine" and a.code is None for a in found)
    frames = [[item[0] for item in frame] for frame in split_frames(response.content)]
    assert frames == [["wrb.fr"], ["wrb.fr"], ["wrb.fr"], ["di", "af.httprm"], ["e"]]


def test_without_rt_c_the_answer_is_one_array(sim: str) -> None:
    response = batchexecute(sim, [("otAQ7b", []), ("ESY5D", [[["x"]]])], chunked=False)
    found = single_answers(response.content)
    assert [a.rpc_id for a in found] == ["otAQ7b", "ESY5D"]
    assert found[0].payload[14] == 1000 and found[1].payload == [[["x", False]]]


def test_the_identifier_defaults_to_generic(sim: str) -> None:
    [answer] = answers(batchexecute(sim, [("otAQ7b", [])], identifier=None).content)
    assert answer.identifier == "generic"


@pytest.mark.parametrize("at", [None, "AD1_stale:1"])
def test_a_missing_or_stale_at_gets_the_xsrf_400(sim: str, at: str | None) -> None:
    response = batchexecute(sim, [("otAQ7b", [])], at=at)
    assert response.status_code == 400
    assert '"xsrf"' in response.text and response.text.startswith(')]}\'\n\n[["er"')
    [entry] = rpc_log(sim)
    assert entry["outcome"] == "rejected" and entry["http_status"] == 400


@pytest.mark.parametrize(
    ("freq", "rpcids"),
    [
        ("not json", "otAQ7b"),
        (json.dumps([["otAQ7b", "[]"]]), "otAQ7b"),  # not a list of calls
        (json.dumps([[["otAQ7b", "{not json", None, "generic"]]]), "otAQ7b"),
        (batch_form([("ESY5D", [])]), "otAQ7b"),  # an id the rpcids query does not name
    ],
)
def test_a_bad_f_req_gets_the_er_400(sim: str, freq: str, rpcids: str) -> None:
    response = batchexecute(sim, [], freq=freq, rpcids=rpcids)
    assert response.status_code == 400
    assert response.text == ")]}'\n\n" + '[["er",null,null,null,null,400,null,null,null,3,null,[]]]\n'


def test_signed_out_visitors_get_code_7_for_every_rpc(sim: str) -> None:
    calls = [("otAQ7b", []), ("MaZiqc", LIST_ALL), ("nosuchid", [])]
    found = answers(batchexecute(sim, calls, account=None).content)
    assert [(a.rpc_id, a.payload, a.code) for a in found] == [
        ("otAQ7b", None, 7),
        ("MaZiqc", None, 7),
        ("nosuchid", None, 7),
    ]
    assert {entry["account"] for entry in rpc_log(sim)} == {"anon"}


def test_an_unknown_rpc_id_gets_the_short_rejection(sim: str) -> None:
    response = batchexecute(sim, [("zZzZzZ", []), ("otAQ7b", [])])
    assert '["wrb.fr","zZzZzZ",null,null,null,[12],"generic"]' in response.text
    found = answers(response.content)
    assert found[0].code == 12 and found[1].code is None


def test_walls_redirect_like_streamgenerate(sim: str) -> None:
    response = batchexecute(sim, [("otAQ7b", [])], account="captcha-c", at=None)
    assert response.status_code == 302
    assert response.headers["location"].startswith("/sorry/index?continue=")


def test_every_call_is_logged_and_the_log_clears(sim: str) -> None:
    batchexecute(sim, [("otAQ7b", []), ("CNgdBe", [3, ["en"], 0])], source_path="/app/abc")
    log = rpc_log(sim)
    assert [(e["rpcid"], e["account"], e["source_path"], e["outcome"]) for e in log] == [
        ("otAQ7b", "paid", "/app/abc", "ok"),
        ("CNgdBe", "paid", "/app/abc", "ok"),
    ]
    assert log[1]["payload"] == [3, ["en"], 0] and log[0]["call"] == log[1]["call"]
    assert len(log[0]["account_id"]) == 16 and "paid-alice" not in json.dumps(log)
    httpx.delete(f"{sim}/_sim/rpcs", timeout=5).raise_for_status()
    assert rpc_log(sim) == []
    batchexecute(sim, [("otAQ7b", [])])
    httpx.post(f"{sim}/_sim/reset", timeout=5).raise_for_status()
    assert rpc_log(sim) == []


# --- otAQ7b and the account kinds ------------------------------------------------------------------

# Written from docs/architecture/evidence.md (OCT labels, M5 free ids, REG mid-2026 labels, APIREF early
# 2026),
# not read from the simulator.
PICKERS = {
    ("oct2026", "paid"): [
        ("8c46e95b1a07cecc", "Flash-Lite", "3.5 Flash-Lite", 6),
        ("56fdd199312815e2", "Flash", "3.8 Flash", 1),
        ("e6fa609c3fa255c0", "Pro", "3.1 Pro", 3),
    ],
    ("oct2026", "free"): [
        ("cf41b0e0dd7d53e5", "Flash-Lite", "3.5 Flash-Lite", 6),
        ("fbb127bbb056c959", "Flash", "3.8 Flash", 1),
        ("9d8ca3786ebdfbea", "Pro", "3.1 Pro", 3),
    ],
    ("mid2026", "paid"): [
        ("8c46e95b1a07cecc", "Flash-Lite", "3.1 Flash-Lite", 6),
        ("56fdd199312815e2", "Flash", "3.5 Flash", 1),
        ("e6fa609c3fa255c0", "Pro", "3.1 Pro", 3),
    ],
    ("mid2026", "free"): [
        ("cf41b0e0dd7d53e5", "Flash-Lite", "3.1 Flash-Lite", 6),
        ("fbb127bbb056c959", "Flash", "3.5 Flash", 1),
        ("9d8ca3786ebdfbea", "Pro", "3.1 Pro", 3),
    ],
    ("early2026", "paid"): [
        ("56fdd199312815e2", "Fast", "Fast", 1),
        ("e051ce1aa80aa576", "Thinking", "Thinking", 2),
        ("e6fa609c3fa255c0", "Pro", "Pro", 3),
    ],
    ("early2026", "free"): [
        ("fbb127bbb056c959", "Fast", "Fast", 1),
        ("5bf011840784117a", "Thinking", "Thinking", 2),
        ("9d8ca3786ebdfbea", "Pro", "Pro", 3),
    ],
}


def _models(body: list[Any]) -> list[tuple[str, str, str, int]]:
    """(hex, short name, versioned label, mode category) read where GAF and RSDK read them."""
    return [(m[0], m[10], m[11], m[17]) for m in body[15]]


@pytest.mark.parametrize("ui", ["oct2026", "mid2026", "early2026"])
@pytest.mark.parametrize(
    ("kind", "status", "tiers", "capabilities", "picker"),
    [
        ("paid", 1000, [8], [19], "paid"),
        ("plus", 1000, [8], [115], "paid"),
        ("free", 1000, [], [], "free"),
        ("limited", 1000, [8], [19], "paid"),
        ("blocked", 1000, [8], [19], "paid"),
        ("terms", 1040, [8], [19], "paid"),
        ("region", 1060, [8], [19], "paid"),
    ],
)
def test_otaq7b_per_account_kind(
    sim: str, ui: str, kind: str, status: int, tiers: list[int], capabilities: list[int], picker: str
) -> None:
    httpx.post(f"{sim}/_sim/config", json={"ui": ui}, timeout=5).raise_for_status()
    body = one(sim, "otAQ7b", [], account=f"{kind}-k").payload
    assert len(body) >= 18
    # AUTO's mock: [1,[false,null,false],false,null,null,null,true,…,false,false,<status>,[models]].
    assert body[1] == [False, None, False] and body[2] is False and body[6] is True
    assert body[12] is False and body[13] is False
    assert body[14] == status and body[16] == tiers and body[17] == capabilities
    assert _models(body) == PICKERS[(ui, picker)]


def test_otaq7b_model_entries_have_the_real_layout(sim: str) -> None:
    """AUTO's item: [hex, short, description, [caps…], 2, null×5, short, label, description, null×4,
    category, [icon url, true]]; nothing names a thinking level or a tool (G4, G6)."""
    body = one(sim, "otAQ7b", []).payload
    for entry in body[15]:
        assert len(entry) == 19
        assert entry[1] == entry[10] and entry[2] == entry[12] and entry[4] == 2
        assert isinstance(entry[3], list) and entry[3] and all(isinstance(i, int) for i in entry[3])
        assert entry[5:10] == [None] * 5 and entry[13:17] == [None] * 4
        icon, flag = entry[18]
        assert icon.startswith("https://") and flag is True
    assert [entry[2] for entry in body[15]] == ["Fastest answers", "All-around help", "Advanced reasoning"]
    assert not any("Thinking" in json.dumps(entry) for entry in body[15])


def test_status_code_null_leaves_14_empty_for_available_accounts(sim: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"status_code_null": True}, timeout=5).raise_for_status()
    assert one(sim, "otAQ7b", []).payload[14] is None
    assert one(sim, "otAQ7b", [], account="terms-t").payload[14] == 1040
    httpx.post(f"{sim}/_sim/reset", timeout=5).raise_for_status()
    assert one(sim, "otAQ7b", []).payload[14] == 1000, "reset restores the setting"


def test_expired_session_looks_signed_in_but_only_the_network_says_so(sim: str) -> None:
    page = httpx.get(f"{sim}/app", cookies=cookies("expired-e"), timeout=10).text
    assert '"SNlM0e":"' in page and "account-avatar" in page
    found = answers(batchexecute(sim, [("otAQ7b", []), ("MaZiqc", LIST_ALL)], account="expired-e").content)
    status, listing = found
    assert status.payload[14] == 1016 and status.payload[15:18] == [[], [], []] and listing.code == 7
    decoded = decode(generate(sim, "hello", account="expired-e", model=PRO).content)
    assert decoded.final[39] == FLASH_LITE_ANON and decoded.final[42] == "3.5 Flash-Lite"
    assert decoded.errors == [(13, 1096)]
    assert requests_log(sim)[-1]["context_token"] is None


@pytest.mark.parametrize(("kind", "code"), [("terms", 1040), ("region", 1060)])
def test_terms_and_region_accounts_get_error_envelopes(sim: str, kind: str, code: int) -> None:
    page = httpx.get(f"{sim}/app", cookies=cookies(f"{kind}-t"), timeout=10).text
    assert '"SNlM0e":"' in page
    decoded = decode(generate(sim, "hi", account=f"{kind}-t").content)
    assert decoded.errors == [(9, code)] and not decoded.payloads


# --- chats -----------------------------------------------------------------------------------------


def test_maziqc_lists_the_accounts_chats_newest_first(sim: str) -> None:
    first = _turn(sim, "Tell me about the history of bicycles in the Netherlands please")
    second = _turn(sim, "Short one")
    _turn(sim, "someone else's chat", account="paid-bob")
    listing = one(sim, "MaZiqc", LIST_ALL).payload
    assert listing[1] is None
    entries = listing[2]
    assert [e[0] for e in entries] == [second[0], first[0]]
    assert [e[1] for e in entries] == ["Short one", "Tell me about the history of"]
    assert entries[0][2] is False and entries[0][6] == [[second[0], second[1]], 1]
    secs, nanos = entries[0][5]
    assert abs(secs + nanos / 1e9 - time.time()) < 60 and entries[0][5] >= entries[1][5]
    # A follow-up moves the older chat to the top.
    _turn(sim, "again", chat=(*first, ""))
    assert [e[0] for e in one(sim, "MaZiqc", LIST_ALL).payload[2]] == [first[0], second[0]]
    assert one(sim, "MaZiqc", LIST_PINNED).payload[2] == []


def test_maziqc_pages_with_a_token(sim: str) -> None:
    cids = [_turn(sim, f"chat number {n}")[0] for n in range(3)]
    page1 = one(sim, "MaZiqc", [2, None, [0, None, 1]]).payload
    assert [e[0] for e in page1[2]] == cids[::-1][:2] and isinstance(page1[1], str)
    page2 = one(sim, "MaZiqc", [2, page1[1], [0, None, 1]]).payload
    assert [e[0] for e in page2[2]] == [cids[0]] and page2[1] is None
    assert one(sim, "MaZiqc", [2, "bogus!", [0, None, 1]]).code == 3


def test_hnvqhb_reads_a_chat_as_history(sim: str) -> None:
    cid, rid1, rcid1 = _turn(sim, "first question")
    _, rid2, rcid2 = _turn(sim, "second question", chat=(cid, rid1, rcid1, ""))
    turns = one(sim, "hNvQHb", read_payload(cid)).payload[0]
    assert [t[0][1] for t in turns] == [rid2, rid1]
    assert [t[2][0][0] for t in turns] == ["second question", "first question"]
    assert turns[0][3][0][0][0] == rcid2 and turns[0][3][0][0][1][0].startswith(f"Turn 2 of chat {cid}.")
    assert turns[1][3][0][0][8] == [2]
    assert len(one(sim, "hNvQHb", read_payload(cid, limit=1)).payload[0]) == 1
    assert one(sim, "hNvQHb", read_payload(cid), account="paid-bob").code == 5
    assert one(sim, "hNvQHb", read_payload("c_0000000000000000")).code == 5


@pytest.mark.parametrize(("rpc_id", "extra"), [("GzXR5e", []), ("qWymEb", [[1, None, 0, 1]])])
def test_delete_removes_the_chat_everywhere(sim: str, rpc_id: str, extra: list[Any]) -> None:
    keep = _turn(sim, "keep me")
    gone = _turn(sim, "delete me")
    assert one(sim, rpc_id, [gone[0], *extra], account="paid-bob").code == 5
    assert one(sim, rpc_id, [gone[0], *extra]).payload == []
    assert [e[0] for e in one(sim, "MaZiqc", LIST_ALL).payload[2]] == [keep[0]]
    page = httpx.get(f"{sim}/app/{gone[0][2:]}", cookies=cookies("paid-alice"), timeout=10).text
    assert "This chat couldn't be loaded" in page
    assert one(sim, "hNvQHb", read_payload(gone[0])).code == 5
    assert one(sim, rpc_id, [gone[0], *extra]).payload == [], "deleting twice still succeeds"
    # The deleted chat cannot be continued: the follow-up starts a new chat.
    again = _turn(sim, "continue?", chat=(*gone, ""))
    assert again[0] != gone[0] and requests_log(sim)[-1]["chat_status"] == "deleted_cid"


# --- the other RPCs --------------------------------------------------------------------------------


def test_cngdbe_lists_the_system_gems_with_storybook(sim: str) -> None:
    gems = one(sim, "CNgdBe", [3, ["en"], 0]).payload[2]
    assert ["storybook", ["Storybook", gems[0][1][1]], gems[0][2]] == gems[0]
    assert all(isinstance(g[2][0], str) for g in gems)
    with_hidden = one(sim, "CNgdBe", [4, ["en"], 0]).payload[2]
    assert len(with_hidden) > len(gems)
    assert one(sim, "CNgdBe", [2, ["en"], 0]).payload[2] == []
    assert one(sim, "CNgdBe", [9, ["en"], 0]).code == 3


def test_c8o8fe_gives_the_original_and_the_hops_lead_to_its_bytes(sim: str) -> None:
    response = generate(sim, "a red bicycle", tool=14)
    decoded = decode(response.content)
    cid, rid = decoded.final[1]
    cand = decoded.candidates[-1]
    entries = cand[12][7][0]
    last = len(entries) - 1
    url = one(sim, "c8o8Fe", image_payload(entries[last][1][0], cid, rid, cand[0])).payload[0]
    preview = entries[last][0][3][3]
    assert url == preview.rpartition("=")[0] and url.startswith(f"{sim}/gg-dl/") and "=" not in url
    jar = cookies("paid-alice")
    original = httpx.get(f"{url}=d-I?alr=yes", cookies=jar, timeout=10)
    assert original.headers["content-type"].startswith("text/plain")
    for _ in range(MAX_HOPS):  # protocol.md §7: text hops, each answering the next URL
        if not original.headers["content-type"].startswith("text/plain"):
            break
        original = httpx.get(original.text.strip(), cookies=jar, timeout=10, follow_redirects=True)
    assert original.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert original.content == httpx.get(f"{url}=s0", cookies=jar, timeout=10).content
    bad = image_payload(
        f"http://googleusercontent.com/image_generation_content/{last + 1}", cid, rid, cand[0]
    )
    assert one(sim, "c8o8Fe", bad).code == 13
    assert one(sim, "c8o8Fe", image_payload(entries[0][1][0], cid, "r_nope", cand[0])).code == 13
    assert (
        one(sim, "c8o8Fe", image_payload(entries[0][1][0], cid, rid, cand[0]), account="paid-bob").code == 13
    )


def test_kwdcne_follows_a_research_from_plan_to_report(sim: str) -> None:
    decoded = decode(generate(sim, "history of the bicycle", tool=1).content)
    cid, rid = decoded.final[1]
    cand = decoded.candidates[-1]
    research_id = cand[-1]["71"]
    awaiting = one(sim, "kwDCne", [research_id]).payload
    # Where GA's extract_deep_research_status_payload reads: [1][3][0] the chat, [1][4] title and query.
    assert awaiting[0] == research_id and awaiting[1][0] == 1 and awaiting[1][3] == [cid, rid]
    assert awaiting[1][4] == ["Research: history of the bicycle", "history of the bicycle"]
    assert "deep_research_confirmation_content" in json.dumps(awaiting)
    assert "immersive_entry_chip" not in json.dumps(awaiting)
    generate(sim, "Start research", tool=1, chat=(cid, rid, cand[0], ""))
    done = one(sim, "kwDCne", [research_id]).payload
    assert done[1][0] == 3 and "immersive_entry_chip" in json.dumps(done)
    assert one(sim, "kwDCne", [research_id], account="paid-bob").code == 5


def test_jsf9qc_counts_turns_with_the_quota_frames_reset(sim: str) -> None:
    fresh = one(sim, "jSf9Qc", []).payload
    assert fresh[0] == 2 and [w[0] for w in fresh[1]] == [0, 0] and fresh[2] is False
    decoded = decode(generate(sim, "one").content)
    generate(sim, "two")
    body = one(sim, "jSf9Qc", []).payload
    five, weekly = body[1]
    assert (five[0], five[1], five[2]) == (2, 15, 2) and (weekly[0], weekly[2]) == (2, 1)
    quota_reset = decoded.keyed("28")[0][0][3]
    assert five[3] == [quota_reset], "the 5-hour reset is the one the quota frame carried"
    assert weekly[3][0][0] - five[3][0][0] == 7 * 86400 - 5 * 3600


def test_jsf9qc_shows_limited_accounts_and_usage_limits_exhausted(sim: str) -> None:
    limited = one(sim, "jSf9Qc", [], account="limited-l").payload
    assert limited[1][0][:2] == [15, 15] and limited[2] is True
    httpx.post(
        f"{sim}/_sim/behaviours",
        json={"account": "paid-alice", "behaviours": [{"kind": "usage_limit", "reset_seconds": 900}]},
        timeout=5,
    ).raise_for_status()
    decoded = decode(generate(sim, "too much").content)
    assert decoded.errors == [(8, 1037)]
    exhausted_reset = decoded.keyed("28")[0][0][3][0]
    body = one(sim, "jSf9Qc", []).payload
    assert body[1][0][:2] == [15, 15] and body[2] is True
    assert abs(body[1][0][3][0][0] - exhausted_reset) <= 1


def test_esy5d_answers_the_settings_asked(sim: str) -> None:
    body = one(sim, "ESY5D", [[["bard_activity_enabled"], ["no_such_setting"]]]).payload
    assert body == [[["bard_activity_enabled", True], ["no_such_setting", False]]]
    assert one(sim, "ESY5D", []).code == 3


def test_muazcd_reports_the_video_turn_until_ready(sim: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"video_render_seconds": 3600}, timeout=5).raise_for_status()
    decoded = decode(generate(sim, "a cat video", tool=TOOL_VIDEO).content)
    cid, rid = decoded.final[1]
    payload = [None, [["unread_metadata"]], [cid, None, None, None, None, None, [[cid, rid], 0]]]
    rendering = one(sim, "MUAZcd", payload).payload
    video_url = requests_log(sim)[-1]["video"]
    assert rendering[0] == [cid, rid] and rendering[1][0][1] == video_url and rendering[1][1] == 1
    httpx.post(f"{sim}/_sim/config", json={"video_render_seconds": 0}, timeout=5).raise_for_status()
    assert one(sim, "MUAZcd", payload).payload[1][1] == 2
    text_turn = _turn(sim, "no video here")
    other = [
        None,
        [["unread_metadata"]],
        [text_turn[0], None, None, None, None, None, [list(text_turn[:2]), 0]],
    ]
    assert one(sim, "MUAZcd", other).code == 5
