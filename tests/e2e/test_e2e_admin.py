"""Operations on the real stack (simulator + BrowserPool on Chromium): an account added live from a
cookie value serves at once; pause, resume and remove (a busy account finishes its turn first);
the dashboard in real Chromium, without a cookie value in its pages, image names or requests."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Request, expect
from pydantic import SecretStr

from service.admin.ui import SCREENSHOT_REFRESH_MS
from tests.conftest import NewContext
from tests.e2e.conftest import KEY_A, WAIT, Stack, running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_KEY = "adm-e2e-key-0123456789"
RUN = uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def ops_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A gateway with one configured free account and an admin key."""
    with running_stack(
        tmp_path_factory.mktemp("e2e-admin"), ("free",), admin_keys=(SecretStr(ADMIN_KEY),)
    ) as running:
        yield running


def admin(stack: Stack) -> httpx.Client:
    return httpx.Client(
        base_url=stack.url + "/admin", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=90
    )


def ask(stack: Stack, model: str, text: str) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    headers = {"Authorization": f"Bearer {KEY_A}"}
    return httpx.post(stack.url + "/v1/chat/completions", json=body, headers=headers, timeout=90)


@contextmanager
def free_account_paused(client: httpx.Client) -> Iterator[None]:
    """The stack's free account out of rotation: its page offers Pro too (fidelity.md D8), so the
    accounts a test adds are the only ones serving while it runs."""
    assert client.post("/accounts/e2e-free/pause").json()["paused"] is True
    try:
        yield
    finally:
        client.post("/accounts/e2e-free/resume").raise_for_status()


def test_an_added_account_serves_at_once_and_can_be_paused_resumed_removed(ops_stack: Stack) -> None:
    psid = f"paid-live-{RUN}"
    with admin(ops_stack) as client, free_account_paused(client):
        assert ask(ops_stack, "gemini-2.5-pro", "before").status_code in (403, 503)  # none serving yet
        added = client.post("/accounts", json={"name": "live-paid", "psid": psid})
        assert added.status_code == 201, added.text
        info = added.json()
        assert (info["state"], info["tier"], info["source"]) == ("ready", "paid", "added")
        assert "pro" in info["modes"] and info["models"]
        assert psid not in added.text and psid not in client.get("/accounts").text

        served = ask(ops_stack, "gemini-2.5-pro", "hello from the added account")
        assert served.status_code == 200, served.text
        assert client.get("/accounts/live-paid").json()["turns_served"] == 1

        assert client.post("/accounts/live-paid/pause").json()["paused"] is True
        assert ask(ops_stack, "gemini-2.5-pro", "while paused").status_code in (403, 503)
        assert client.post("/accounts/live-paid/resume").json()["paused"] is False
        assert ask(ops_stack, "gemini-2.5-pro", "after resume").status_code == 200

        checked = client.post("/accounts/live-paid/check")
        assert checked.status_code == 200 and checked.json()["state"] == "ready"
        shot = client.get("/accounts/live-paid/screenshot")
        assert shot.content.startswith(b"\x89PNG")

        assert client.delete("/accounts/live-paid").status_code == 200
        assert "live-paid" not in {a["id"] for a in client.get("/accounts").json()["data"]}
        assert ask(ops_stack, "gemini-2.5-pro", "after removal").status_code in (403, 503)


def test_removing_a_busy_account_lets_its_turn_finish(ops_stack: Stack) -> None:
    with admin(ops_stack) as client, free_account_paused(client):
        client.post("/accounts", json={"name": "busy-paid", "psid": f"paid-busy-{RUN}"}).raise_for_status()
        ops_stack.sim_config(first_token_delay=0.05, frame_interval=0.3)
        try:
            body = {
                "model": "gemini-2.5-pro",
                "stream": True,
                "messages": [{"role": "user", "content": "tell me a long story " * 5}],
            }
            headers = {"Authorization": f"Bearer {KEY_A}"}
            removed: dict[str, Any] = {}
            texts: list[str] = []
            with httpx.stream(
                "POST", ops_stack.url + "/v1/chat/completions", json=body, headers=headers, timeout=90
            ) as stream:
                assert stream.status_code == 200
                lines = stream.iter_lines()
                texts.append(next(line for line in lines if line.startswith("data: {")))

                def remove() -> None:
                    removed["response"] = client.delete("/accounts/busy-paid")

                remover = threading.Thread(target=remove)
                remover.start()
                # Out of rotation at once, while its turn is still streaming.
                ops_stack.wait_for(
                    lambda: "busy-paid" not in {a.id for a in ops_stack.accounts()}, "the account to leave"
                )
                assert "response" not in removed  # the removal waits for the turn
                texts.extend(lines)
                remover.join(WAIT)
            assert removed["response"].status_code == 200
            assert texts[-2] == "data: [DONE]" or texts[-1] == "data: [DONE]"
            assert any('"finish_reason":"stop"' in text for text in texts)
        finally:
            ops_stack.sim_config(first_token_delay=0.05, frame_interval=0.02)


async def test_the_dashboard_in_chromium(ops_stack: Stack, new_context: NewContext, tmp_path: Path) -> None:
    psid = f"free-dash-{RUN}"
    context = await new_context()
    page = await context.new_page()
    # The page's refresh timers run when the test advances its clock (installed, it would run on).
    now = time.time()
    await page.clock.install(time=now)
    await page.clock.pause_at(now + 1)
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request))
    bodies: list[str] = []

    async def keep(response: Any) -> None:
        if response.request.resource_type == "document" and response.status < 300:
            bodies.append(await response.text())

    page.on("response", keep)

    await page.goto(ops_stack.url + "/admin/ui")
    await page.fill("input[name=key]", "not-the-admin-key")
    await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_contain_text("Invalid admin key")
    await page.fill("input[name=key]", ADMIN_KEY)
    await page.click("button[type=submit]")
    await expect(page.locator("#accounts")).to_contain_text("e2e-free")

    await page.fill("input[name=name]", "dash-free")
    await page.fill("textarea[name=cookies]", psid)
    await page.click("#add-account button[type=submit]")
    await expect(page.get_by_role("status")).to_contain_text("dash-free added", timeout=WAIT * 1000)
    row = page.locator("tr[data-account=dash-free]")
    await expect(row).to_contain_text("ready")
    await expect(row).to_contain_text("free")
    assert await page.locator("textarea[name=cookies]").input_value() == ""

    shot = row.locator("img.shot")
    await expect(shot).to_have_js_property("complete", True, timeout=WAIT * 1000)
    assert await shot.evaluate("img => img.naturalWidth") > 0
    # It refreshes: a later request for the same image, with a new cache-buster.
    before = sum("/screenshot.png" in r.url for r in seen)
    async with page.expect_request(lambda r: "dash-free/screenshot.png?t=" in r.url, timeout=WAIT * 1000):
        await page.clock.run_for(SCREENSHOT_REFRESH_MS)  # the next refresh, not up to 5 s of waiting
    assert sum("/screenshot.png" in r.url for r in seen) > before
    await page.screenshot(path=str(tmp_path / "dashboard.png"))

    await row.get_by_role("button", name="Pause").click()
    await expect(page.locator("tr[data-account=dash-free]")).to_contain_text("paused")
    await page.locator("tr[data-account=dash-free]").get_by_role("button", name="Resume").click()
    await expect(page.locator("tr[data-account=dash-free]")).not_to_contain_text("paused")
    await page.locator("tr[data-account=dash-free]").get_by_role("button", name="Check").click()
    await expect(page.locator("tr[data-account=dash-free]")).to_contain_text("ready", timeout=WAIT * 1000)

    await page.fill("#create-key input[name=name]", "dash-key")
    await page.fill("#create-key input[name=per_minute]", "5")
    await page.click("#create-key button[type=submit]")
    key = await page.locator("#new-key").inner_text()
    async with httpx.AsyncClient() as client:
        models = await client.get(ops_stack.url + "/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert models.status_code == 200
    await page.goto(ops_stack.url + "/admin/ui")
    await expect(page.locator("tr", has_text="dash-key")).to_contain_text("5/min")
    await expect(page.locator("tr", has_text="dash-key")).to_contain_text("1 requests")
    assert key not in await page.content()
    await page.locator("tr", has_text="dash-key").get_by_role("button", name="Revoke").click()
    await expect(page.locator("tr", has_text="dash-key")).to_contain_text("revoked")

    await page.locator("tr[data-account=dash-free]").get_by_role("button", name="Remove").click()
    await expect(page.locator("tr[data-account=dash-free]")).to_have_count(0, timeout=WAIT * 1000)

    bodies.append(await page.content())
    for body in bodies:
        assert psid not in body
    # The only request carrying the value is the form post that adds it; no URL ever does.
    carrying = [r for r in seen if psid in (r.post_data or "") or psid in r.url]
    assert [(r.method, r.url.removeprefix(ops_stack.url)) for r in carrying] == [
        ("POST", "/admin/ui/accounts")
    ]
    assert all(psid not in r.url for r in seen)
    cookies = await context.cookies()
    assert [c["name"] for c in cookies] == ["gateway_admin"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"


@pytest.mark.parametrize(("kind", "code"), [("paid", 0), ("expired", 1)])
def test_doctor_reports_what_the_page_offers(ops_stack: Stack, tmp_path: Path, kind: str, code: int) -> None:
    import json
    import os
    import subprocess
    import sys

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        "GATEWAY_DATA_DIR": str(tmp_path / "data"),
        # The doctor waits ui_timeout for each element the page lacks (October's page has no upload
        # opener of its own): the default 10 s made the paid run 16 s; test_doctor.py also uses 3.
        "GATEWAY_BROWSER": json.dumps({"gemini_url": ops_stack.sim_url, "ui_timeout": 3}),
        "GATEWAY_ACCOUNTS": json.dumps([{"name": "doc", "psid": f"{kind}-doctor-{RUN}"}]),
    }
    command = [sys.executable, "-m", "service", "doctor", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == code, done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["versions"]["playwright"] and report["versions"]["chromium"]
    assert f"{kind}-doctor-{RUN}" not in done.stdout + done.stderr
    account = report["account"]
    if kind == "paid":
        assert account["signed_in"] and "otAQ7b (code 1000)" in account["signal"]
        assert "pro" in account["modes"] and account["models"] and account["tier"] == "paid"
        assert report["problems"] == []
    else:
        assert "1016" in account["signal"] and report["problems"]
    assert not (tmp_path / "data" / "cookies.sqlite3").exists()  # its scratch data dir, not ours


def test_an_added_account_comes_back_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    psid = f"paid-restart-{RUN}"
    admin_keys = (SecretStr(ADMIN_KEY),)
    with running_stack(data, (), admin_keys=admin_keys) as first, admin(first) as client:
        added = client.post(
            "/accounts", json={"name": "kept", "cookie_string": f"SID=s; __Secure-1PSID={psid}"}
        )
        assert added.status_code == 201 and added.json()["state"] == "ready"
        key = client.post("/keys", json={"name": "kept-key"}).json()["key"]
    with running_stack(data, (), admin_keys=admin_keys) as second, admin(second) as client:
        listed = client.get("/accounts").json()["data"]
        assert [(a["id"], a["state"], a["source"]) for a in listed] == [("kept", "ready", "added")]
        body = {"model": "gemini-2.5-pro", "messages": [{"role": "user", "content": "after restart"}]}
        served = httpx.post(
            second.url + "/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            timeout=90,
        )
        assert served.status_code == 200, served.text
