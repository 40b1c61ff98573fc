"""The command line without starting anything: ``serve`` refuses bad settings with a clear message;
the demo's settings point the browser at the simulator with the demo accounts and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli import DEMO_KEY, demo_settings, main, usage_text
from service.settings import CONFIG_ENV


def test_serve_refuses_to_start_without_an_api_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "gateway not started" in err and "GATEWAY_API_KEYS" in err and "GATEWAY_OPEN_ACCESS" in err


def test_serve_refuses_a_bad_config_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(CONFIG_ENV, "restored-after-the-test")
    secret = "paid-very-secret-cookie"
    config = tmp_path / "gateway.json"
    config.write_text(f'{{"api_keys": ["k"], "accounts": [{{"name": "a b", "psid": "{secret}"}}]}}')
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "accounts.0.name" in err and secret not in err
    assert main(["serve", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "not a file" in capsys.readouterr().err


def test_demo_settings_use_the_simulator_the_demo_accounts_and_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = demo_settings("http://localhost:1234", tmp_path)
    assert settings is not None
    assert [key.get_secret_value() for key in settings.api_keys] == [DEMO_KEY]
    assert settings.browser["gemini_url"] == "http://localhost:1234"
    assert settings.data_dir == tmp_path
    kinds = sorted(a.psid.get_secret_value().split("-")[0] for a in settings.accounts if a.psid)
    assert kinds == ["free", "paid"]

    monkeypatch.setenv("GATEWAY_API_KEYS", "sk-mine")
    configured = demo_settings("http://localhost:1234", tmp_path)
    assert configured is not None
    assert [key.get_secret_value() for key in configured.api_keys] == ["sk-mine"]


def test_usage_text_shows_curl_and_the_sdk() -> None:
    text = usage_text("http://127.0.0.1:8000/gemini_official/v1", "demo", "http://localhost:5555")
    assert "curl http://127.0.0.1:8000/gemini_official/v1/chat/completions" in text
    assert 'OpenAI(base_url="http://127.0.0.1:8000/gemini_official/v1", api_key="demo")' in text
