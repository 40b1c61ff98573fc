"""Re-listing an account's Gems from the admin API on the real stack (simulator + BrowserPool on
Chromium, the pool's own listing every 15 minutes): a Gem made on the account shows in the account
view only after ``POST /admin/accounts/{id}/gems``, with its ``gem-<slug>`` model and the app's
alias, and the alias is answered on the Gem's page (docs/operations/admin-api.md, docs/guides/gems.md)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from tests.e2e.conftest import KEY_A, marker, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

ADMIN_KEY = "adm-e2e-gems-0123456789"
ANSWERED_AS = "Answering as the Gem \u201cPirate Captain\u201d"


def test_a_gem_made_since_the_listing_shows_after_a_refresh_and_its_alias_serves(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with running_stack(
        tmp_path_factory.mktemp("e2e-admin-gems"),
        ("paid",),
        admin_keys=(SecretStr(ADMIN_KEY),),
        gems={"aliases": {"captain": "Pirate Captain"}},
    ) as stack:
        admin = httpx.Client(
            base_url=stack.url + "/admin", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=90
        )
        with admin:
            stack.wait_for(lambda: admin.get("/accounts/e2e-paid").json()["state"] == "ready", "the account")
            assert admin.get("/accounts/e2e-paid").json()["gems"] == []
            gem = {"name": "Pirate Captain", "description": "Arr.", "prompt": "Talk like a pirate."}
            made = httpx.post(
                f"{stack.sim_url}/_sim/gems", json={"account": "paid", "gems": [gem]}, timeout=10
            )
            gem_id = made.json()["gems"][0]["id"]
            # Not listed again by itself for 15 minutes: still absent until asked.
            assert admin.get("/accounts/e2e-paid").json()["gems"] == []
            refreshed = admin.post("/accounts/e2e-paid/gems")
            assert refreshed.status_code == 200
            assert refreshed.json()["gems"] == [
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
            stack.url + "/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {KEY_A}"},
            timeout=90,
        )
        assert answer.status_code == 200 and answer.json()["model"] == "captain"
        assert ANSWERED_AS in answer.json()["choices"][0]["message"]["content"]
        assert [entry["gem"] for entry in stack.requests_with(word)] == [gem_id]
