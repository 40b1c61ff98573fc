"""Secrets stay secret (issue 11, item 3 and the key comparison of item 6): private file modes for
the stores, no cookie value or proxy password in a repr or a configuration error, and API keys
compared as digests."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from browser import PoolSettings
from browser._cookies import Cookie, from_session
from browser._launcher import proxy_host
from browser._store import CookieStore, StoredCookies
from service import auth, cli
from service.chat.longrun_registry import ResearchRegistry
from service.conversations import ChatRef, ConversationStore
from service.responses.store import ResponseStore
from service.settings import CONFIG_ENV, GatewaySettings
from service.videos.store import VideoStore

PASSWORD = "hunter2-proxy-pass"
PROXY = f"socks5://alice:{PASSWORD}@proxy.example:1080"
COOKIE = "paid-cookie-value-0123"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _usual_umask() -> object:
    # The default most systems run with: without our modes, files would come out 0644 / 0755.
    previous = os.umask(0o022)
    yield None
    os.umask(previous)


# -- file modes --


def test_cookie_store_is_created_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = CookieStore(data)
    store.save_sync("a", from_session(COOKIE, "ts"))
    assert _mode(data) == 0o700
    for suffix in ("", "-wal", "-shm"):
        path = data / f"cookies.sqlite3{suffix}"
        if path.exists():
            assert _mode(path) == 0o600, path.name
    assert _mode(data / "cookies.sqlite3") == 0o600


def test_a_world_readable_cookie_store_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "cookies.sqlite3"
    sqlite3.connect(path).close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"cookies.sqlite3{suffix}").write_bytes(b"")
    for item in tmp_path.iterdir():
        os.chmod(item, 0o644)
    store = CookieStore(tmp_path)
    store.save_sync("a", from_session(COOKIE))
    assert [(item.name, _mode(item)) for item in sorted(tmp_path.iterdir()) if _mode(item) != 0o600] == []
    loaded = store.load_sync("a")
    assert loaded is not None and loaded.cookies[0].value == COOKIE


def test_conversation_store_is_created_private_and_tightened(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh" / "conversations.sqlite3"
    with ConversationStore(fresh, ttl=60) as store:
        store.remember("k", ChatRef("acct", "c_1"))
        assert _mode(fresh) == 0o600
        assert _mode(fresh.parent) == 0o700
        wal = fresh.with_name(fresh.name + "-wal")
        assert not wal.exists() or _mode(wal) == 0o600
    loose = tmp_path / "conversations.sqlite3"
    sqlite3.connect(loose).close()
    os.chmod(loose, 0o644)
    with ConversationStore(loose, ttl=60):
        assert _mode(loose) == 0o600


def _open_research(path: Path) -> contextlib.AbstractContextManager[object]:
    registry = ResearchRegistry(path)
    registry.record("k", "acct", "c_1", "r_1", None)
    return contextlib.closing(registry)


def _open_videos(path: Path) -> contextlib.AbstractContextManager[object]:
    return contextlib.closing(VideoStore(path.parent))


def _open_responses(path: Path) -> contextlib.AbstractContextManager[object]:
    return ResponseStore(path, ttl=60, purge_interval=60)


@pytest.mark.parametrize(
    ("name", "opener"),
    [
        ("researches.sqlite3", _open_research),
        ("videos.sqlite3", _open_videos),
        ("responses.sqlite3", _open_responses),
    ],
)
def test_every_other_store_is_created_private_and_tightened(
    tmp_path: Path, name: str, opener: Callable[[Path], contextlib.AbstractContextManager[object]]
) -> None:
    """The research registry, the video jobs and the stored responses hold private prompts and
    answers: created 0600 in a 0700 directory, and a looser existing file is tightened."""
    fresh = tmp_path / "fresh" / name
    with opener(fresh):
        assert _mode(fresh) == 0o600
        assert _mode(fresh.parent) == 0o700
    loose = tmp_path / "loose" / name
    loose.parent.mkdir()
    sqlite3.connect(loose).close()
    os.chmod(loose, 0o644)
    with opener(loose):
        assert _mode(loose) == 0o600


# -- reprs --


def test_cookie_values_are_not_in_reprs() -> None:
    cookie = Cookie("__Secure-1PSID", COOKIE)
    assert COOKIE not in repr(cookie) and "__Secure-1PSID" in repr(cookie)
    stored = StoredCookies(cookies=from_session(COOKIE, "ts-secret"), saved_at=1.0)
    assert COOKIE not in repr(stored) and "ts-secret" not in repr(stored)
    assert Cookie.from_json(cookie.to_json()) == cookie  # the value is still stored and compared


def test_the_default_proxy_is_a_secret() -> None:
    settings = PoolSettings(default_proxy=PROXY)  # type: ignore[arg-type]  # coerced, as from a config
    assert isinstance(settings.default_proxy, SecretStr)
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    assert settings.default_proxy.get_secret_value() == PROXY
    assert proxy_host(settings.default_proxy) == "socks5://proxy.example:1080"
    gateway = GatewaySettings(open_access=True, browser={"default_proxy": PROXY})
    assert PASSWORD not in repr(gateway)


# -- configuration errors --


@pytest.mark.parametrize(
    ("browser", "field"),
    [
        ({"default_proxi": PROXY}, "browser.default_proxi"),  # a typo in the name
        ({"default_proxy": PROXY, "headles": True}, "browser.headles"),
        ({"default_proxy": [PROXY]}, "browser.default_proxy"),  # the wrong shape of a secret
        ({"tabs_per_account": 0, "remote_headers": {"x-auth": PASSWORD}}, "browser.tabs_per_account"),
    ],
)
def test_bad_browser_settings_fail_at_load_without_their_values(
    browser: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        GatewaySettings(open_access=True, browser=browser)
    text = str(info.value)
    assert field in text
    assert PASSWORD not in text
    assert PASSWORD not in repr(info.value)


def test_the_browser_data_dir_cannot_be_set_apart() -> None:
    with pytest.raises(ValidationError, match="gateway's data_dir"):
        GatewaySettings(open_access=True, browser={"data_dir": "/elsewhere"})


def test_a_typo_in_the_environment_is_a_clean_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_OPEN_ACCESS", "true")
    monkeypatch.setenv("GATEWAY_BROWSER__DEFAULT_PROXI", PROXY)
    with pytest.raises(ValidationError) as info:
        GatewaySettings()
    assert "default_proxi" in str(info.value) and PASSWORD not in str(info.value)


def test_serve_names_the_typo_in_a_config_file_and_never_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(CONFIG_ENV, "")  # main() sets it; restored after the test
    config = tmp_path / "gateway.toml"
    config.write_text(f'api_keys = ["k"]\n[browser]\ndefault_prox = "{PROXY}"\n', encoding="utf-8")
    assert cli.main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "browser.default_prox" in err
    assert PASSWORD not in err


def test_valid_browser_settings_still_reach_the_pool_unchanged() -> None:
    settings = GatewaySettings(
        open_access=True, browser={"headless": "false", "default_proxy": PROXY, "tabs_per_account": 2}
    )
    pool = PoolSettings(**{**settings.browser, "data_dir": settings.data_dir})
    assert pool.headless is False and pool.tabs_per_account == 2
    assert pool.default_proxy is not None and pool.default_proxy.get_secret_value() == PROXY


# -- API keys --


def test_keys_are_compared_as_equal_length_digests(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    keys = (SecretStr("short"), SecretStr("a-much-longer-configured-key-" * 3))
    assert auth.match_key("a-much-longer-configured-key-" * 3, keys) == 1
    assert auth.match_key("x", keys) is None
    assert len(seen) == 4
    # Every comparison is 32 bytes against 32 bytes: the time cannot depend on a key's length, and
    # neither the presented nor a configured key is ever what is compared.
    assert all(len(a) == len(b) == 32 for a, b in seen)
    assert seen[2][0] == hashlib.sha256(b"x").digest()
    assert all(b"short" not in a + b and b"configured" not in a + b for a, b in seen)
