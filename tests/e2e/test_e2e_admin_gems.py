"""Re-listing an account's Gems on the real stack (simulator + BrowserPool on Chromium, the pool's own
listing every 15 minutes): a Gem made on the account shows in the admin API's account view only
after ``POST /admin/accounts/{id}/gems``, with its ``gem-<slug>`` model and the app's alias, and the
alias is answered on the Gem's page; on the dashboard in Chromium, the account's row lists its Gems
and its **List Gems** button re-lists them (docs/operations/admin-api.md, dashboard.md, guides/gems.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import expect
from pydantic import SecretStr

from tests.conftest import NewContext
from tests.e2e.conftest import KEY_A, WAIT, Stack, marker, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

ADMIN_KEY = "adm-e2e-gems-0123456789"
ANSWERED_AS = "Answering as the Gem \u201cPirate Captain\u201d"


@pytest.fixture(scope="module")
def gems_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One paid account, an admin key, an alias; the pool lists Gems by itself every 15 minutes only."""
    with running_stack(
        tmp_path_factory.mktemp("e2e-admin-gems"),
        ("paid",),
        admin_keys=(SecretStr(ADMIN_KEY),),
        gems={"aliases": {"captain": "Pirate Captain"}},
    ) as running:
        yield running


def _admin(stack: Stack) -> httpx.Client:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    return httpx.Client(base_url=stack.url + "/admin", headers=headers, timeout=90)


def _make_gem(stack: Stack, name: str) -> str:
    gem = {"name": name, "description": "Made for a test.", "prompt": f"You are {name}."}
    made = httpx.post(f"{stack.sim_url}/_sim/gems", json={"account": "paid", "gems": [gem]}, timeout=10)
    made.raise_for_status()
    gem_id: str = next(entry["id"] for entry in made.json()["gems"] if entry["name"] == name)
    return gem_id


def _named(gems: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [gem for gem in gems if gem["name"] == name]


def test_a_gem_made_since_the_listing_shows_after_a_refresh_and_its_alias_serves(gems_stack: Stack) -> None:
    with _admin(gems_stack) as admin:
        gems_stack.wait_for(lambda: admin.get("/accounts/e2e-paid").json()["state"] == "ready", "the account")
        assert _named(admin.get("/accounts/e2e-paid").json()["gems"], "Pirate Captain") == []
        gem_id = _make_gem(gems_stack, "Pirate Captain")
        # Not listed again by itself for 15 minutes: still absent until asked.
        assert _named(admin.get("/accounts/e2e-paid").json()["gems"], "Pirate Captain") == []
        refreshed = admin.post("/accounts/e2e-paid/gems")
        assert refreshed.status_code == 200
        assert _named(refreshed.json()["gems"], "Pirate Captain") == [
            {
                "id": gem_id,
                "name": "Pirate Captain",
                "premade": False,
                "model": "gem-pirate-captain",
                "aliases": ["captain"],
            }
        ]
    word = marker()
    body = {"model": "captain", "messages": [{"role": "user", "content": f"ahoy {word}"}]}
    answer = httpx.post(
        gems_stack.url + "/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {KEY_A}"},
        timeout=90,
    )
    assert answer.status_code == 200 and answer.json()["model"] == "captain"
    assert ANSWERED_AS in answer.json()["choices"][0]["message"]["content"]
    assert [entry["gem"] for entry in gems_stack.requests_with(word)] == [gem_id]


async def test_the_dashboard_row_lists_the_gems_and_its_button_lists_them_again(
    gems_stack: Stack, new_context: NewContext
) -> None:
    context = await new_context()
    page = await context.new_page()
    await page.goto(gems_stack.url + "/admin/ui")
    await page.fill("input[name=key]", ADMIN_KEY)
    await page.click("button[type=submit]")
    row = page.locator("tr[data-account=e2e-paid]")
    await expect(row).to_contain_text("ready", timeout=WAIT * 1000)
    gem_id = _make_gem(gems_stack, "Sea Poet")
    await page.reload()
    gems = row.get_by_role("list", name="Gems of e2e-paid")
    await expect(gems).to_be_visible()
    await expect(gems).not_to_contain_text("Sea Poet")  # made after the last listing
    await row.get_by_role("button", name="List Gems").click()
    poet = page.locator(f"tr[data-account=e2e-paid] li[data-gem='{gem_id}']")
    await expect(poet).to_have_text("Sea Poet gem-sea-poet", timeout=WAIT * 1000)
