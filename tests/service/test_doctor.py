"""``gemini-gateway doctor`` run as the installed command would be (``python -m service doctor``)
against the simulator in the newest and the oldest UI generations: a good account exits 0 naming the
matched selectors and the side RPCs and what the page sees of the browser (a normal Chromium); a
signed-out cookie, a page whose mode picker was renamed and Debian's headless shell (told it is
headless) exit 1 saying why; no cookie or page-token value ever appears in what it prints."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from tests.browser.renamed_ui import RENAMED_MODE_PICKER, RenamedUI
from tests.support.headless_shell import HEADLESS_SHELL, needs_headless_shell
from tests.support.pacing import PACING
from tests.support.servers import serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UI_GENERATIONS = ("oct2026", "early2026")
RUN = uuid.uuid4().hex[:8]
# The first candidate (by table key) each generation's page matches for the elements every turn needs.
NEEDED_SELECTORS = {
    "oct2026": {
        "editor": 'rich-textarea .ql-editor[contenteditable="true"]',
        "send": 'input-area-v2 button[aria-label="Send message"]',
        "mode_picker": 'button[data-test-id="bard-mode-menu-button"]',
        "mode_items": '[data-test-id="gem-mode-menu"] gem-menu-item',
    },
    "early2026": {
        "editor": 'rich-textarea .ql-editor[contenteditable="true"]',
        "send": 'input-area-v2 button[aria-label="Send message"]',
        "mode_picker": 'button[data-test-id="bard-mode-menu-button"]',
        "mode_items": '[data-test-id^="bard-mode-option-"]',
    },
}
THINKING = {"oct2026": "levels", "early2026": "model"}


@pytest.fixture(scope="module")
def sims() -> Iterator[dict[str, str]]:
    """Each UI generation as it is, and October's with its mode picker renamed (``oct2026-renamed``)."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    def app(ui: Literal["oct2026", "early2026"]) -> Any:
        return create_app(SimulatorSettings.model_validate({**PACING, "ui": ui}))

    with (
        serve(app("oct2026")) as oct_,
        serve(app("early2026")) as early,
        serve(RenamedUI(app("oct2026"), RENAMED_MODE_PICKER)) as oct_renamed,
    ):
        yield {"oct2026": oct_, "early2026": early, "oct2026-renamed": oct_renamed}


def doctor(
    sim_url: str, psid: str, data_dir: Path, *flags: str, chromium_path: str = "/usr/bin/chromium"
) -> subprocess.CompletedProcess[str]:
    browser = {
        "gemini_url": sim_url,
        "ui_timeout": 3,
        "navigation_timeout": 15,
        "chromium_path": chromium_path,
    }
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        "GATEWAY_DATA_DIR": str(data_dir),
        "GATEWAY_BROWSER": json.dumps(browser),
        "GATEWAY_ACCOUNTS": json.dumps([{"name": "doc", "psid": psid}]),
    }
    return subprocess.run(
        [sys.executable, "-m", "service", "doctor", *flags],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def page_secrets(sim_url: str, psid: str) -> list[str]:
    """The values of the session tokens the simulator's page embeds for ``psid``."""
    page = httpx.get(f"{sim_url}/app", cookies={"__Secure-1PSID": psid}, timeout=10).text
    return [
        found.group(1) for key in ("SNlM0e", "FdrFJe") if (found := re.search(rf'"{key}":"([^"]+)"', page))
    ]


def assert_no_secret(done: subprocess.CompletedProcess[str], *secrets: str) -> None:
    printed = done.stdout + done.stderr
    for secret in secrets:
        assert secret and secret not in printed


@pytest.mark.parametrize("ui", UI_GENERATIONS)
def test_a_good_account_exits_0_naming_the_selectors_and_rpcs(
    ui: str, sims: dict[str, str], tmp_path: Path
) -> None:
    psid = f"paid-doctor-{RUN}"
    done = doctor(sims[ui], psid, tmp_path / "data", "--json")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads(done.stdout)
    account = report["account"]
    assert account["signed_in"] and "otAQ7b (code 1000)" in account["signal"]
    assert account["tier"] == "paid" and "pro" in account["modes"] and account["tools"]
    assert (account["ui_generation"], account["thinking"]) == (ui, THINKING[ui])
    status = report["account_status"]
    assert (status["status_code"], status["tier_flags"], status["capability_flags"]) == (1000, [8], [19])
    assert [model["label"] for model in status["models"]] == account["models"]
    elements = {element["key"]: element for element in report["elements"]}
    for key, selector in NEEDED_SELECTORS[ui].items():
        found = elements[key]
        assert (found["presence"], found["selector"], found["needed"]) == ("matched", selector, True)
        assert found["entry"].startswith("built-in ")
    assert {"rpc_id": "otAQ7b", "status": 200} in report["side_rpcs"]
    assert "SNlM0e" in report["page_tokens"]
    seen = report["presentation"]
    assert (seen["webdriver"], seen["window_chrome"], seen["pdf_viewer"]) == (False, True, True)
    assert "Headless" not in seen["user_agent"] and seen["plugins"] > 0
    assert any(brand.startswith("Chromium/") for brand in seen["client_hint_brands"])
    assert not any("Headless" in brand for brand in seen["client_hint_brands"])
    assert report["problems"] == []
    # Only the version check may warn (Debian's Chromium against the pin); the page sees nothing odd.
    version_warning = [report["versions"]["warning"]] if "warning" in report["versions"] else []
    assert report["warnings"] == version_warning
    secrets = page_secrets(sims[ui], psid)
    assert len(secrets) == 2
    assert_no_secret(done, psid, *secrets)
    assert not (tmp_path / "data" / "cookies.sqlite3").exists()  # a scratch data dir, not the gateway's


def test_the_readable_report_lists_each_element_and_the_verdict(sims: dict[str, str], tmp_path: Path) -> None:
    psid = f"paid-doctor-text-{RUN}"
    done = doctor(sims["oct2026"], psid, tmp_path / "data")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "account doc: signed in"
    assert "  signal: the account-status RPC otAQ7b (code 1000)" in lines
    assert any(
        re.fullmatch(r"  ok   \* editor +rich-textarea \.ql-editor.*\[built-in 1; on the loaded page\]", line)
        for line in lines
    )
    assert any(re.fullmatch(r"  -      stop button +not checked: .*", line) for line in lines)
    assert any(line.startswith("  side RPCs the page called: otAQ7b (200)") for line in lines)
    assert "  thinking control: levels (UI generation: oct2026)" in lines
    assert "  otAQ7b: status 1000, tier flags [8], capability flags [19] (capacity 2)" in lines
    at = lines.index("  the browser as the page sees it:")
    assert lines[at + 1] == "    navigator.webdriver: false"
    assert lines[at + 2].startswith("    user agent: Mozilla/5.0 ") and "Headless" not in lines[at + 2]
    assert lines[at + 3].startswith("    client-hint brands: ") and "Chromium/" in lines[at + 3]
    assert lines[at + 4] == "    window.chrome: present"
    assert re.fullmatch(r"    plugins: [1-9]\d*", lines[at + 5])
    assert lines[at + 6] == "    PDF viewer: enabled"
    assert not any(line.startswith("warning: the page") for line in lines)
    assert lines[-1] == "problems: none"
    assert_no_secret(done, psid, *page_secrets(sims["oct2026"], psid))


def test_record_writes_an_evidence_bundle_without_secrets(sims: dict[str, str], tmp_path: Path) -> None:
    """``doctor --record FILE``: outlines, the otAQ7b payload, the page's requests and one probe
    exchange (its chat deleted afterwards), in a file only its owner reads, with no cookie or token."""
    psid = f"paid-doctor-record-{RUN}"
    bundle_path = tmp_path / "evidence.json"
    done = doctor(sims["oct2026"], psid, tmp_path / "data", "--record", str(bundle_path))

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"evidence bundle written to {bundle_path}" in done.stdout
    assert bundle_path.stat().st_mode & 0o077 == 0
    text = bundle_path.read_text(encoding="utf-8")
    bundle = json.loads(text)
    assert bundle["format"] == "gemini-gateway-evidence/1"
    assert bundle["dom"]["picker_rows"] and bundle["dom"]["tool_rows"] and bundle["dom"]["composer"]
    assert bundle["account_status"]["payload"][14] == 1000
    exchange = bundle["stream_generate"]
    assert exchange["decoded"]["completed"] and exchange["chat_deleted"] is True
    assert any("rpcids=GzXR5e" in request["url"] for request in bundle["requests"])
    for secret in (psid, *page_secrets(sims["oct2026"], psid)):
        assert secret not in text
    assert_no_secret(done, psid, *page_secrets(sims["oct2026"], psid))


def test_a_signed_out_cookie_exits_1(sims: dict[str, str], tmp_path: Path) -> None:
    psid = f"nobody-doctor-{RUN}"
    done = doctor(sims["early2026"], psid, tmp_path / "data", "--json")

    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert not report["account"]["signed_in"] and report["account"]["state"] == "signed_out"
    assert any(problem.startswith("not signed in") for problem in report["problems"])
    assert any("no XSRF token" in problem for problem in report["problems"])
    assert "SNlM0e" not in report["page_tokens"]
    assert_no_secret(done, psid)


def test_a_renamed_element_is_reported_unmatched_and_exits_1(sims: dict[str, str], tmp_path: Path) -> None:
    """One generation: each generation's renamed picker is test_browser_diagnosis.py's; this is the
    command's exit code and report."""
    psid = f"paid-doctor-renamed-{RUN}"
    done = doctor(sims["oct2026-renamed"], psid, tmp_path / "data", "--json")

    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["account"]["signed_in"]  # otAQ7b still says 1000: only the page changed
    elements = {element["key"]: element for element in report["elements"]}
    assert (elements["mode_picker"]["presence"], elements["mode_picker"]["selector"]) == ("unmatched", None)
    assert elements["editor"]["presence"] == "matched"
    assert any(
        problem.startswith("no selector of the table matches the mode picker")
        for problem in report["problems"]
    )
    assert_no_secret(done, psid, *page_secrets(sims["oct2026-renamed"], psid))


@needs_headless_shell
def test_the_headless_shell_exits_1_naming_headlesschrome(sims: dict[str, str], tmp_path: Path) -> None:
    psid = f"paid-doctor-shell-{RUN}"
    done = doctor(sims["oct2026"], psid, tmp_path / "data", "--json", chromium_path=str(HEADLESS_SHELL))

    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["account"]["signed_in"]  # the account would serve: the browser is what is wrong
    assert any(brand.startswith("HeadlessChrome/") for brand in report["presentation"]["client_hint_brands"])
    assert report["problems"] == [
        "the page is told the browser is headless (HeadlessChrome in the client-hint brands)"
    ]
    # The lesser signs are there too, as warnings.
    assert {"window_chrome": False, "plugins": 0, "pdf_viewer": False}.items() <= report[
        "presentation"
    ].items()
    assert sum(warning.startswith("the page sees no") for warning in report["warnings"]) == 3
    assert_no_secret(done, psid, *page_secrets(sims["oct2026"], psid))
