"""Per-key scopes (model families and kinds of work) on a real uvicorn gateway over a scripted pool:
set through the admin API, the CLI and the dashboard's form, a request outside them is 403
``permission_error`` naming the scope (before any turn), ``/v1/models`` lists only what the key may
use, a key without scopes keeps every model, and a key store from before scopes upgrades in place."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.catalog import CATALOG
from service.cli import main
from service.keys import KeyStore
from tests.service.image_pool import ImagePool
from tests.service.scripted_pool import account
from tests.service.test_admin_accounts import ADMIN_KEY, admin, gateway
from tests.service.test_keys_api import chat


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, ImagePool]]:
    pool = ImagePool(account_list=[account("acct-1")])
    with gateway(tmp_path / "data", pool) as url:
        yield url, pool


def _key(url: str, **body: object) -> str:
    with admin(url) as client:
        created = client.post("/keys", json={"name": "scoped", **body})
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def _models(url: str, key: str) -> list[str]:
    listed = httpx.get(url + "/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert listed.status_code == 200, listed.text
    return [card["id"] for card in listed.json()["data"]]


def _refused(response: httpx.Response, scope: str) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("permission_error", "out_of_scope")
    assert repr(scope) in error["message"]


def _images(url: str, key: str, model: str = "gemini-2.5-flash-imagen") -> httpx.Response:
    return httpx.post(
        url + "/v1/images/generations",
        json={"prompt": "a cat", "model": model},
        headers={"Authorization": f"Bearer {key}"},
        timeout=15,
    )


def test_a_key_limited_to_images_may_make_images_and_nothing_else(served: tuple[str, ImagePool]) -> None:
    url, pool = served
    key = _key(url, scopes=["images"])
    _refused(chat(url, key), "chat")
    _refused(chat(url, key, stream=True), "chat")  # a real 403, not an error event in a 200 stream
    assert pool.requests == []  # refused before any account was leased
    assert _images(url, key).status_code == 200
    assert _models(url, key) == ["gemini-2.5-flash-imagen", "gemini-2.5-pro-imagen"]
    refused = httpx.get(url + "/v1/models/gemini-2.5-flash", headers={"Authorization": f"Bearer {key}"})
    _refused(refused, "chat")


def test_a_key_limited_to_a_family_and_a_kind_gets_their_intersection(served: tuple[str, ImagePool]) -> None:
    url, pool = served
    key = _key(url, scopes=["flash", "chat"])
    assert _models(url, key) == ["gemini-2.5-flash-free", "gemini-2.5-flash"]
    assert chat(url, key).status_code == 200
    _refused(chat(url, key, model="gemini-2.5-pro"), "pro")
    _refused(chat(url, key, model="gemini-2.5-flash-canvas"), "canvas")
    responses = httpx.post(
        url + "/v1/responses",
        json={"model": "gemini-2.5-pro", "input": "hi"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=15,
    )
    _refused(responses, "pro")
    assert len(pool.requests) == 1


def test_the_image_and_video_routes_are_refused_before_their_body(served: tuple[str, ImagePool]) -> None:
    url, pool = served
    key = _key(url, scopes=["chat"])
    _refused(_images(url, key), "images")
    edit = httpx.post(
        url + "/gemini_official/v1/images/edits",
        files=[("image", ("a.png", b"not even an image", "image/png"))],
        data={"prompt": "x"},
        headers={"Authorization": f"Bearer {key}"},
    )
    _refused(edit, "images")
    _refused(httpx.get(url + "/v1/videos", headers={"Authorization": f"Bearer {key}"}), "video")
    assert pool.requests == []
    pro_images = _key(url, scopes=["images", "flash"])
    _refused(_images(url, pro_images, "gemini-2.5-pro-imagen"), "pro")


def test_keys_without_scopes_and_configured_keys_keep_every_model(served: tuple[str, ImagePool]) -> None:
    url, _ = served
    everything = _models(url, _key(url))
    assert len(everything) == len(CATALOG)
    assert _models(url, "sk-test-key-0123456789") == everything


def test_scopes_are_validated_listed_and_changed_at_runtime(served: tuple[str, ImagePool]) -> None:
    url, _ = served
    with admin(url) as client:
        unknown = client.post("/keys", json={"name": "x", "scopes": ["chat", "telepathy"]})
        assert unknown.status_code == 400
        assert unknown.json()["error"]["param"] == "scopes" and "telepathy" in unknown.text
        assert client.post("/keys", json={"name": "x", "scopes": []}).status_code == 400
        created = client.post("/keys", json={"name": "k", "scopes": ["Chat", "pro", "chat"]}).json()
        assert created["scopes"] == ["pro", "chat"]  # known order, each once, lower case
        key, key_id = created["key"], created["id"]
        assert chat(url, key).status_code == 403
        changed = client.patch(f"/keys/{key_id}", json={"scopes": ["flash"]})
        assert changed.status_code == 200 and changed.json()["scopes"] == ["flash"]
        assert chat(url, key).status_code == 200  # the next request is judged by the new scopes
        assert client.patch(f"/keys/{key_id}", json={"scopes": None}).json()["scopes"] is None
        assert chat(url, key, model="gemini-2.5-pro").status_code == 200
        assert client.patch("/keys/key_nope", json={"scopes": ["chat"]}).status_code == 404
        assert client.patch(f"/keys/{key_id}", json={}).status_code == 400
        assert [k["scopes"] for k in client.get("/keys").json()["data"]] == [None]


def test_a_key_store_from_before_scopes_upgrades(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    old = sqlite3.connect(data / "keys.sqlite3")
    old.executescript(
        """CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, digest TEXT NOT NULL UNIQUE,
        shown TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL, max_concurrent INTEGER,
        per_minute INTEGER, accounts TEXT, revoked_at REAL, last_used_at REAL,
        requests INTEGER NOT NULL DEFAULT 0)"""
    )
    from service.keys import key_digest

    old.execute(
        "INSERT INTO api_keys (id, name, digest, shown, created_at) VALUES (?, ?, ?, ?, ?)",
        ("key_old000000", "old", key_digest("gw-old-key"), "gw-old…", 1.0),
    )
    old.commit()
    old.close()
    with gateway(data, ImagePool(account_list=[account()])) as url, admin(url) as client:
        assert chat(url, "gw-old-key").status_code == 200
        assert client.get("/keys").json()["data"][0]["scopes"] is None
        client.patch("/keys/key_old000000", json={"scopes": ["images"]}).raise_for_status()
        _refused(chat(url, "gw-old-key"), "chat")
    with KeyStore(data / "keys.sqlite3") as store:
        record = store.get("key_old000000")
    assert record is not None and record.scopes == ("images",)


def test_scopes_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(*argv: str) -> tuple[int, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out + err

    with gateway(tmp_path / "data", ImagePool(account_list=[account()])) as url:
        monkeypatch.setenv("GATEWAY_ADMIN_KEY", ADMIN_KEY)
        code, out = run("keys", "create", "cli", "--scopes", "images,flash", "--url", url)
        created = json.loads(out)
        assert code == 0 and created["scopes"] == ["flash", "images"]
        _refused(chat(url, created["key"]), "chat")
        code, out = run("keys", "scopes", created["id"], "chat", "--url", url)
        assert code == 0 and json.loads(out)["scopes"] == ["chat"]
        assert chat(url, created["key"]).status_code == 200
        code, out = run("keys", "scopes", created["id"], "mind-reading", "--url", url)
        assert code == 1 and "mind-reading" in out
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path / "stopped"))
    code, out = run("keys", "create", "offline", "--scopes", "video")
    assert code == 0
    key_id = json.loads(out)["id"]
    code, out = run("keys", "scopes", key_id, "")
    assert code == 0 and json.loads(out)["scopes"] is None
    code, out = run("keys", "list")
    assert [k["scopes"] for k in json.loads(out)["data"]] == [None]
