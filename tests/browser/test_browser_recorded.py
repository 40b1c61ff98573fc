"""Every evidence bundle under tests/fixtures/recorded/ (``doctor --record``, docs/evidence-bundles.md)
replayed through the gateway's readers: the otAQ7b payload through the account-status decoder, the
probe's StreamGenerate body through the framing check and the turn decoder, and the menus' markup,
loaded into real Chromium, through the driver's own row readers and classification. Each must agree
with what the bundle's report says the gateway read when it was recorded.

The bundles shipped here were recorded from the simulator's three UI generations, as examples of the
format; a bundle recorded from a real account is dropped into the same folder and then guards the
readers the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from browser._driver import PageDriver
from browser._evidence import FORMAT
from browser._settings import PoolSettings
from browser._status import capabilities_of
from browser.protocol import check_framing, decode_account_status, decode_turn
from tests.conftest import NewContext

pytestmark = pytest.mark.browser

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"
BUNDLES = sorted(RECORDED.glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return bundle


def test_there_is_a_bundle_of_every_simulator_generation() -> None:
    generations = {_load(path)["report"]["account"]["ui_generation"] for path in BUNDLES}
    assert {"oct2026", "mid2026", "early2026"} <= generations


@pytest.mark.parametrize("path", BUNDLES, ids=[path.stem for path in BUNDLES])
def test_the_account_status_payload_decodes_as_recorded(path: Path) -> None:
    bundle = _load(path)
    assert bundle["format"] == FORMAT
    account = bundle["report"]["account"]
    payload = bundle["account_status"]["payload"]
    assert payload is not None, bundle["account_status"]
    decoded = decode_account_status(payload)
    caps = capabilities_of(decoded)
    assert decoded.status_code == bundle["report"]["account_status"]["status_code"]
    assert [model.label for model in caps.models] == account["models"]
    assert sorted(mode.value for mode in caps.modes) == account["modes"]
    assert caps.tier == account["tier"]


@pytest.mark.parametrize("path", BUNDLES, ids=[path.stem for path in BUNDLES])
def test_the_probe_exchange_decodes_as_recorded(path: Path) -> None:
    exchange = _load(path)["stream_generate"]
    body = exchange["response"]["body"].encode("utf-8")
    assert check_framing(body) == []
    snapshot = decode_turn(body)
    recorded = exchange["decoded"]
    assert snapshot.completed is recorded["completed"] is True
    assert snapshot.text == recorded["text"] and snapshot.text
    assert (snapshot.served_model_id, snapshot.served_model_label) == (
        recorded["served_model_id"],
        recorded["served_model_label"],
    )
    # Nothing secret travels: the prompt replaced, no token in the form, cookies and f.sid redacted.
    request = exchange["request"]
    assert "<prompt>" in request["f_req"] and "Reply with" not in request["f_req"]
    assert "at" in request["form_fields"] and "at" not in request
    assert request["headers"].get("cookie") in (None, "<redacted>")
    assert "f.sid=<redacted>" in request["url"]


SIMULATOR_SECRETS = ("paid-recorded-example", "AD1_sim")  # the cookie recorded with, the sim's at token


@pytest.mark.parametrize(
    "path", [p for p in BUNDLES if p.stem.startswith("simulator-")], ids=lambda p: p.stem
)
def test_no_secret_of_the_recording_is_in_the_bundle(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not [secret for secret in SIMULATOR_SECRETS if secret in text]


async def _page_with(new_context: NewContext, markup: str) -> Page:
    page = await (await new_context()).new_page()
    await page.set_content(f"<!doctype html><html><body>{markup}</body></html>")
    return page


@pytest.mark.parametrize("path", BUNDLES, ids=[path.stem for path in BUNDLES])
async def test_the_menus_read_as_recorded(new_context: NewContext, path: Path) -> None:
    bundle = _load(path)
    dom, account = bundle["dom"], bundle["report"]["account"]
    settings = PoolSettings(ui_timeout=3)
    picker = PageDriver(await _page_with(new_context, dom["picker_menu"]), settings).picker
    rows = await picker.read_rows(picker.sel.mode_items)
    assert [row.__dict__ for row in rows] == dom["picker_rows"]
    models = picker.models(rows)
    # Every model the account-status answer listed is a model row of the picker, with its family.
    assert {model.label for model in models if model.family} >= {
        label for label in account["models"] if "lite" not in label.lower()
    }
    assert picker.control(rows, models).value == account["thinking"]
    toolbox = PageDriver(await _page_with(new_context, dom["tools_menu"]), settings).toolbox
    tool_rows = await toolbox.read_rows()
    assert [row.__dict__ for row in tool_rows] == dom["tool_rows"]
    tools = sorted(tool.value for tool in map(toolbox.tool_of, tool_rows) if tool)
    assert tools == account["tools"]
