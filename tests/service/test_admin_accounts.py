"""The admin API for accounts, on a real uvicorn gateway over a scripted pool: its own key, every
way of giving cookies, duplicates, malformed cookies, pause/resume/check/remove, persistence
across a restart (0600), and no cookie value in any answer or log line."""

from __future__ import annotations

import json
import logging
import stat
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.app import create_app
from service.pool_adapter import BrowserBackend
from service.settings import GatewaySettings
from tests.service.admin_pool import AdminPool
from tests.service.conftest import API_KEY
from tests.support.servers import serve

ADMIN_KEY = "adm-test-key-9876543210"
PSID = "paid-secret-psid-value-4242"
PSIDTS = "sidts-secret-value-777"


@contextmanager
def gateway(data_dir: Path, pool: AdminPool, **overrides: Any) -> Iterator[str]:
    settings = GatewaySettings(data_dir=data_dir, api_keys=[API_KEY], admin_keys=[ADMIN_KEY], **overrides)  # type: ignore[arg-type]

    @asynccontextmanager
    async def factory(_settings: GatewaySettings) -> Any:
        yield BrowserBackend(pool)

    with serve(create_app(settings, pool_factory=factory)) as url:
        yield url


def admin(url: str, key: str | None = ADMIN_KEY) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=url + "/admin", headers=headers, timeout=15)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, AdminPool]]:
    pool = AdminPool(account_list=[])
    with gateway(tmp_path / "data", pool) as url:
        yield url, pool


@pytest.mark.parametrize("key", [None, "wrong-admin-key", API_KEY])
def test_admin_routes_need_the_admin_key(served: tuple[str, AdminPool], key: str | None) -> None:
    url, _ = served
    with admin(url, key) as client:
        for method, path in (("GET", "/accounts"), ("POST", "/accounts"), ("GET", "/keys")):
            response = client.request(method, path, json={"psid": PSID})
            assert response.status_code == 401, (method, path)
            assert response.json()["error"]["type"] == "authentication_error"


def test_the_admin_key_is_not_an_api_key(served: tuple[str, AdminPool]) -> None:
    url, _ = served
    response = httpx.get(url + "/v1/models", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert response.status_code == 401


def test_admin_api_is_off_without_an_admin_key(tmp_path: Path) -> None:
    pool = AdminPool(account_list=[])
    settings = GatewaySettings(data_dir=tmp_path / "d", api_keys=[API_KEY])  # type: ignore[arg-type]

    @asynccontextmanager
    async def factory(_settings: GatewaySettings) -> Any:
        yield BrowserBackend(pool)

    with serve(create_app(settings, pool_factory=factory)) as url, admin(url, API_KEY) as client:
        response = client.get("/accounts")
    assert response.status_code == 401
    assert "GATEWAY_ADMIN_KEYS" in response.json()["error"]["message"]


NETSCAPE = f".google.com\tTRUE\t/\tTRUE\t1999999999\t__Secure-1PSID\t{PSID}\n"
JSON_EXPORT = json.dumps([{"name": "__Secure-1PSID", "value": PSID, "domain": ".google.com"}])


@pytest.mark.parametrize(
    "body",
    [
        {"psid": PSID},
        {"psid": PSID, "psidts": PSIDTS},
        {"cookie_string": f"SID=abc; __Secure-1PSID={PSID}; __Secure-1PSIDTS={PSIDTS}"},
        {"cookie_file": JSON_EXPORT},
        {"cookie_file": NETSCAPE},
    ],
    ids=["psid", "pair", "cookie-string", "json-file", "netscape-file"],
)
def test_add_an_account_every_way(
    served: tuple[str, AdminPool], body: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    url, pool = served
    caplog.set_level(logging.DEBUG)
    with admin(url) as client:
        added = client.post("/accounts", json={"name": "alice", **body})
        listed = client.get("/accounts")
    assert added.status_code == 201, added.text
    assert added.json()["id"] == "alice" and added.json()["source"] == "added"
    assert [a["id"] for a in listed.json()["data"]] == ["alice"]
    # Live at once: the pool got the very cookies.
    cookies = {c.name: c.value for c in pool.added[-1].parse_cookies()}
    assert cookies["__Secure-1PSID"] == PSID
    if "psidts" in body or "cookie_string" in body:
        assert cookies["__Secure-1PSIDTS"] == PSIDTS
    for text in (added.text, listed.text, caplog.text):
        assert PSID not in text and PSIDTS not in text


@pytest.mark.parametrize(
    "body",
    [
        {"psid": ""},
        {"cookie_string": "no pairs here"},
        {"cookie_string": f"SID={PSID}"},
        {"cookie_file": '[{"name": "SID", "value": "' + PSID + '"}]'},
        {"cookie_file": "{not json " + PSID},
        {"psid": PSID, "cookie_string": f"__Secure-1PSID={PSID}"},
        {"psidts": PSIDTS},
        {"psid": PSID, "unknown_field": 1},
    ],
)
def test_a_malformed_cookie_is_400_without_its_value(
    served: tuple[str, AdminPool], body: dict[str, Any]
) -> None:
    url, pool = served
    with admin(url) as client:
        response = client.post("/accounts", json=body)
    assert response.status_code == 400, response.text
    assert PSID not in response.text and PSIDTS not in response.text
    assert pool.added == []


def test_a_duplicate_account_is_409(served: tuple[str, AdminPool]) -> None:
    url, pool = served
    with admin(url) as client:
        assert client.post("/accounts", json={"psid": PSID}).status_code == 201
        same_session = client.post("/accounts", json={"name": "again", "psid": PSID})
        unnamed_again = client.post("/accounts", json={"cookie_string": f"__Secure-1PSID={PSID}"})
        assert client.post("/accounts", json={"name": "bob", "psid": "paid-other"}).status_code == 201
        same_name = client.post("/accounts", json={"name": "bob", "psid": "paid-third"})
    assert same_session.status_code == unnamed_again.status_code == same_name.status_code == 409
    assert same_name.json()["error"]["code"] == "conflict"
    assert len(pool.added) == 2


def test_check_pause_resume_remove_and_screenshot(served: tuple[str, AdminPool]) -> None:
    url, pool = served
    with admin(url) as client:
        client.post("/accounts", json={"name": "carol", "psid": PSID}).raise_for_status()
        assert client.post("/accounts/carol/pause").json()["paused"] is True
        assert client.get("/accounts/carol").json()["paused"] is True
        assert client.post("/accounts/carol/resume").json()["paused"] is False
        assert client.post("/accounts/carol/check").status_code == 200
        shot = client.get("/accounts/carol/screenshot")
        assert shot.headers["content-type"] == "image/png" and shot.content.startswith(b"\x89PNG")
        assert client.delete("/accounts/carol").json() == {"id": "carol", "removed": True}
        for method, path in (
            ("GET", "/accounts/carol"),
            ("POST", "/accounts/carol/pause"),
            ("POST", "/accounts/carol/check"),
            ("DELETE", "/accounts/carol"),
        ):
            assert client.request(method, path).status_code == 404, (method, path)
    assert pool.checked == ["carol"]
    assert pool.removed == [("carol", True)]  # its stored cookies are forgotten too


def test_the_official_prefix_serves_the_same_api(served: tuple[str, AdminPool]) -> None:
    url, _ = served
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    response = httpx.post(url + "/gemini_official/admin/accounts", json={"psid": PSID}, headers=headers)
    assert response.status_code == 201
    listed = httpx.get(url + "/gemini_official/admin/accounts", headers=headers)
    assert [a["id"] for a in listed.json()["data"]] == [response.json()["id"]]


def test_added_accounts_come_back_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with gateway(data, AdminPool(account_list=[])) as url, admin(url) as client:
        client.post("/accounts", json={"name": "dave", "psid": PSID, "psidts": PSIDTS}).raise_for_status()
        client.post("/accounts", json={"name": "erin", "psid": "paid-erin"}).raise_for_status()
        client.delete("/accounts/erin").raise_for_status()
    registry = data / "added_accounts.sqlite3"
    assert stat.S_IMODE(registry.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700

    restarted = AdminPool(account_list=[])
    with gateway(data, restarted) as url, admin(url) as client:
        listed = client.get("/accounts").json()["data"]
    assert [(a["id"], a["source"]) for a in listed] == [("dave", "added")]
    cookies = {c.name: c.value for c in restarted.added[0].parse_cookies()}
    assert cookies == {"__Secure-1PSID": PSID, "__Secure-1PSIDTS": PSIDTS}
