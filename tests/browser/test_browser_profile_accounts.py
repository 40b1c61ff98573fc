"""Profile accounts: the session lives in the account's own Chromium profile (signed in there by a
person), served from a persistent context whatever the launch mode; the store keeps a copy but never
overwrites the profile's cookies at start."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from browser import (
    AccountSpec,
    AccountState,
    BrowserPool,
    CookieFormatError,
    LaunchFailed,
    LaunchMode,
    PoolSettings,
    SigninMethod,
    TurnRequest,
    import_profile,
    profile_dir,
)
from browser._cookies import Cookie, for_site
from browser._store import CookieStore
from tests.browser.conftest import PoolOf, Sim, cookie, public_id

pytestmark = pytest.mark.browser

INSIDE = SigninMethod.SIGNED_IN_INSIDE


def _settings(sim_url: str, data_dir: Path, mode: LaunchMode = LaunchMode.SHARED) -> PoolSettings:
    return PoolSettings(
        gemini_url=sim_url,
        data_dir=data_dir,
        launch_mode=mode,
        ui_timeout=5,
        navigation_timeout=15,
        cookie_save_interval=3600,
        health_interval=3600,
    )


async def _sign_in(pool: BrowserPool, account_id: str, psid: str) -> None:
    """What a person's sign-in leaves in the profile: a lasting session cookie for the site (set here
    straight into the account's context; the sign-in pages themselves are tested end to end)."""
    context = pool._accounts[account_id].context
    assert context is not None
    expires = time.time() + 86400
    await context.add_cookies(
        for_site([Cookie("__Secure-1PSID", psid, expires=expires, http_only=True)], pool.settings.base_url)
    )


@pytest.mark.parametrize("mode", [LaunchMode.SHARED, LaunchMode.PERSISTENT])
async def test_a_new_profile_account_starts_signed_out_then_serves_once_signed_in(
    pool_of: PoolOf, sim_url: str, sim: Sim, tmp_path: Path, mode: LaunchMode
) -> None:
    settings = _settings(sim_url, tmp_path, mode)
    psid = cookie("paid")
    async with pool_of(settings) as pool:
        info = await pool.add_account(AccountSpec(name="desk", signin_method=INSIDE))
        # An empty profile: signed out, its page open (to be signed in from there), nothing stored.
        assert info.state is AccountState.SIGNED_OUT and info.signin_method == "signed_in_inside"
        account = pool._accounts["desk"]
        assert account.context is not None
        # A persistent context: a Chromium runs on the account's profile (and holds its lock).
        assert (tmp_path / "profiles" / "desk" / "SingletonLock").is_symlink()
        assert (tmp_path / "profiles" / "desk").is_dir()
        assert profile_dir(settings, "desk") == tmp_path / "profiles" / "desk"
        assert (profile_dir(settings, "desk").stat().st_mode & 0o777) == 0o700
        assert await CookieStore(tmp_path).load("desk") is None
        await _sign_in(pool, "desk", psid)
        info = await pool.check_account("desk")
        assert info.state is AccountState.READY and info.tier == "paid"
        async with pool.turn(TurnRequest(prompt="from the profile")) as turn:
            async for _ in turn:
                pass
        assert turn.final is not None and "Echo: from the profile" in turn.final.text
    # The profile's cookies were copied to the store as any account's are.
    stored = await CookieStore(tmp_path).load("desk")
    assert stored is not None and any(c.name == "__Secure-1PSID" and c.value == psid for c in stored.cookies)


async def test_the_profile_s_cookies_win_over_older_stored_ones(
    pool_of: PoolOf, sim_url: str, sim: Sim, tmp_path: Path
) -> None:
    settings = _settings(sim_url, tmp_path)
    fresh = cookie("paid")
    async with pool_of(settings) as pool:
        await pool.add_account(AccountSpec(name="desk", signin_method=INSIDE))
        await _sign_in(pool, "desk", fresh)
    # The store holds another session saved later (say, one that ended since): the profile is where
    # the session was signed in, so it must not be overwritten by the store's copy at the next start.
    stale = cookie("free")
    await CookieStore(tmp_path).save(
        "desk", [Cookie("__Secure-1PSID", stale, http_only=True)], read_at=time.time() + 60
    )
    async with pool_of(settings) as pool:
        info = await pool.add_account(AccountSpec(name="desk", signin_method=INSIDE))
        assert info.state is AccountState.READY and info.tier == "paid", "the profile's session serves"


async def test_a_profile_that_lost_its_session_serves_from_the_copy_read_from_it(
    pool_of: PoolOf, sim_url: str, sim: Sim, tmp_path: Path
) -> None:
    # Chromium writes its cookie file lazily and was seen to exit without writing a session added
    # a moment before (CI, a relaunch right after a sign-in). Here the file is gone outright.
    settings = _settings(sim_url, tmp_path)
    psid = cookie("paid")
    async with pool_of(settings) as pool:
        await pool.add_account(AccountSpec(name="desk", signin_method=INSIDE))
        await _sign_in(pool, "desk", psid)
        await pool._accounts["desk"].save_cookies()
    for name in ("Cookies", "Cookies-journal"):
        (profile_dir(settings, "desk") / "Default" / name).unlink(missing_ok=True)
    async with pool_of(settings) as pool:
        info = await pool.add_account(AccountSpec(name="desk", signin_method=INSIDE))
        assert info.state is AccountState.READY and info.tier == "paid", info.last_error


async def test_forgetting_a_profile_account_deletes_its_profile(
    pool_of: PoolOf, sim_url: str, sim: Sim, tmp_path: Path
) -> None:
    settings = _settings(sim_url, tmp_path)
    async with pool_of(settings) as pool:
        await pool.add_account(AccountSpec(name="gone", signin_method=INSIDE))
        await pool.add_account(AccountSpec(name="kept", signin_method=SigninMethod.PROFILE_IMPORT))
        await pool.remove_account("kept")
        await pool.remove_account("gone", forget=True)
        assert pool.accounts() == []
    assert not (tmp_path / "profiles" / "gone").exists()
    assert (tmp_path / "profiles" / "kept").is_dir()


async def test_remote_mode_refuses_a_profile_account(tmp_path: Path) -> None:
    settings = PoolSettings(
        gemini_url="http://127.0.0.1:9",
        data_dir=tmp_path,
        launch_mode=LaunchMode.REMOTE,
        remote_endpoint="ws://127.0.0.1:9/never",
    )
    async with BrowserPool(settings) as pool:
        with pytest.raises(LaunchFailed, match="local Chromium profile"):
            await pool.add_account(AccountSpec(name="desk", signin_method=INSIDE))
        assert pool.accounts() == []
    assert not (tmp_path / "profiles").exists()


def test_a_profile_spec_has_a_name_and_no_cookies() -> None:
    assert AccountSpec(name="desk", signin_method=INSIDE).parse_cookies() == []
    with pytest.raises(CookieFormatError, match="needs a name"):
        AccountSpec(signin_method=INSIDE).parse_cookies()
    with pytest.raises(CookieFormatError, match="takes no cookies"):
        AccountSpec(name="desk", signin_method=INSIDE, psid="paid-x").parse_cookies()


async def test_a_profile_signed_in_elsewhere_serves_once_imported(
    pool_of: PoolOf, sim_url: str, sim: Sim, tmp_path: Path
) -> None:
    # "Elsewhere": another data directory whose Chromium profile was signed in (its cookies
    # written to disk by Chromium itself, encrypted as the gateway's Chromium reads them).
    elsewhere = _settings(sim_url, tmp_path / "elsewhere")
    psid = cookie("paid")
    async with pool_of(elsewhere) as pool:
        await pool.add_account(AccountSpec(name="laptop", signin_method=INSIDE))
        await _sign_in(pool, "laptop", psid)
        checked = await pool.check_account("laptop")
        assert checked.state is AccountState.READY, checked.last_error
    source = profile_dir(elsewhere, "laptop")
    assert (source / "Last Version").is_file()
    settings = _settings(sim_url, tmp_path / "gateway")
    imported = import_profile(settings, "desk", source)
    assert imported == profile_dir(settings, "desk")
    async with pool_of(settings) as pool:
        info = await pool.add_account(AccountSpec(name="desk", signin_method=SigninMethod.PROFILE_IMPORT))
        assert info.state is AccountState.READY and info.tier == "paid"
        assert info.signin_method == "profile_import"
        async with pool.turn(TurnRequest(prompt="from the imported profile")) as turn:
            async for _ in turn:
                pass
        assert turn.final is not None and "Echo: from the imported profile" in turn.final.text
    assert public_id(psid) in {entry.get("account_id") for entry in sim.requests()}
