"""The dashboard's side of the live view without a browser (real uvicorn over a scripted pool): the
"Sign in" button only where an account needs a person, the live-view page behind the admin key and
pointing at the account's socket, and "Sign in inside the gateway" saying honestly that this build
cannot create such an account yet (the hook the integrator wires: ``service.admin.live``)."""

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
    with gateway(tmp_path / "d", AdminPool(account_list=[account("acct-ready"), out])) as url:
        assert httpx.get(url + "/admin/ui/accounts/acct-out/live").status_code == 401
        with signed_in(url) as client:
            page = client.get("").text
            live = client.get("/accounts/acct-out/live")
            missing = client.get("/accounts/nobody/live")
            refused = client.post("/accounts/sign-in-inside", data={"name": "fresh"})
    rows = dict(re.findall(r'<tr data-account="([^"]+)">(.*?)</tr>', page, re.S))
    assert 'href="/admin/ui/accounts/acct-out/live">Sign in</a>' in rows["acct-out"]
    assert "Sign in</a>" not in rows["acct-ready"]
    assert live.status_code == 200 and 'data-ws="/admin/accounts/acct-out/live"' in live.text
    assert live.headers["cache-control"] == "no-store"
    assert missing.status_code == 404
    assert refused.status_code == 501 and "not in this build" in refused.text
