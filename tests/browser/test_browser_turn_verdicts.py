"""What a turn concludes from an answer, without a browser: a non-200 StreamGenerate as a typed
error, Gemini's refusal, a downgraded model; and the split modules keep the pool out of the turn."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from browser._answers import raise_on_downgrade, raise_on_error
from browser._driver import Capabilities, PageModel
from browser._http_status import raise_for_stream_status
from browser._requests import ModeFamily
from browser.errors import (
    AccountUnavailable,
    HTTPStatusError,
    TransportError,
    UnavailableReason,
    UpstreamRejected,
)
from browser.protocol import TurnSnapshot

ROOT = Path(__file__).resolve().parents[2]
STREAM = "https://gemini.example/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate"

# -- a non-200 StreamGenerate answer --


@pytest.mark.parametrize(
    ("status", "url", "reason"),
    [
        (302, "https://www.google.com/sorry/index?continue=x", UnavailableReason.CAPTCHA),
        (200, "https://accounts.google.com/ServiceLogin?continue=x", UnavailableReason.SIGNED_OUT),
        (401, STREAM, UnavailableReason.SIGNED_OUT),
        (403, STREAM, UnavailableReason.SIGNED_OUT),
    ],
)
def test_where_google_sent_the_page_is_an_account_problem(
    status: int, url: str, reason: UnavailableReason
) -> None:
    with pytest.raises(AccountUnavailable) as raised:
        raise_for_stream_status(status, url)
    assert raised.value.reason is reason


@pytest.mark.parametrize("status", [400, 429, 500, 502])
def test_any_other_status_is_ours_to_report_not_a_gemini_code(status: int) -> None:
    with pytest.raises(HTTPStatusError) as raised:
        raise_for_stream_status(status, STREAM)
    assert raised.value.status == status and raised.value.what == "StreamGenerate"
    assert isinstance(raised.value, TransportError) and not isinstance(raised.value, UpstreamRejected)


# -- Gemini's refusal --


def test_an_error_frame_with_nothing_to_show_is_a_refusal() -> None:
    with pytest.raises(UpstreamRejected) as raised:
        raise_on_error(TurnSnapshot(error_code=1037, error_status=8))
    assert (raised.value.code, raised.value.status) == (1037, 8)


def test_an_error_frame_after_visible_content_is_left_to_the_caller() -> None:
    raise_on_error(TurnSnapshot(text="partial answer", error_code=1096))  # nothing raised
    raise_on_error(TurnSnapshot(text="a complete answer"))


# -- the served-model echo --

_PAID = Capabilities(
    tier="paid",
    modes=frozenset(ModeFamily),
    models=(
        PageModel("aa01", "3.5 Flash", ModeFamily.FLASH),
        PageModel("aa02", "3.1 Pro", ModeFamily.PRO),
        PageModel("aa03", "3.5 Flash-Lite", None),
    ),
)


@pytest.mark.parametrize(
    ("hex_id", "label"),
    [
        ("aa02", None),  # the account's Pro, by its hex
        ("aa03", None),  # the account's Flash-Lite, outside every family
        (None, "3.5 Flash-Lite"),  # a signed-out visitor's model, by its label only
        ("ffff", "3.1 Pro"),  # a hex the account does not list: its label decides
    ],
)
def test_a_model_of_another_family_is_a_downgrade(hex_id: str | None, label: str | None) -> None:
    snapshot = TurnSnapshot(text="an answer", served_model_id=hex_id, served_model_label=label)
    with pytest.raises(AccountUnavailable) as raised:
        raise_on_downgrade(_PAID, ModeFamily.FLASH, snapshot)
    assert raised.value.reason is UnavailableReason.DOWNGRADED


@pytest.mark.parametrize(
    ("hex_id", "label"),
    [("aa01", None), (None, "3.5 Flash"), (None, None), ("ffff", "a name we cannot place")],
)
def test_the_asked_family_or_an_unplaceable_echo_is_accepted(hex_id: str | None, label: str | None) -> None:
    snapshot = TurnSnapshot(text="an answer", served_model_id=hex_id, served_model_label=label)
    raise_on_downgrade(_PAID, ModeFamily.FLASH, snapshot)  # nothing raised


# -- the split: the pool imports the turn, never the other way round --

_TURN_SIDE = ["_turn", "_answers", "_http_status", "_page_fallback", "_originals"]


@pytest.mark.parametrize("module", _TURN_SIDE)
def test_the_turn_side_does_not_import_the_pool(module: str) -> None:
    tree = ast.parse((ROOT / "browser" / f"{module}.py").read_text(encoding="utf-8"))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module is not None
    } | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert "browser._pool" not in imported
    assert not any(isinstance(node, ast.ImportFrom) and node.level > 0 for node in ast.walk(tree))
