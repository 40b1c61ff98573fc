"""``accounts import-profile`` and the refusals of ``accounts login`` that come before any window:
a profile from a newer Chromium, a directory that is not a profile, a profile in use, no display.
What is imported is adopted by a running gateway (admin API) or at the next start (registry)."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest

from browser import SigninMethod
from service.admin.registry import AddedAccounts
from service.cli import main
from tests.conftest import CHROMIUM_PATH
from tests.service.admin_pool import AdminPool
from tests.service.test_admin_accounts import ADMIN_KEY, gateway


def installed_major() -> int:
    from browser import PoolSettings, chromium_major

    return chromium_major(PoolSettings(chromium_path=CHROMIUM_PATH))


def fake_profile(directory: Path, version: str) -> Path:
    """A user-data directory as Chromium leaves it (the files import-profile reads or skips)."""
    (directory / "Default").mkdir(parents=True)
    (directory / "Local State").write_text("{}")
    (directory / "Last Version").write_text(version)
    (directory / "Default" / "Cookies").write_bytes(b"SQLite format 3\x00")
    (directory / "SingletonLock").symlink_to("another-host-4242")
    return directory


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object] | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out[out.index("{") :]) if code == 0 else None, out + err


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GATEWAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GATEWAY_BROWSER", json.dumps({"chromium_path": CHROMIUM_PATH}))
    monkeypatch.delenv("GATEWAY_ADMIN_URL", raising=False)
    return tmp_path / "data"


def registry_entries(data: Path) -> dict[str, SigninMethod]:
    if not (data / "added_accounts.sqlite3").exists():
        return {}
    with AddedAccounts(data / "added_accounts.sqlite3") as registry:
        return {entry.id: entry.spec.signin_method for entry in registry.all()}


def test_a_profile_from_a_newer_chromium_is_refused(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    major = installed_major()
    source = fake_profile(tmp_path / "newer", f"{major + 1}.0.7000.1")
    code, _, text = run(capsys, "accounts", "import-profile", "desk", str(source))
    assert code == 1
    assert f"Chromium {major + 1}, newer than the installed Chromium {major}" in text
    assert "cannot open a profile from a newer version" in text
    assert not (data / "profiles" / "desk").exists() and registry_entries(data) == {}


def test_a_directory_that_is_not_a_profile_is_refused(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, text = run(capsys, "accounts", "import-profile", "desk", str(empty))
    assert code == 1 and "is not a Chromium user-data directory" in text
    # One profile inside a user-data directory (the usual mistake): the message names the parent.
    source = fake_profile(tmp_path / "user-data", f"{installed_major()}.0.1.2")
    code, _, text = run(capsys, "accounts", "import-profile", "desk", str(source / "Default"))
    assert code == 1 and f"give {source}" in text
    code, _, text = run(capsys, "accounts", "import-profile", "desk", str(tmp_path / "missing"))
    assert code == 1 and "is not a directory" in text
    assert not (data / "profiles" / "desk").exists() and registry_entries(data) == {}


def test_an_imported_profile_is_copied_private_and_starts_with_the_gateway(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = fake_profile(tmp_path / "user-data", f"{installed_major()}.0.1.2")
    code, result, _ = run(capsys, "accounts", "import-profile", "desk", str(source))
    assert code == 0 and result is not None
    assert result["id"] == "desk" and result["signin_method"] == "profile_import"
    target = data / "profiles" / "desk"
    assert (target / "Default" / "Cookies").read_bytes() == b"SQLite format 3\x00"
    assert (target / "Last Version").is_file()
    # The source's run files (its lock, pointing at another machine's process) stay behind.
    assert not (target / "SingletonLock").is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert stat.S_IMODE((target / "Default").stat().st_mode) == 0o700
    assert stat.S_IMODE((target / "Default" / "Cookies").stat().st_mode) == 0o600
    assert registry_entries(data) == {"desk": SigninMethod.PROFILE_IMPORT}
    code, listed, _ = run(capsys, "accounts", "list")
    assert listed is not None and [(a["id"], a["signin_method"]) for a in listed["data"]] == [  # type: ignore[attr-defined]
        ("desk", "profile_import")
    ]
    # A second import does not overwrite the profile unless asked to.
    code, _, text = run(capsys, "accounts", "import-profile", "desk", str(source))
    assert code == 1 and "--replace" in text
    (source / "Default" / "Cookies").write_bytes(b"SQLite format 3\x00new")
    code, _, _ = run(capsys, "accounts", "import-profile", "desk", str(source), "--replace")
    assert code == 0 and (target / "Default" / "Cookies").read_bytes().endswith(b"new")
    assert registry_entries(data) == {"desk": SigninMethod.PROFILE_IMPORT}


def test_an_imported_profile_is_adopted_by_a_running_gateway(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    source = fake_profile(tmp_path / "user-data", f"{installed_major()}.0.1.2")
    pool = AdminPool(account_list=[])
    with gateway(data, pool) as url:
        monkeypatch.setenv("GATEWAY_DATA_DIR", str(data))
        monkeypatch.setenv("GATEWAY_BROWSER", json.dumps({"chromium_path": CHROMIUM_PATH}))
        monkeypatch.setenv("GATEWAY_ADMIN_KEY", ADMIN_KEY)
        code, result, _ = run(capsys, "accounts", "import-profile", "desk", str(source), "--url", url)
        assert code == 0 and result is not None and result["id"] == "desk"
    assert [(spec.name, spec.signin_method, spec.parse_cookies()) for spec in pool.added] == [
        ("desk", SigninMethod.PROFILE_IMPORT, [])
    ]
    assert (data / "profiles" / "desk" / "Local State").is_file()
    # The gateway keeps it for its next start, as any account added through the admin API.
    assert registry_entries(data) == {"desk": SigninMethod.PROFILE_IMPORT}


def test_login_needs_a_display_and_says_what_to_do_without_one(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    code, _, text = run(capsys, "accounts", "login", "desk")
    assert code == 1 and "needs a display" in text
    assert "live view" in text and "import-profile" in text
    assert registry_entries(data) == {}


def test_login_refuses_a_profile_a_running_chromium_holds(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", ":4242")  # never reached: the lock is seen first
    profile = data / "profiles" / "desk"
    profile.mkdir(parents=True)
    # Chromium's lock names this machine and a live process (this one stands in for the gateway's).
    (profile / "SingletonLock").symlink_to(f"{socket.gethostname()}-{os.getpid()}")
    code, _, text = run(capsys, "accounts", "login", "desk")
    assert code == 1 and f"open in a running Chromium (pid {os.getpid()})" in text
    assert "live view" in text
    assert registry_entries(data) == {}


def test_the_remote_mode_refuses_profile_accounts(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "GATEWAY_BROWSER", json.dumps({"launch_mode": "remote", "remote_endpoint": "ws://127.0.0.1:9/x"})
    )
    code, _, text = run(capsys, "accounts", "import-profile", "desk", str(tmp_path))
    assert code == 1 and "launch_mode=remote cannot open a local profile" in text


def test_the_sign_in_window_is_a_plain_browser_at_the_sign_in_page(tmp_path: Path) -> None:
    from browser import PoolSettings, signin_command

    real = PoolSettings(chromium_args=(), data_dir=tmp_path)
    command = signin_command(real, tmp_path / "p", "http://user:secret@proxy.example:3128")
    assert command[0] == real.chromium_path and f"--user-data-dir={tmp_path / 'p'}" in command
    assert "--proxy-server=http://proxy.example:3128" in command and "secret" not in " ".join(command)
    assert "--no-sandbox" not in command  # only when the gateway's own switches turn the sandbox off
    assert (
        command[-1]
        == "https://accounts.google.com/ServiceLogin?continue=https%3A%2F%2Fgemini.google.com%2Fapp"
    )
    for switch in ("--remote-debugging", "--enable-automation", "--headless", "AutomationControlled"):
        assert not any(switch in arg for arg in command), command
    sim = PoolSettings(gemini_url="http://127.0.0.1:8123", data_dir=tmp_path)
    command = signin_command(sim, tmp_path / "p", None)
    assert command[-1] == "http://127.0.0.1:8123/ServiceLogin?continue=/app"
    assert "--no-sandbox" in command and not any(arg.startswith("--proxy-server") for arg in command)
