"""The command line without starting anything: ``serve`` refuses bad settings with a clear message;
the demo's settings point the browser at the simulator with the demo accounts and key."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service import cli
from service.cli import DEMO_KEY, SUPERVISED_ENV, demo_admin_key, demo_settings, main, usage_text
from service.cli_parser import build_parser
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
    settings = demo_settings("http://localhost:1234", tmp_path, "adm-1")
    assert settings is not None
    assert [key.get_secret_value() for key in settings.api_keys] == [DEMO_KEY]
    assert [key.get_secret_value() for key in settings.admin_keys] == ["adm-1"]
    assert settings.browser["gemini_url"] == "http://localhost:1234"
    assert settings.data_dir == tmp_path
    assert settings.watermark_calibrate_at_start
    kinds = sorted(a.psid.get_secret_value().split("-")[0] for a in settings.accounts if a.psid)
    assert kinds == ["free", "paid"]

    # Keys from the environment add to the demo's instead of replacing them.
    monkeypatch.setenv("GATEWAY_API_KEYS", "sk-mine,demo")
    monkeypatch.setenv("GATEWAY_ADMIN_KEYS", "adm-mine")
    configured = demo_settings("http://localhost:1234", tmp_path, "adm-1")
    assert configured is not None
    assert [key.get_secret_value() for key in configured.api_keys] == [DEMO_KEY, "sk-mine"]
    assert [key.get_secret_value() for key in configured.admin_keys] == ["adm-1", "adm-mine"]
    assert demo_admin_key() != demo_admin_key()


def test_usage_text_shows_curl_the_sdk_and_the_operators_view() -> None:
    base = "http://127.0.0.1:8000/gemini_official/v1"
    text = usage_text(base, "demo", "http://localhost:5555", admin_key="adm-x", more_keys=2)
    assert "curl http://127.0.0.1:8000/gemini_official/v1/chat/completions" in text
    assert 'OpenAI(base_url="http://127.0.0.1:8000/gemini_official/v1", api_key="demo")' in text
    assert "API key: demo (and the 2 configured ones)" in text
    assert "dashboard: http://127.0.0.1:8000/admin/ui" in text and "admin key adm-x" in text
    assert 'curl http://127.0.0.1:8000/metrics -H "Authorization: Bearer adm-x"' in text


def _captured_binds(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], *, with_logging: bool = False
) -> dict[str, Any]:
    """Run ``main(argv)`` as the supervised child, recording where it would listen (nothing starts)
    and, ``with_logging``, how it would log."""
    seen: dict[str, Any] = {}
    logs: dict[str, Any] = {}

    def fake_run(app: object, *, host: str, port: int, **logging: Any) -> None:
        seen.update(host=host, port=port)
        logs.update(logging)

    def fake_demo(args: argparse.Namespace) -> int:
        seen.update(host=args.host, port=args.port)
        return 0

    monkeypatch.setenv(SUPERVISED_ENV, "1")  # serve in this process instead of a child
    monkeypatch.setattr(cli, "_port_free", lambda host, port: True)  # nothing binds here
    monkeypatch.setenv("GATEWAY_API_KEYS", "sk-cli")
    monkeypatch.setattr(cli.uvicorn, "run", fake_run)
    monkeypatch.setattr(cli, "_demo", fake_demo)
    monkeypatch.setattr(cli, "configure_logging", lambda *args: logs.update(configured=args))
    assert main(argv) == 0
    return seen if not with_logging else {**seen, **logs}


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_default_bind_is_loopback_on_port_from_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    monkeypatch.chdir(tmp_path)  # serve's settings would name ./data; keep it out of the repo
    monkeypatch.delenv("PORT", raising=False)
    assert _captured_binds(monkeypatch, [command]) == {"host": "127.0.0.1", "port": 8000}
    monkeypatch.setenv("PORT", "9123")
    assert _captured_binds(monkeypatch, [command]) == {"host": "127.0.0.1", "port": 9123}
    explicit = _captured_binds(monkeypatch, [command, "--host", "0.0.0.0", "--port", "7000"])
    assert explicit == {"host": "0.0.0.0", "port": 7000}


def test_serve_logs_as_configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEWAY_LOG_LEVEL", "debug")
    monkeypatch.setenv("GATEWAY_LOG_FORMAT", "json")
    seen = _captured_binds(monkeypatch, ["serve"], with_logging=True)
    # One handler for every line (uvicorn's too, no config of its own); the gateway's request line
    # replaces uvicorn's access line.
    assert seen["configured"] == ("DEBUG", "json")
    assert (seen["log_level"], seen["log_config"], seen["access_log"]) == ("debug", None, False)


def _undocumented(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest for choice in action._choices_actions if choice.help}
            for name, sub in action.choices.items():
                if name not in helped:
                    yield f"{path} {name}"
                yield from _undocumented(sub, f"{path} {name}")
        elif not action.help:
            yield f"{path} {'/'.join(action.option_strings) or action.dest}"


def test_every_command_and_option_has_its_help() -> None:
    """One parser for the whole CLI (``service.cli_parser``), each command and option with help:
    the CLI reference is generated from it."""
    parser = build_parser()
    assert list(_undocumented(parser, "python -m service")) == []
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == {"serve", "demo", "watermark", "accounts", "keys", "doctor", "state"}
