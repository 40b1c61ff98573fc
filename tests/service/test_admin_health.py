"""``/healthz`` and ``/readyz``: no key needed; ready means an account can take a turn now."""

from __future__ import annotations

from pathlib import Path

import httpx

from browser import AccountState
from tests.service.admin_pool import AdminPool
from tests.service.scripted_pool import account
from tests.service.test_admin_accounts import admin, gateway


def test_healthz_answers_without_a_key(tmp_path: Path) -> None:
    with gateway(tmp_path / "d", AdminPool(account_list=[])) as url:
        response = httpx.get(url + "/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_with_a_ready_account(tmp_path: Path) -> None:
    pool = AdminPool(account_list=[account("a"), account("b", state=AccountState.SIGNED_OUT)])
    with gateway(tmp_path / "d", pool) as url:
        response = httpx.get(url + "/readyz")
    assert response.status_code == 200
    assert response.json()["ready"] == 1
    assert response.json()["accounts"] == {"ready": 1, "signed_out": 1}


def test_readyz_is_503_naming_why(tmp_path: Path) -> None:
    pool = AdminPool(account_list=[])
    with gateway(tmp_path / "d", pool) as url:
        empty = httpx.get(url + "/readyz")
        pool.account_list = [
            account("a", state=AccountState.SIGNED_OUT),
            account("b", state=AccountState.BLOCKED),
        ]
        out = httpx.get(url + "/readyz")
        pool.account_list = [account("c")]
        with admin(url) as client:
            client.post("/accounts/c/pause").raise_for_status()
        paused = httpx.get(url + "/readyz")
    assert empty.status_code == out.status_code == paused.status_code == 503
    assert "no account in the pool" in empty.json()["reason"]
    assert out.json()["reason"] == "no account ready: 1 blocked, 1 signed_out"
    assert paused.json()["reason"] == "no account ready: 1 paused"
