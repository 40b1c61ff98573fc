"""Accounts added from cookie files serve chats on the real stack (simulator + Chromium pool): a
Firefox ``cookies.sqlite`` through ``python -m service accounts add --cookie-file … --url`` (the
binary path end to end), a Chrome DevTools HAR through the admin API, and a session the simulator
keeps a record of (signin-contract.md: a bound session needs its own ``__Secure-1PSIDTS``), whose
whole jar serves where ``__Secure-1PSID`` alone is answered as expired."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.test_e2e_admin import ask, free_account_paused
from tests.support.cookie_files import Jar, firefox_sqlite, firefox_sqlite_of, har

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_KEY = "adm-e2e-cookie-files-0123"
RUN = uuid.uuid4().hex[:8]
ADD = (sys.executable, "-m", "service", "accounts", "add")


@pytest.fixture(scope="module")
def files_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("e2e-cookie-files"), ("free",), admin_keys=(SecretStr(ADMIN_KEY),)
    ) as running:
        yield running


def test_accounts_from_a_firefox_sqlite_and_a_har_answer_chats(files_stack: Stack, tmp_path: Path) -> None:
    firefox_jar = Jar(psid=f"paid-firefox-{RUN}")
    har_jar = Jar(psid=f"paid-har-{RUN}")
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    client = httpx.Client(base_url=files_stack.url + "/admin", headers=headers, timeout=90)
    with client, free_account_paused(client):
        path = tmp_path / "cookies.sqlite"
        path.write_bytes(firefox_sqlite(firefox_jar))
        done = subprocess.run(
            [*ADD, "--cookie-file", str(path), "--name", "from-firefox", "--url", files_stack.url],
            capture_output=True,
            text=True,
            env={**os.environ, "GATEWAY_ADMIN_KEY": ADMIN_KEY, "GATEWAY_DATA_DIR": str(tmp_path / "cli")},
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert '"state": "ready"' in done.stdout and firefox_jar.psid not in done.stdout + done.stderr
        served = ask(files_stack, "gemini-2.5-pro", "hello from a Firefox cookie file")
        assert served.status_code == 200, served.text
        assert client.get("/accounts/from-firefox").json()["turns_served"] == 1

        assert client.post("/accounts/from-firefox/pause").json()["paused"] is True
        added = client.post("/accounts", json={"name": "from-har", "cookie_file": har(har_jar).decode()})
        assert added.status_code == 201, added.text
        assert added.json()["state"] == "ready"
        served = ask(files_stack, "gemini-2.5-pro", "hello from a HAR file")
        assert served.status_code == 200, served.text
        assert client.get("/accounts/from-har").json()["turns_served"] == 1
        listed = client.get("/accounts").text
        for account in ("from-firefox", "from-har"):
            assert client.delete(f"/accounts/{account}").status_code in (200, 204)
    for secret in (*firefox_jar.secrets(), *har_jar.secrets()):
        assert secret not in listed and secret not in added.text


def add_with_cli(stack: Stack, path: Path, name: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ADD, "--cookie-file", str(path), "--name", name, "--url", stack.url],
        capture_output=True,
        text=True,
        env={**os.environ, "GATEWAY_ADMIN_KEY": ADMIN_KEY, "GATEWAY_DATA_DIR": str(data_dir)},
        timeout=120,
        check=False,
    )


def test_the_whole_jar_of_a_recorded_session_serves_where_psid_alone_does_not(
    files_stack: Stack, tmp_path: Path
) -> None:
    def session() -> list[dict[str, object]]:
        made = httpx.post(
            files_stack.sim_url + "/_sim/sessions", json={"kind": "paid", "bound": True}, timeout=10
        )
        made.raise_for_status()
        jar: list[dict[str, object]] = made.json()
        assert {"__Secure-1PSID", "__Secure-1PSIDTS"} <= {str(c["name"]) for c in jar}
        return jar

    whole, alone = session(), session()
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    client = httpx.Client(base_url=files_stack.url + "/admin", headers=headers, timeout=90)
    with client, free_account_paused(client):
        path = tmp_path / "cookies.sqlite"
        path.write_bytes(firefox_sqlite_of(whole))
        done = add_with_cli(files_stack, path, "whole-jar", tmp_path / "cli")
        assert done.returncode == 0, done.stderr
        assert '"state": "ready"' in done.stdout
        served = ask(files_stack, "gemini-2.5-pro", "hello from a whole jar")
        assert served.status_code == 200, served.text
        assert client.get("/accounts/whole-jar").json()["turns_served"] == 1

        psid = next(str(c["value"]) for c in alone if c["name"] == "__Secure-1PSID")
        added = client.post("/accounts", json={"name": "psid-alone", "psid": psid})
        assert added.status_code == 201, added.text
        # The bound session has no ticket of its own: answered as expired (1016).
        assert (added.json()["state"], added.json()["status_code"]) == ("signed_out", 1016)
        for account in ("whole-jar", "psid-alone"):
            assert client.delete(f"/accounts/{account}").status_code in (200, 204)
    secrets = [str(c["value"]) for c in whole + alone]
    assert not any(secret in done.stdout + done.stderr + added.text for secret in secrets)
