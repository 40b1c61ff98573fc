"""The app pages: tokens by account tier, earlier turns for /app/<cid>, gems, static files."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from tests.simulator.wire import cookies, decode, generate


def _wiz(html: str) -> dict[str, Any]:
    match = re.search(r'<script data-id="_gd">window.WIZ_global_data = (\{.*?\});</script>', html)
    assert match, "no WIZ_global_data"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _page(sim: str, path: str, account: str | None) -> httpx.Response:
    return httpx.get(f"{sim}{path}", cookies=cookies(account), timeout=10)


def test_tokens_by_tier(sim: str) -> None:
    paid = _wiz(_page(sim, "/app?hl=en", "paid-a").text)
    free = _wiz(_page(sim, "/app", "free-b").text)
    anon = _wiz(_page(sim, "/app", None).text)
    assert paid["SNlM0e"].endswith(":1782560022823") and paid["simTier"] == "paid"
    assert free["simTier"] == "free" and "SNlM0e" in free
    assert anon["simTier"] == "anon" and "SNlM0e" not in anon
    for wiz in (paid, free, anon):
        assert wiz["cfb2h"].startswith("boq_") and wiz["TuX5cc"] == "en"
        assert wiz["qKIAYe"] == "feeds/mcudyrk2a4khkz" and wiz["simUi"] == "mid2026"
        assert float(wiz["simRotationInterval"]) == 600


def test_ui_generation_and_rotation_interval_follow_config(sim: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"ui": "early2026", "rotation_interval": 5}, timeout=5)
    wiz = _wiz(_page(sim, "/app", "paid-a").text)
    assert wiz["simUi"] == "early2026" and float(wiz["simRotationInterval"]) == 5


def test_chat_page_embeds_earlier_turns(sim: str) -> None:
    decoded = decode(generate(sim, "remember <me> & this").content)
    cid = decoded.final[1][0]
    html = _page(sim, f"/app/{cid.removeprefix('c_')}", "paid-alice").text
    config = json.loads(re.search(r'id="sim-page-config">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    chat = config["chat"]
    assert chat["cid"] == cid and chat["turns"][0]["prompt"] == "remember <me> & this"
    assert chat["turns"][0]["text"] == decoded.text and chat["context_token"] == decoded.keyed("26")
    missing = _page(sim, "/app/0123456789abcdef", "paid-alice").text
    assert "couldn" in missing


def test_gem_page_and_storybook_answer(sim: str) -> None:
    assert _page(sim, "/gem/storybook", "paid-a").status_code == 200
    decoded = decode(generate(sim, "a story about a fox", gem="storybook").content)
    assert len(decoded.candidates[-1][12][7][0]) == 2 and "**Page 2.**" in decoded.text


def test_static_files_are_served(sim: str) -> None:
    response = httpx.get(f"{sim}/static/app.js", timeout=5)
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
