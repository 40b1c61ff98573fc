"""``profiles_in_one_browser``: persistent accounts served as profiles of ONE local Chromium (its
normal mode on Ozone's headless platform), each with its own cookie jar, its own pages and its own
device key; an account with a proxy of its own keeps a Chromium of its own."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from browser import (
    AccountInfo,
    AccountSpec,
    AccountState,
    BrowserPool,
    LaunchMode,
    PoolSettings,
    SigninMethod,
    Tool,
    TurnRequest,
)
from browser._launcher import profile_dir
from browser._profiles import ProfileRefused, profile_holder, refuse_if_held
from browser._store import CookieStore
from tests.browser.conftest import PoolOf, Sim, cookie, public_id

pytestmark = pytest.mark.browser

WAIT = 30.0


def _settings(sim_url: str, data_dir: Path, **changes: object) -> PoolSettings:
    return PoolSettings(
        gemini_url=sim_url,
        data_dir=data_dir,
        launch_mode=LaunchMode.PERSISTENT,
        profiles_in_one_browser=True,
        ui_timeout=5,
        navigation_timeout=15,
        cookie_save_interval=3600,
        health_interval=3600,
        **changes,
    )


def _browser_processes() -> Iterator[tuple[int, list[str]]]:
    """Each Chromium browser process (not a helper: no ``--type=``) and its arguments, from /proc."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if not any(arg.startswith("--type=") for arg in args):
            yield int(proc.name), args


def _browsers_under(directory: Path) -> list[str]:
    """The user-data directories of the Chromium browser processes started on a directory under
    ``directory``."""
    found: list[str] = []
    for _, args in _browser_processes():
        for arg in args:
            if arg.startswith("--user-data-dir=") and arg.removeprefix("--user-data-dir=").startswith(
                str(directory)
            ):
                found.append(str(Path(arg.removeprefix("--user-data-dir=")).relative_to(directory)))
    return sorted(found)


async def _until(predicate: Callable[[], bool], what: str, state: Callable[[], object] = str) -> None:
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} {state()}")
        await asyncio.sleep(0.05)


def _info(pool: BrowserPool, account_id: str) -> AccountInfo:
    return next(info for info in pool.accounts() if info.id == account_id)


async def _answer(pool: BrowserPool, account_id: str, prompt: str) -> None:
    async with pool.turn(TurnRequest(prompt=prompt, account_id=account_id)) as turn:
        async for _ in turn:
            pass
    assert turn.final is not None and f"Echo: {prompt}" in turn.final.text


async def test_two_accounts_share_one_browser_each_with_its_own_cookies(
    pool_of: PoolOf, sim: Sim, tmp_path: Path
) -> None:
    sim.config(rotation_interval=0.5)  # the page rotates __Secure-1PSIDTS every 0.5 s
    psids = {"one": cookie("paid"), "two": cookie("paid")}
    async with pool_of(_settings(sim.base_url, tmp_path)) as pool:
        for name, psid in psids.items():
            info = await pool.add_account(AccountSpec(name=name, psid=psid))
            assert info.state is AccountState.READY, info.last_error
        assert _browsers_under(tmp_path) == ["profile-host"], "one Chromium for both accounts"
        # Each account's own directory reads as held by that browser: a sign-in window or an
        # import refuses it rather than open one profile in two browsers.
        host = _host_pid(tmp_path)
        for name in psids:
            assert profile_holder(profile_dir(pool.settings, name)) == host
            with pytest.raises(ProfileRefused):
                refuse_if_held(profile_dir(pool.settings, name), name)
        for name in psids:
            await _answer(pool, name, f"asked of {name}")
        sent = {entry.get("prompt"): entry.get("account_id") for entry in sim.requests()}
        for name, psid in psids.items():
            assert sent[f"asked of {name}"] == public_id(psid), f"{name}'s turn sent its own cookie"
        # Each account's own page rotates its own ticket, which is saved for that account only.
        for name in psids:
            await _until(lambda name=name: _info(pool, name).last_rotation_at is not None, f"{name} rotated")
    tickets: set[str] = set()
    for name, psid in psids.items():
        stored = await CookieStore(tmp_path).load(name)
        assert stored is not None
        jar = {c.name: c.value for c in stored.cookies}
        assert jar["__Secure-1PSID"] == psid
        assert "__Secure-1PSIDTS" in jar, f"{name}'s rotated ticket saved"
        tickets.add(jar["__Secure-1PSIDTS"])
        assert profile_holder(profile_dir(_settings(sim.base_url, tmp_path), name)) is None
    assert len(tickets) == 2, "each account saved its own rotated ticket"
    assert _browsers_under(tmp_path) == [], "the shared browser closed with the pool"


async def _sign_in(pool: BrowserPool, account_id: str, base_url: str, user: dict[str, str]) -> None:
    """A person's sign-in in the account's own page (the simulator's sign-in pages)."""
    context = pool._accounts[account_id].context
    assert context is not None
    page = await context.new_page()
    await page.goto(f"{base_url}/ServiceLogin?continue=%2Fapp")
    await page.locator("#identifierId").fill(user["email"])
    await page.locator("#identifierNext").click()
    await page.locator("input[name=Passwd]").fill(user["password"])
    await page.locator("#passwordNext").click()
    await page.wait_for_url(f"{base_url}/app", timeout=WAIT * 1000)
    await page.close()


async def test_signed_in_profiles_stay_signed_in_and_keep_their_device_keys_across_a_restart(
    pool_of: PoolOf, sim: Sim, tmp_path: Path
) -> None:
    users = {
        name: {"email": f"{name}@example.com", "password": f"pw-{name}-1", "kind": "paid"}
        for name in ("left", "right")
    }
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=10) as control:
        for user in users.values():
            (await control.post("/_sim/users", json=user)).raise_for_status()
    settings = _settings(sim.base_url, tmp_path)
    async with pool_of(settings) as pool:
        for name, user in users.items():
            info = await pool.add_account(AccountSpec(name=name, signin_method=SigninMethod.SIGNED_IN_INSIDE))
            assert info.state is AccountState.SIGNED_OUT
            await _sign_in(pool, name, sim.base_url, user)
            info = await pool.check_account(name)
            assert (info.state, info.tier) == (AccountState.READY, "paid"), info.last_error
        assert _browsers_under(tmp_path) == ["profile-host"]
        for name in users:  # each account's directory is a profile of the shared browser
            link = tmp_path / "profile-host" / f"account-{name}"
            assert link.resolve() == (tmp_path / "profiles" / name / "Default").resolve()
    # The page rotates a bound ticket every second from now: each rotation needs the device key the
    # sign-in left in that profile's IndexedDB (a 401 challenge, then the key-signed retry).
    sim.config(time_scale=600)
    async with pool_of(settings) as pool:
        for name in users:
            info = await pool.add_account(AccountSpec(name=name, signin_method=SigninMethod.SIGNED_IN_INSIDE))
            assert (info.state, info.tier) == (AccountState.READY, "paid"), info.last_error
        for name in users:
            await _until(lambda name=name: _info(pool, name).last_rotation_at is not None, f"{name} rotated")
        assert _browsers_under(tmp_path) == ["profile-host"]
    async with httpx.AsyncClient(base_url=sim.base_url, timeout=10) as control:
        sessions = (await control.get("/_sim/sessions")).json()
    assert len(sessions) == 2
    assert all(s["bound"] and s["key_registered"] and s["rotations"] >= 1 for s in sessions), sessions


async def test_an_account_with_its_own_proxy_keeps_a_browser_of_its_own(
    pool_of: PoolOf, sim: Sim, tmp_path: Path
) -> None:
    async with pool_of(_settings(sim.base_url, tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="hosted", psid=cookie("paid")))
        # Nothing listens there: the account fails its page, but its browser is launched first.
        await pool.add_account(AccountSpec(name="proxied", psid=cookie("paid"), proxy="http://127.0.0.1:9"))
        assert _browsers_under(tmp_path) == ["profile-host", "profiles/proxied"]


def _host_pid(directory: Path) -> int:
    """The shared browser's process (not a helper)."""
    wanted = f"--user-data-dir={directory / 'profile-host'}"
    for pid, args in _browser_processes():
        if wanted in args:
            return pid
    raise AssertionError("no shared browser runs")


async def test_a_crash_of_the_shared_browser_fails_its_accounts_and_the_pool_relaunches_it(
    pool_of: PoolOf, sim: Sim, tmp_path: Path
) -> None:
    async with pool_of(_settings(sim.base_url, tmp_path)) as pool:
        for name in ("one", "two"):
            info = await pool.add_account(AccountSpec(name=name, psid=cookie("paid")))
            assert info.state is AccountState.READY, info.last_error
        crashed = _host_pid(tmp_path)
        os.kill(crashed, signal.SIGKILL)
        # Both accounts fail with it; the pool relaunches one browser and opens both again.
        await _until(
            lambda: (
                _host_pid_or_none(tmp_path) not in (None, crashed)
                and all(_info(pool, name).state is AccountState.READY for name in ("one", "two"))
            ),
            "both accounts back in a new shared browser",
            lambda: [(info.id, info.state, info.last_error) for info in pool.accounts()],
        )
        assert _host_pid(tmp_path) != crashed
        assert _browsers_under(tmp_path) == ["profile-host"]
        for name in ("one", "two"):
            await _answer(pool, name, f"after the crash, {name}")


def _host_pid_or_none(directory: Path) -> int | None:
    try:
        return _host_pid(directory)
    except AssertionError:
        return None


async def test_media_downloads_send_the_profile_s_own_cookies(
    pool_of: PoolOf, sim: Sim, tmp_path: Path
) -> None:
    """The shared context's own HTTP client would send Chromium's last-used profile's cookies (here
    the signed-out profile opened last: none); a profile's downloads go through a client given that
    profile's own."""
    async with pool_of(_settings(sim.base_url, tmp_path)) as pool:
        await pool.add_account(AccountSpec(name="drawer", psid=cookie("paid")))
        empty = await pool.add_account(AccountSpec(name="empty", signin_method=SigninMethod.SIGNED_IN_INSIDE))
        assert empty.state is AccountState.SIGNED_OUT
        async with pool.turn(TurnRequest(prompt="a red kite", tool=Tool.IMAGE, account_id="drawer")) as turn:
            async for _ in turn:
                pass
        assert turn.final is not None
        assert (await turn.fetch_media_full(turn.final.images[0].url)).mime == "image/jpeg"
