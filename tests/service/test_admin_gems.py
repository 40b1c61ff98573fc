"""Each account's Gems in the admin API's account view and on the dashboard's account rows (name,
``gem-<slug>`` model, the app's aliases), and re-listing them on demand through the backend's
``refresh_gems`` (docs/operations/admin-api.md, dashboard.md; real uvicorn over a scripted pool)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from browser import Gem
from tests.service.admin_pool import AdminPool
from tests.service.conftest import API_KEY
from tests.service.scripted_pool import account
from tests.service.test_admin_accounts import admin, gateway
from tests.service.test_dashboard import signed_in

PIRATE = Gem("aa11", "Pirate Captain", "Arr.", "Talk like a pirate.", premade=False)
POET = Gem("dd44", "Poet", "Verse.", "Answer in verse.", premade=False)
STORYBOOK = Gem("storybook", "Storybook", "Stories.", "You write stories.", premade=True)
BRAINSTORMER = Gem("brainstormer", "Brainstormer", "Ideas.", "You brainstorm.", premade=True)
ALIASES = {"gems": {"aliases": {"captain": "Pirate Captain", "tales": "storybook", "gemini-2.5-pro": "Poet"}}}


def _pool() -> AdminPool:
    owner = replace(account("owner"), gems=(PIRATE, STORYBOOK, BRAINSTORMER))
    return AdminPool(account_list=[owner, account("plain")])


def test_the_account_view_lists_each_accounts_gems_with_model_and_aliases(tmp_path: Path) -> None:
    pool = _pool()
    pool.account_list[0] = replace(pool.account_list[0], gems=(PIRATE, POET, STORYBOOK, BRAINSTORMER))
    with gateway(tmp_path / "d", pool, **ALIASES) as url, admin(url) as client:
        listed = {entry["id"]: entry for entry in client.get("/accounts").json()["data"]}
        one = client.get("/accounts/owner").json()
    assert listed["plain"]["gems"] == []
    # Premade Gems only when an alias names them; an alias that is a catalog model's name never is.
    assert (
        one["gems"]
        == listed["owner"]["gems"]
        == [
            {
                "id": "aa11",
                "name": "Pirate Captain",
                "premade": False,
                "model": "gem-pirate-captain",
                "aliases": ["captain"],
            },
            {"id": "dd44", "name": "Poet", "premade": False, "model": "gem-poet", "aliases": []},
            {"id": "storybook", "name": "Storybook", "premade": True, "model": None, "aliases": ["tales"]},
        ]
    )


def test_a_gem_made_since_the_last_listing_shows_after_a_refresh(tmp_path: Path) -> None:
    pool = _pool()
    with gateway(tmp_path / "d", pool) as url, admin(url) as client:
        pool.gems_on_page["owner"] = (PIRATE, POET)  # made on gemini.google.com, not listed yet
        before = client.get("/accounts/owner").json()["gems"]
        assert [gem["model"] for gem in before] == ["gem-pirate-captain"]
        refreshed = client.post("/accounts/owner/gems")
        assert refreshed.status_code == 200
        assert [gem["model"] for gem in refreshed.json()["gems"]] == ["gem-pirate-captain", "gem-poet"]
        assert pool.checked == []  # re-listed only: the page was not reloaded
        models = client.get(url + "/v1/models", headers={"Authorization": f"Bearer {API_KEY}"})
        assert "gem-poet" in {card["id"] for card in models.json()["data"]}
        missing = client.post("/accounts/nobody/gems")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "invalid_request_error"
        assert (
            client.post("/accounts/owner/gems", headers={"Authorization": "Bearer wrong"}).status_code == 401
        )


def test_the_dashboard_rows_show_the_gems_and_list_them_again(tmp_path: Path) -> None:
    pool = _pool()
    with gateway(tmp_path / "d", pool, **ALIASES) as url, signed_in(url) as client:
        page = client.get("").text
        pool.gems_on_page["owner"] = (PIRATE, POET, STORYBOOK)
        after = client.post("/accounts/owner/gems", follow_redirects=True).text
    owner = _gems_of(page, "owner")
    pirate = '<b>Pirate Captain</b> <code>gem-pirate-captain</code> <code class="alias">captain</code>'
    assert f'<li data-gem="aa11">{pirate}</li>' in owner
    assert '<li data-gem="storybook"><b>Storybook</b> <code class="alias">tales</code></li>' in owner
    assert "brainstormer" not in owner and "dd44" not in owner
    assert "no Gems" in _gems_of(page, "plain")
    assert '<li data-gem="dd44"><b>Poet</b> <code>gem-poet</code></li>' in _gems_of(after, "owner")
    assert "brainstormer" not in _gems_of(after, "owner")  # gone from the page's listing


def _gems_of(page: str, account_id: str) -> str:
    found = re.search(rf'<ul class="gems" aria-label="Gems of {account_id}">(.*?)</ul>', page, re.S)
    assert found is not None, f"no Gems list for {account_id}"
    return found.group(1)
