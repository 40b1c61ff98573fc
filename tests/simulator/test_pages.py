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


def test_tokens_by_plan(sim: str) -> None:
    paid = _wiz(_page(sim, "/app?hl=en", "paid-a").text)
    plus = _wiz(_page(sim, "/app", "plus-c").text)
    free = _wiz(_page(sim, "/app", "free-b").text)
    anon = _wiz(_page(sim, "/app", None).text)
    assert paid["SNlM0e"].endswith(":1782560022823") and paid["simTier"] == "paid"
    assert plus["simTier"] == "plus" and "SNlM0e" in plus
    assert free["simTier"] == "free" and "SNlM0e" in free
    assert anon["simTier"] == "anon" and "SNlM0e" not in anon
    for wiz in (paid, plus, free, anon):
        assert wiz["cfb2h"].startswith("boq_") and wiz["TuX5cc"] == "en"
        # The push id is one constant value across independent captures (VID, file 58161595199).
        assert wiz["qKIAYe"] == "feeds/mcudyrk2a4khkz" and wiz["simUi"] == "oct2026"
        assert float(wiz["simRotationInterval"]) == 600


def _config(html: str) -> dict[str, Any]:
    match = re.search(r'id="sim-page-config">(.*?)</script>', html, re.S)
    assert match, "no page configuration"
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def test_page_configuration_names_the_plans_tools_and_models(sim: str) -> None:
    """Tools come from the server's configuration for the plan, never from otAQ7b (G6)."""
    paid = _config(_page(sim, "/app", "paid-a").text)
    free = _config(_page(sim, "/app", "free-b").text)
    anon = _config(_page(sim, "/app", None).text)
    assert [tool["icon"] for tool in paid["tools"]] == [
        "image_create",
        "movie",
        "canvas",
        "deep_research",
        "school",
        "music",
    ]
    assert [tool["code"] for tool in paid["tools"]] == [14, 11, 2, 1, None, 21]
    assert "movie" not in [tool["icon"] for tool in free["tools"]] and anon["tools"] == []
    assert [m["hex"] for m in free["models"]] == ["cf41b0e0dd7d53e5", "fbb127bbb056c959", "9d8ca3786ebdfbea"]
    assert [m["label"] for m in anon["models"]] == ["3.5 Flash-Lite"]
    assert paid["defaultModel"] == "flash" and paid["capacity"] == 2 and free["capacity"] == 1
    assert _config(_page(sim, "/app", "plus-p").text)["capacity"] == 4
    assert paid["thinking"]["control"] == "levels"
    assert [level["code"] for level in paid["thinking"]["levels"]] == [1, 4, 2]


def test_ui_generation_and_rotation_interval_follow_config(sim: str) -> None:
    httpx.post(f"{sim}/_sim/config", json={"ui": "early2026", "rotation_interval": 5}, timeout=5)
    wiz = _wiz(_page(sim, "/app", "paid-a").text)
    assert wiz["simUi"] == "early2026" and float(wiz["simRotationInterval"]) == 5


def test_chat_page_embeds_earlier_turns(sim: str) -> None:
    decoded = decode(generate(sim, "remember <me> & this").content)
    cid = decoded.final[1][0]
    html = _page(sim, f"/app/{cid.removeprefix('c_')}", "paid-alice").text
    chat = _config(html)["chat"]
    assert chat["cid"] == cid and chat["turns"][0]["prompt"] == "remember <me> & this"
    assert chat["turns"][0]["text"] == decoded.text and chat["context_token"] == decoded.keyed("26")
    assert "couldn" not in html
    missing = _page(sim, "/app/0123456789abcdef", "paid-alice").text
    assert "couldn" in missing


def test_a_c_prefixed_chat_url_cannot_be_loaded(sim: str) -> None:
    """Real chat URLs are /app/<16 hex> (A3); /app/c_<hex> is not one, even for a chat that exists."""
    cid = decode(generate(sim, "a real chat").content).final[1][0]
    html = _page(sim, f"/app/{cid}", "paid-alice").text
    assert "This chat couldn" in html and _config(html)["chat"] is None


def test_gem_page_and_storybook_answer(sim: str) -> None:
    assert _page(sim, "/gem/storybook", "paid-a").status_code == 200
    decoded = decode(generate(sim, "a story about a fox", gem="storybook").content)
    assert len(decoded.candidates[-1][12][7][0]) == 2 and "**Page 2.**" in decoded.text


def test_static_files_are_served(sim: str) -> None:
    response = httpx.get(f"{sim}/static/app.js", timeout=5)
    assert response.status_code == 200 and "javascript" in response.headers["content-type"]
