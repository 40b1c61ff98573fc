"""The dashboard's side of the live view without a browser (real uvicorn over a scripted pool): the
"Sign in" button only where an account needs a person, the live-view page behind the admin key and
pointing at the account's socket, and "Sign in inside the gateway" creating a new profile account
(signed_in_inside, no cookies) and sending the operator to its live view."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import httpx

from browser import AccountState
from tests.service.admin_pool import AdminPool
from tests.service.scripted_pool import account
from tests.service.test_admin_accounts import gateway
from tests.service.test_dashboard import signed_in


def test_sign_in_button_live_page_and_the_new_account_hook(tmp_path: Path) -> None:
    out = replace(account("acct-out"), state=AccountState.SIGNED_OUT)
    # Ready by its state but walled by "Verify it's you": a person must sign in again.
    verify = replace(account("acct-verify"), needs_person="verify")
    with gateway(tmp_path / "d", AdminPool(account_list=[account("acct-ready"), out, verify])) as url:
        assert httpx.get(url + "/admin/ui/accounts/acct-out/live").status_code == 401
        with signed_in(url) as client:
            page = client.get("").text
            live = client.get("/accounts/acct-out/live")
            missing = client.get("/accounts/nobody/live")
            created = client.post("/accounts/sign-in-inside", data={"name": "fresh"})
            unnamed = client.post("/accounts/sign-in-inside", data={"name": ""})
            accounts = client.get(url + "/admin/accounts").json()
    rows = dict(re.findall(r'<tr data-account="([^"]+)">(.*?)</tr>', page, re.S))
    assert 'href="/admin/ui/accounts/acct-out/live">Sign in</a>' in rows["acct-out"]
    assert "Sign in</a>" not in rows["acct-ready"]
    assert 'href="/admin/ui/accounts/acct-verify/live">Sign in</a>' in rows["acct-verify"]
    assert live.status_code == 200 and 'data-ws="/admin/accounts/acct-out/live"' in live.text
    assert live.headers["cache-control"] == "no-store"
    assert missing.status_code == 404
    assert created.status_code == 303
    assert created.headers["location"] == "/admin/ui/accounts/fresh/live"
    assert unnamed.status_code == 400 and "needs a name" in unnamed.text
    fresh = next(item for item in accounts["data"] if item["id"] == "fresh")
    assert fresh["signin_method"] == "signed_in_inside"
