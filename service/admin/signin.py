"""``python -m service accounts login NAME`` and ``accounts import-profile NAME DIR`` (their options:
``service.cli_parser``): an account whose Google session lives in its own Chromium profile.

``login`` opens a person's Chromium (headed, nothing automated attached: ``browser.run_signin_window``)
on the account's profile at Google's sign-in page and waits until its window is closed;
``import-profile`` copies a user-data directory signed in elsewhere. Then the account is adopted: by
a running gateway through its admin API (``--url`` or ``GATEWAY_ADMIN_URL``, the admin key as for
the other account commands), or else written to the added-accounts registry of the data directory,
so that the gateway adopts it at its next start. Both run on the gateway's machine: the profile is
written to the gateway's data directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

import httpx

from browser import (
    AccountSpec,
    LaunchMode,
    PoolSettings,
    ProfileRefused,
    SigninMethod,
    import_profile,
    run_signin_window,
)
from service.admin.cookies import session_digest
from service.settings import GatewaySettings
from service.stores.backends import accounts_at

__all__ = ["DISPLAY_ENVS", "SigninFailed", "run_signin"]

DISPLAY_ENVS = ("DISPLAY", "WAYLAND_DISPLAY")
TIMEOUT = 120.0  # adding an account loads its page


class SigninFailed(Exception):
    pass


def run_signin(args: argparse.Namespace, settings: GatewaySettings, admin_key: str | None) -> dict[str, Any]:
    """Sign the account in (``login``) or import its profile (``import-profile``), then adopt it."""
    pool = settings.pool_settings()
    if pool.launch_mode is LaunchMode.REMOTE:
        raise SigninFailed(
            "launch_mode=remote cannot open a local profile: an account signed in here needs "
            "launch_mode=shared or persistent"
        )
    proxy = args.proxy or (pool.default_proxy.get_secret_value() if pool.default_proxy else None)
    try:
        if args.action == "login":
            method = SigninMethod.SIGNED_IN_INSIDE
            _login(pool, args.name, proxy)
        else:
            method = SigninMethod.PROFILE_IMPORT
            import_profile(pool, args.name, Path(args.directory), replace=args.replace)
    except ProfileRefused as exc:
        raise SigninFailed(str(exc)) from None
    spec = AccountSpec(name=args.name, proxy=args.proxy, signin_method=method)
    if args.url:
        return _adopt_online(args.url, admin_key, spec)
    return asyncio.run(_adopt_offline(settings, args.name, spec))


def _login(pool: PoolSettings, name: str, proxy: str | None) -> None:
    if not any(os.environ.get(name) for name in DISPLAY_ENVS):
        raise SigninFailed(
            "accounts login opens a browser window and needs a display (neither DISPLAY nor "
            "WAYLAND_DISPLAY is set). On a headless server, sign in from the dashboard's live view "
            "(/admin, the account's Sign in), or sign in on a desktop with accounts login and copy "
            "the profile here with accounts import-profile"
        )
    print(f"signing in {name}: a Chromium window opens; sign in to Google there, then close the window")
    status = run_signin_window(pool, name, proxy)
    if status != 0:
        # A crash, or a display that went away: whatever the profile holds is still adopted, and
        # the account shows signed out if the sign-in did not complete.
        print(f"note: Chromium exited with status {status}")


def _adopt_online(url: str, admin_key: str | None, spec: AccountSpec) -> dict[str, Any]:
    if not admin_key:
        raise SigninFailed("set GATEWAY_ADMIN_KEY to the gateway's admin key")
    body: dict[str, Any] = {"name": spec.name, "signin_method": spec.signin_method.value}
    if spec.proxy:
        body["proxy"] = spec.proxy
    with httpx.Client(
        base_url=url.rstrip("/") + "/admin",
        headers={"Authorization": f"Bearer {admin_key}"},
        timeout=TIMEOUT,
    ) as client:
        try:
            response = client.post("/accounts", json=body)
            if response.status_code == 409:
                # In the pool already without a browser on its profile (its launch failed, or its
                # browser crashed; a running one would have refused the window): load it again.
                existing = client.get(f"/accounts/{spec.name}")
                if existing.status_code == 200 and existing.json().get("signin_method") in _PROFILE_METHODS:
                    response = client.post(f"/accounts/{spec.name}/check")
        except httpx.HTTPError as exc:
            raise SigninFailed(
                f"the gateway at {url} did not answer ({type(exc).__name__}); the profile is kept: add the "
                f'account with POST /admin/accounts {{"name": "{spec.name}", "signin_method": '
                f'"{spec.signin_method.value}"}} once it runs'
            ) from None
    if response.status_code >= 400:
        message = response.json().get("error", {}).get("message", response.text[:200])
        raise SigninFailed(
            f"the profile is ready but the gateway refused it: {response.status_code}: {message}"
        )
    return dict(response.json())


_PROFILE_METHODS = {SigninMethod.SIGNED_IN_INSIDE.value, SigninMethod.PROFILE_IMPORT.value}


async def _adopt_offline(settings: GatewaySettings, name: str, spec: AccountSpec) -> dict[str, Any]:
    if any(account.name == name for account in settings.accounts):
        raise SigninFailed(f"{name!r} is a configured account (accounts in the config): choose another name")
    async with accounts_at(settings.state, settings.data_dir) as registry:
        for entry in await registry.all():
            if entry.id == name and not entry.spec.profile:
                raise SigninFailed(
                    f"an account named {name!r} with imported cookies is added already: "
                    "remove it first (accounts remove) or choose another name"
                )
        await registry.put(name, session_digest(spec), spec)
    return {
        "id": name,
        "signin_method": spec.signin_method.value,
        "added": True,
        "starts": "with the gateway (pass --url to add it to a running one)",
    }
