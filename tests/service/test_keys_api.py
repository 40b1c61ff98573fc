"""API keys created and revoked through the admin API: hashed in SQLite (0600) or Redis (the
``served`` tests run on both backends), each with a name, an expiry, limits (429 with Retry-After)
and an account group; they survive a restart."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from service.keys import KeyStore
from service.stores.config import StateBackend
from tests.service.admin_pool import AdminPool
from tests.service.scripted_pool import Pause, Script, account, growing
from tests.service.test_admin_accounts import ADMIN_KEY, admin, gateway
from tests.support.state_backends import SharedState, everything_in

MODEL = "gemini-2.5-flash"


def wait_until(predicate: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def chat(url: str, key: str, text: str = "hi", **extra: object) -> httpx.Response:
    body = {"model": MODEL, "messages": [{"role": "user", "content": text}], **extra}
    return httpx.post(
        url + "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=15
    )


@pytest.fixture
def served(tmp_path: Path, state_backend: SharedState) -> Iterator[tuple[str, AdminPool]]:
    """A gateway on each state backend (``state.backend``: SQLite files, or a real Redis)."""
    pool = AdminPool(account_list=[account("acct-1"), account("acct-2")])
    with gateway(tmp_path / "data", pool, state=state_backend.settings, media=state_backend.media) as url:
        yield url, pool


def test_a_created_key_works_until_revoked(
    served: tuple[str, AdminPool], tmp_path: Path, state_backend: SharedState
) -> None:
    url, _ = served
    with admin(url) as client:
        created = client.post("/keys", json={"name": "team-a"})
        assert created.status_code == 201
        key = created.json()["key"]
        assert chat(url, key).status_code == 200
        listed = client.get("/keys").json()["data"]
        assert [(k["name"], k["state"], k["requests"]) for k in listed] == [("team-a", "live", 1)]
        assert key not in client.get("/keys").text and listed[0]["shown"].startswith(key[:7])
        revoked = client.delete(f"/keys/{created.json()['id']}")
        assert revoked.json()["state"] == "revoked"
        refused = chat(url, key)
        assert refused.status_code == 401
        assert client.delete("/keys/key_nope").status_code == 404
    if state_backend.kind is StateBackend.REDIS:
        assert created.json()["id"] in everything_in(state_backend.raw())
        assert key not in everything_in(state_backend.raw())
        return
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").glob("keys.sqlite3*"))
    assert key.encode() not in stored
    assert stat.S_IMODE((tmp_path / "data" / "keys.sqlite3").stat().st_mode) == 0o600


def test_a_key_over_its_rate_is_429_with_retry_after(served: tuple[str, AdminPool]) -> None:
    url, pool = served
    with admin(url) as client:
        key = client.post("/keys", json={"name": "slow", "per_minute": 2}).json()["key"]
    assert [chat(url, key).status_code for _ in range(2)] == [200, 200]
    refused = chat(url, key)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(pool.requests) == 2  # the refused request never reached the pool


def test_a_key_over_its_concurrency_is_429(served: tuple[str, AdminPool]) -> None:
    url, pool = served
    with admin(url) as client:
        key = client.post("/keys", json={"name": "one-at-a-time", "max_concurrent": 1}).json()["key"]
    pool.queue(Script([*growing("hello", pieces=2)[:1], Pause(30)]))
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hold"}], "stream": True}
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, headers=headers, timeout=15) as held:
        assert held.status_code == 200
        lines = held.iter_lines()  # kept: a dropped iterator closes the stream
        next(lines)  # the first chunk: the request is running
        refused = chat(url, key)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        lines.close()
    # The held stream is gone: its slot comes back once the gateway has seen the disconnect.
    with admin(url) as client:
        wait_until(lambda: client.get("/keys").json()["data"][0]["active"] == 0)
    assert chat(url, key).status_code == 200


def test_a_keys_account_group_limits_its_accounts(served: tuple[str, AdminPool]) -> None:
    url, pool = served
    with admin(url) as client:
        grouped = client.post("/keys", json={"name": "g", "accounts": ["acct-2"]}).json()
        nowhere = client.post("/keys", json={"name": "n", "accounts": ["acct-9"]}).json()["key"]
        free = client.post("/keys", json={"name": "f"}).json()["key"]
    assert grouped["accounts"] == ["acct-2"]
    for _ in range(3):
        assert chat(url, grouped["key"]).status_code == 200
        assert pool.requests[-1].account_id == "acct-2"
    assert chat(url, free).status_code == 200
    assert pool.requests[-1].account_id is None  # ungrouped: the pool chooses
    refused = chat(url, nowhere)
    assert refused.status_code == 503


def test_keys_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with gateway(data, AdminPool()) as url, admin(url) as client:
        kept = client.post("/keys", json={"name": "kept"}).json()["key"]
        gone = client.post("/keys", json={"name": "gone"}).json()
        client.delete(f"/keys/{gone['id']}").raise_for_status()
    with gateway(data, AdminPool()) as url:
        assert chat(url, kept).status_code == 200
        assert chat(url, gone["key"]).status_code == 401
        with admin(url) as client:
            states = {k["name"]: k["state"] for k in client.get("/keys").json()["data"]}
    assert states == {"kept": "live", "gone": "revoked"}


def test_an_expired_key_authenticates_no_more(tmp_path: Path) -> None:
    now = [1000.0]
    with KeyStore(tmp_path / "keys.sqlite3", clock=lambda: now[0]) as store:
        created = store.create("short", expires_at=1060.0)
        assert store.lookup(created.key) is not None
        now[0] = 1060.0
        assert store.lookup(created.key) is None
        assert store.lookup("gw-unknown") is None


def test_a_bad_key_request_is_400(served: tuple[str, AdminPool]) -> None:
    url, _ = served
    with admin(url) as client:
        for body in (
            {},
            {"name": "x", "per_minute": 0},
            {"name": "x", "accounts": []},
            {"name": "x", "y": 1},
        ):
            assert client.post("/keys", json=body).status_code == 400, body


def test_the_admin_key_creates_keys_without_configured_ones(tmp_path: Path) -> None:
    from contextlib import asynccontextmanager
    from typing import Any

    from service.app import create_app
    from service.pool_adapter import BrowserBackend
    from service.settings import GatewaySettings
    from tests.support.servers import serve

    settings = GatewaySettings(data_dir=tmp_path / "d", admin_keys=[ADMIN_KEY])  # type: ignore[arg-type]

    @asynccontextmanager
    async def factory(_settings: GatewaySettings) -> Any:
        yield BrowserBackend(AdminPool())

    with serve(create_app(settings, pool_factory=factory)) as url:
        assert chat(url, "anything").status_code == 401
        with admin(url) as client:
            key = client.post("/keys", json={"name": "only"}).json()["key"]
        assert chat(url, key).status_code == 200
