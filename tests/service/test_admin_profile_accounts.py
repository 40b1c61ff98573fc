"""The admin API's profile accounts: ``signin_method`` signed_in_inside or profile_import with a name
and no cookies (the session lives in the account's Chromium profile); kept for the next start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from browser import SigninMethod
from tests.service.admin_pool import AdminPool
from tests.service.test_admin_accounts import PSID, admin, gateway


@pytest.mark.parametrize("method", ["signed_in_inside", "profile_import"])
def test_a_profile_account_is_added_by_name_and_comes_back_after_a_restart(
    tmp_path: Path, method: str
) -> None:
    data = tmp_path / "data"
    pool = AdminPool(account_list=[])
    with gateway(data, pool) as url, admin(url) as client:
        added = client.post("/accounts", json={"name": "desk", "signin_method": method})
        assert added.status_code == 201, added.text
        assert added.json()["signin_method"] == method
        again = client.post("/accounts", json={"name": "desk", "signin_method": method})
        assert again.status_code == 409, again.text
    assert [(spec.name, spec.signin_method.value, spec.parse_cookies()) for spec in pool.added] == [
        ("desk", method, [])
    ]
    restarted = AdminPool(account_list=[])
    with gateway(data, restarted) as url, admin(url) as client:
        listed = client.get("/accounts").json()["data"]
    assert [(a["id"], a["signin_method"]) for a in listed] == [("desk", method)]
    assert restarted.added[0].signin_method is SigninMethod(method)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"signin_method": "signed_in_inside"}, "needs a name"),
        ({"name": "desk", "signin_method": "signed_in_inside", "psid": PSID}, "takes no cookies"),
        (
            {"name": "desk", "signin_method": "profile_import", "cookie_string": f"__Secure-1PSID={PSID}"},
            "no cookies",
        ),
        ({"name": "desk", "signin_method": "cookie_import"}, "exactly one of"),
        ({"name": "desk", "signin_method": "by_magic"}, "signin_method"),
    ],
)
def test_a_profile_account_takes_a_name_and_no_cookies(
    tmp_path: Path, body: dict[str, Any], says: str
) -> None:
    pool = AdminPool(account_list=[])
    with gateway(tmp_path / "data", pool) as url, admin(url) as client:
        response = client.post("/accounts", json=body)
    assert response.status_code == 400 and says in response.text, response.text
    assert PSID not in response.text and pool.added == []


def test_the_remote_mode_refuses_a_profile_account(tmp_path: Path) -> None:
    pool = AdminPool(account_list=[])
    remote = {"launch_mode": "remote", "remote_endpoint": "ws://127.0.0.1:9/never"}
    with gateway(tmp_path / "data", pool, browser=remote) as url, admin(url) as client:
        response = client.post("/accounts", json={"name": "desk", "signin_method": "signed_in_inside"})
    assert response.status_code == 400 and "launch_mode=remote" in response.text, response.text
    assert pool.added == []
