"""Settings: env prefix, config file (TOML and JSON), keys required unless open access."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_PROMPT_BYTES, GatewaySettings


def test_refuses_to_start_without_keys_unless_open() -> None:
    with pytest.raises(ValidationError, match="no API key configured"):
        GatewaySettings()
    assert GatewaySettings(open_access=True).open_access


def test_env_prefix_and_comma_separated_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GATEWAY_API_KEYS", "k1, k2")
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GATEWAY_BROWSER__HEADLESS", "false")
    settings = GatewaySettings()
    assert [key.get_secret_value() for key in settings.api_keys] == ["k1", "k2"]
    assert settings.data_dir == tmp_path
    assert settings.browser == {"headless": "false"}
    assert settings.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    assert "k1" not in repr(settings)


def test_toml_config_file_under_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text('api_keys = ["from-file"]\nmax_body_bytes = 1000\nkeep_alive_interval = 3\n')
    monkeypatch.setenv("GATEWAY_CONFIG", str(config))
    monkeypatch.setenv("GATEWAY_MAX_BODY_BYTES", "2000")
    settings = GatewaySettings()
    assert [key.get_secret_value() for key in settings.api_keys] == ["from-file"]
    assert settings.max_body_bytes == 2000  # the environment wins over the file
    assert settings.keep_alive_interval == 3


def test_json_config_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps({"open_access": True, "fetch_allow_private": True}))
    monkeypatch.setenv("GATEWAY_CONFIG", str(config))
    settings = GatewaySettings()
    assert settings.open_access and settings.fetch_allow_private


def test_bad_config_path_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GATEWAY_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="not a file"):
        GatewaySettings(open_access=True)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        GatewaySettings(open_access=True, max_body_byte=3)  # type: ignore[call-arg]


def test_default_prompt_threshold_keeps_a_margin_below_geminis_wall() -> None:
    # Gemini cuts requests over ~130 KB silently (about 129,950 B measured to pass): a threshold on
    # the edge would lose the end of a prompt without any error, so at least 5 KB stay in reserve.
    assert GatewaySettings(open_access=True).max_prompt_bytes == DEFAULT_MAX_PROMPT_BYTES
    assert DEFAULT_MAX_PROMPT_BYTES <= 125_000
