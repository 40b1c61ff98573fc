"""``python -m service accounts ...`` and ``keys ...``: against a running gateway's admin API, and
on a stopped gateway's data directory (what is added there starts with the gateway)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest

from service.cli import main
from tests.service.admin_pool import AdminPool
from tests.service.test_admin_accounts import ADMIN_KEY, PSID, admin, gateway
from tests.service.test_keys_api import chat


def models(url: str, key: str) -> httpx.Response:
    return httpx.get(url + "/v1/models", headers={"Authorization": f"Bearer {key}"})


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else None, out + err


def test_accounts_and_keys_against_a_running_gateway(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = AdminPool(account_list=[])
    with gateway(tmp_path / "data", pool) as url:
        monkeypatch.setenv("GATEWAY_ADMIN_KEY", ADMIN_KEY)
        monkeypatch.setattr("sys.stdin", io.StringIO(f"SID=x; __Secure-1PSID={PSID}\n"))
        code, added, text = run(capsys, "accounts", "add", "--name", "cli-a", "--url", url)
        assert code == 0 and isinstance(added, dict) and added["id"] == "cli-a" and PSID not in text
        assert {c.name: c.value for c in pool.added[0].parse_cookies()}["__Secure-1PSID"] == PSID
        code, listed, _ = run(capsys, "accounts", "list", "--url", url)
        assert isinstance(listed, dict) and [a["id"] for a in listed["data"]] == ["cli-a"]
        assert run(capsys, "accounts", "check", "cli-a", "--url", url)[0] == 0
        code, _, text = run(capsys, "accounts", "check", "nope", "--url", url)
        assert code == 1 and "404" in text
        assert run(capsys, "accounts", "remove", "cli-a", "--url", url)[0] == 0
        code, created, _ = run(capsys, "keys", "create", "cli-key", "--per-minute", "3", "--url", url)
        assert isinstance(created, dict)
        assert models(url, created["key"]).status_code == 200
        assert run(capsys, "keys", "revoke", created["id"], "--url", url)[0] == 0
        assert models(url, created["key"]).status_code == 401
        monkeypatch.setenv("GATEWAY_ADMIN_KEY", "wrong")
        code, _, text = run(capsys, "keys", "list", "--url", url)
        assert code == 1 and "401" in text


def test_accounts_and_keys_on_a_stopped_gateways_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(data))
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(f".google.com\tTRUE\t/\tTRUE\t1999999999\t__Secure-1PSID\t{PSID}\n")
    code, added, text = run(capsys, "accounts", "add", "--from", str(cookies))
    assert code == 0 and isinstance(added, dict) and added["id"].startswith("acct-") and PSID not in text
    assert run(capsys, "accounts", "add", "--from", str(cookies), "--name", "again")[0] == 1  # same session
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    assert run(capsys, "accounts", "add", "--from", str(empty))[0] == 1
    code, listed, _ = run(capsys, "accounts", "list")
    assert isinstance(listed, dict) and [a["id"] for a in listed["data"]] == [added["id"]]
    assert run(capsys, "accounts", "check", added["id"])[0] == 1  # needs the running gateway
    code, _, text = run(capsys, "keys", "create", "absurd", "--max-concurrent", "99999999999")
    assert code == 1 and text.startswith("error: ") and "Traceback" not in text  # refused, not a crash
    code, created, _ = run(capsys, "keys", "create", "offline", "--max-concurrent", "2")
    assert code == 0 and isinstance(created, dict)

    pool = AdminPool(account_list=[])
    with gateway(data, pool) as url, admin(url) as client:
        assert [a["id"] for a in client.get("/accounts").json()["data"]] == [added["id"]]
        assert chat(url, created["key"]).status_code == 200
        keys = client.get("/keys").json()["data"]
        assert [(k["name"], k["max_concurrent"]) for k in keys] == [("offline", 2)]

    assert run(capsys, "accounts", "remove", added["id"])[0] == 0
    assert run(capsys, "accounts", "remove", added["id"])[0] == 1
    assert run(capsys, "keys", "revoke", created["id"])[0] == 0
    code, keys_listed, _ = run(capsys, "keys", "list")
    assert isinstance(keys_listed, dict) and keys_listed["data"][0]["revoked"] is True
    assert created["key"] not in json.dumps(keys_listed)
