"""Accounts added from cookie files serve chats on the real stack (simulator + Chromium pool): a
Firefox ``cookies.sqlite`` through ``python -m service accounts add --cookie-file … --url`` (the
binary path end to end), and a Chrome DevTools HAR through the admin API."""

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
from tests.support.cookie_files import Jar, firefox_sqlite, har

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
