"""Every cookie file format through the ways in: ``python -m service accounts add --cookie-file``
on a stopped gateway's data directory (a real subprocess), the admin API of a real uvicorn gateway
(base64 for the binary ``cookies.sqlite``), the CLI's ``--url``, and the dashboard's text box. What
is stored is the Google jar only; no value reaches the output, the answers or the logs."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from service.admin.registry import AddedAccounts
from service.settings import GatewaySettings
from tests.service.admin_pool import AdminPool
from tests.service.test_admin_accounts import ADMIN_KEY, admin, gateway
from tests.service.test_dashboard import signed_in
from tests.support.cookie_files import EXPIRES, KEPT, PSID, WRITERS, Jar

SUFFIX = {
    "netscape": "cookies.txt",
    "cookie-editor": "cookie-editor.json",
    "editthiscookie": "editthiscookie.json",
    "header-string": "header.txt",
    "har": "gemini.google.com.har",
    "firefox": "cookies.sqlite",
}


def cli(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "GATEWAY_DATA_DIR": str(data_dir), **(env or {})}
    environment.pop("GATEWAY_ADMIN_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "service", "accounts", "add", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def stored(data_dir: Path) -> dict[str, dict[str, str]]:
    with AddedAccounts(GatewaySettings(data_dir=data_dir, open_access=True).added_accounts_path) as registry:
        return {entry.id: {c.name: c.value for c in entry.spec.parse_cookies()} for entry in registry.all()}


def test_cli_adds_every_format_to_a_stopped_gateways_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    jars = {tool: Jar(psid=f"psid-SECRET-cli-{tool}") for tool in WRITERS}
    for tool, writer in WRITERS.items():
        path = tmp_path / SUFFIX[tool]
        path.write_bytes(writer(jars[tool]))
        done = cli(data_dir, "--cookie-file", str(path), "--name", f"from-{tool}")
        assert done.returncode == 0, (tool, done.stderr)
        for secret in jars[tool].secrets():
            assert secret not in done.stdout + done.stderr
    accounts = stored(data_dir)
    for tool in WRITERS:
        cookies = accounts[f"from-{tool}"]
        assert set(cookies) == KEPT[tool] and cookies[PSID] == jars[tool].psid, tool
    # Only Google cookies are kept: another site's value is in no file of the data directory.
    for file in data_dir.rglob("*"):
        if file.is_file():
            assert not any(jar.youtube.encode() in file.read_bytes() for jar in jars.values()), file


def test_cli_format_override_and_a_malformed_file(tmp_path: Path) -> None:
    jar = Jar(psid="psid-SECRET-override")
    har = tmp_path / "export.txt"  # a misleading name changes nothing: detection reads the content
    har.write_bytes(WRITERS["har"](jar))
    wrong = cli(tmp_path / "data", "--cookie-file", str(har), "--cookie-format", "netscape")
    assert wrong.returncode == 1 and "Netscape cookie file line 1" in wrong.stderr
    right = cli(tmp_path / "data", "--cookie-file", str(har), "--cookie-format", "har", "--name", "h")
    assert right.returncode == 0, right.stderr
    broken = tmp_path / "cookies.txt"
    broken.write_bytes(WRITERS["netscape"](jar).replace(b"\tTRUE\t/\tTRUE\t", b" TRUE / TRUE ", 1))
    refused = cli(tmp_path / "data", "--cookie-file", str(broken))
    assert refused.returncode == 1 and "line 5: 3 tab-separated fields, expected 7" in refused.stderr
    assert not any(secret in refused.stderr + wrong.stderr for secret in jar.secrets())


def _body(tool: str, jar: Jar) -> dict[str, str]:
    data = WRITERS[tool](jar)
    if tool == "firefox":
        return {"cookie_file": base64.b64encode(data).decode(), "cookie_file_encoding": "base64"}
    return {"cookie_file": data.decode()}


def test_admin_api_adds_every_format(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    pool = AdminPool(account_list=[])
    jars = {tool: Jar(psid=f"psid-SECRET-api-{tool}") for tool in WRITERS}
    answers: list[str] = []
    with gateway(tmp_path / "data", pool) as url, admin(url) as client:
        for tool, jar in jars.items():
            added = client.post("/accounts", json={"name": f"api-{tool}", **_body(tool, jar)})
            assert added.status_code == 201, (tool, added.text)
            cookies = {c.name: c.value for c in pool.added[-1].parse_cookies()}
            assert set(cookies) == KEPT[tool] and cookies[PSID] == jar.psid, tool
            answers.append(added.text)
        explicit = client.post(
            "/accounts",
            json={
                "name": "api-explicit",
                "cookie_file_format": "json",
                **_body("cookie-editor", Jar("psid-x")),
            },
        )
        assert explicit.status_code == 201, explicit.text
        answers.append(client.get("/accounts").text)
    for jar in jars.values():
        for secret in jar.secrets():
            assert secret not in caplog.text and not any(secret in answer for answer in answers)


@pytest.mark.parametrize(
    ("body", "place"),
    [
        (
            {
                "cookie_file": WRITERS["har"](Jar("psid-SECRET-bad"))
                .decode()
                .replace('"2026-12-07T10:00:01.000Z"', "7")
            },
            "log.entries[1].startedDateTime",
        ),
        (
            {
                "cookie_file": base64.b64encode(WRITERS["firefox"](Jar("psid-SECRET-bad"))[:700]).decode(),
                "cookie_file_encoding": "base64",
            },
            "SQLite file cannot be read",
        ),
        ({"cookie_file": "SQLite format 3", "cookie_file_format": "sqlite"}, "binary"),
        ({"cookie_file": "psid-SECRET-bad", "cookie_file_encoding": "hex"}, "cookie_file_encoding"),
    ],
)
def test_admin_api_refuses_a_malformed_file_naming_the_place(
    tmp_path: Path, body: dict[str, str], place: str
) -> None:
    pool = AdminPool(account_list=[])
    with gateway(tmp_path / "data", pool) as url, admin(url) as client:
        response = client.post("/accounts", json=body)
    assert response.status_code == 400, response.text
    assert place in response.text and "psid-SECRET-bad" not in response.text
    assert pool.added == []


def test_cli_sends_a_binary_cookies_sqlite_to_a_running_gateway(tmp_path: Path) -> None:
    jar = Jar(psid="psid-SECRET-online")
    path = tmp_path / "cookies.sqlite"
    path.write_bytes(WRITERS["firefox"](jar))
    pool = AdminPool(account_list=[])
    with gateway(tmp_path / "data", pool) as url:
        done = cli(
            tmp_path / "unused",
            "--cookie-file",
            str(path),
            "--name",
            "online",
            "--url",
            url,
            env={"GATEWAY_ADMIN_KEY": ADMIN_KEY},
        )
        assert done.returncode == 0, done.stderr
        listed = httpx.get(url + "/admin/accounts", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    cookies = {c.name: c for c in pool.added[-1].parse_cookies()}
    assert set(cookies) == KEPT["firefox"] and cookies[PSID].value == jar.psid
    # The whole cookie travels, not a name=value string: domains, flags and expiry arrive.
    gaps = cookies["__Host-GAPS"]
    assert (gaps.domain, gaps.same_site, gaps.http_only) == ("accounts.google.com", "Strict", True)
    assert cookies[PSID].expires == EXPIRES
    assert not any(secret in done.stdout + done.stderr + listed.text for secret in jar.secrets())


@pytest.mark.parametrize("tool", ["har", "cookie-editor", "netscape"])
def test_the_dashboards_text_box_takes_a_pasted_cookie_file(tmp_path: Path, tool: str) -> None:
    jar = Jar(psid=f"psid-SECRET-paste-{tool}")
    pool = AdminPool(account_list=[])
    with gateway(tmp_path / "data", pool) as url, signed_in(url) as client:
        page = client.post("/accounts", data={"name": "pasted", "cookies": WRITERS[tool](jar).decode()})
    assert page.status_code == 201, page.text[-500:]
    cookies = {c.name: c.value for c in pool.added[-1].parse_cookies()}
    assert set(cookies) == KEPT[tool] and cookies[PSID] == jar.psid
    assert not any(secret in page.text for secret in jar.secrets())
