"""Configured accounts: how they are written in env and config files, how they become the pool's
``AccountSpec``s at startup, and that a bad one is skipped without leaking its cookie."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from browser import AccountInfo, AccountSpec, AccountState
from service.pool_adapter import account_spec, add_configured_accounts
from service.settings import AccountConfig, GatewaySettings
from tests.support.cookie_files import Jar, firefox_sqlite

NETSCAPE = (
    "# Netscape HTTP Cookie File\n"
    ".google.com\tTRUE\t/\tTRUE\t1999999999\t__Secure-1PSID\tpaid-from-file\n"
    ".google.com\tTRUE\t/\tTRUE\t1999999999\t__Secure-1PSIDTS\tts-from-file\n"
)


def test_accounts_from_env_json(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = [{"name": "main", "psid": "paid-1", "psidts": "ts-1", "proxy": "http://u:p@proxy:3128"}]
    monkeypatch.setenv("GATEWAY_ACCOUNTS", json.dumps(accounts))
    settings = GatewaySettings(open_access=True)
    (main,) = settings.accounts
    assert main.name == "main" and main.psid is not None and main.psid.get_secret_value() == "paid-1"
    assert "paid-1" not in repr(settings) and "u:p" not in repr(settings)


def test_accounts_from_toml_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    config.write_text(
        'api_keys = ["k"]\n'
        "[browser]\n"
        'gemini_url = "http://localhost:9999"\n'
        "[[accounts]]\n"
        'name = "a"\n'
        'psid = "paid-a"\n'
        "[[accounts]]\n"
        'name = "b"\n'
        f'cookie_file = "{tmp_path / "b.txt"}"\n'
    )
    monkeypatch.setenv("GATEWAY_CONFIG", str(config))
    settings = GatewaySettings()
    assert [account.name for account in settings.accounts] == ["a", "b"]
    assert settings.accounts[1].cookie_file == tmp_path / "b.txt"
    assert settings.browser == {"gemini_url": "http://localhost:9999"}


@pytest.mark.parametrize(
    "accounts",
    [
        [{"name": "x"}],  # no cookie at all
        [{"name": "x", "psid": "p", "cookie_file": "c.txt"}],  # two sources
        [{"name": "x", "psid": "p"}, {"name": "x", "psid": "q"}],  # duplicate names
        [{"name": "has space", "psid": "p"}],  # the name becomes an id in paths and logs
    ],
)
def test_bad_account_entries_are_refused(accounts: list[dict[str, str]]) -> None:
    with pytest.raises(ValidationError):
        GatewaySettings(open_access=True, accounts=accounts)  # type: ignore[arg-type]


def test_account_spec_reads_the_cookie_file(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(NETSCAPE)
    spec = account_spec(AccountConfig(name="f", cookie_file=path, proxy=SecretStr("socks5://h:1080")))
    assert spec.name == "f" and spec.psid is None and spec.proxy == "socks5://h:1080"
    cookies = {cookie.name: cookie.value for cookie in spec.parse_cookies()}
    assert cookies["__Secure-1PSID"] == "paid-from-file"
    assert cookies["__Secure-1PSIDTS"] == "ts-from-file"


def test_account_spec_reads_a_binary_firefox_cookie_file(tmp_path: Path) -> None:
    """A configured ``cookie_file`` may be Firefox's ``cookies.sqlite``: read as bytes, its Google
    cookies kept, another site's dropped."""
    jar = Jar(psid="paid-from-sqlite")
    path = tmp_path / "cookies.sqlite"
    path.write_bytes(firefox_sqlite(jar))
    spec = account_spec(AccountConfig(name="ff", cookie_file=path))
    cookies = {cookie.name: cookie.value for cookie in spec.parse_cookies()}
    assert cookies == jar.google()


class RecordingPool:
    def __init__(self) -> None:
        self.specs: list[AccountSpec] = []

    async def add_account(self, spec: AccountSpec) -> AccountInfo:
        spec.parse_cookies()  # raises the browser layer's CookieFormatError like the real pool
        self.specs.append(spec)
        return AccountInfo(
            id=spec.name or "?",
            name=spec.name or "?",
            state=AccountState.READY,
            cooling_until={},
            blocked_until=None,
            tier="paid",
            modes=frozenset(),
            tools=frozenset(),
            active_turns=0,
            last_error=None,
            proxy=None,
        )


async def test_unreadable_accounts_are_skipped_without_leaking(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("secret-garbage-value not a cookie export")
    accounts = (
        AccountConfig(name="ok", psid=SecretStr("paid-ok"), psidts=SecretStr("ts-ok")),
        AccountConfig(name="missing", cookie_file=tmp_path / "nope.txt"),
        AccountConfig(name="garbage", cookie_file=garbage),
    )
    pool = RecordingPool()
    with caplog.at_level(logging.INFO, logger="service.pool_adapter"):
        added = await add_configured_accounts(pool, accounts)
    assert added == 1
    assert [(spec.name, spec.psid, spec.psidts) for spec in pool.specs] == [("ok", "paid-ok", "ts-ok")]
    assert "missing" in caplog.text and "garbage" in caplog.text
    assert "secret-garbage-value" not in caplog.text and "paid-ok" not in caplog.text
