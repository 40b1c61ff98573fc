"""``gemini-gateway doctor``: open Gemini's page with one account (headed with ``--headed``) and
report what the gateway would rely on: signed in or not and from which signal, the account status
code, tier, the modes, models and tools offered; and whether the installed Playwright expects the
Chromium that is installed. Exit code 1 when something the gateway needs is missing (the account
is not ready, or its page offers no mode), 2 when the doctor cannot run at all.

Not reported (yet): which selector of the table matched each UI element, and the page tokens seen;
the browser layer does not expose them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from browser import AccountInfo, AccountSpec, BrowserError, BrowserPool, PoolSettings
from service.admin.registry import AddedAccounts
from service.pool_adapter import account_spec
from service.settings import GatewaySettings

__all__ = ["add_doctor_parser", "run_doctor", "versions"]

BROWSERS_JSON = Path("driver/package/browsers.json")


def add_doctor_parser(commands: Any) -> None:
    doctor = commands.add_parser("doctor", help="open the page with an account and report what it offers")
    doctor.add_argument("--account", help="a configured or added account's name (default: the first)")
    doctor.add_argument("--headed", action="store_true", help="show the browser window")


def run_doctor(args: argparse.Namespace) -> int:
    try:
        settings = GatewaySettings(open_access=True)  # type: ignore[call-arg]
    except ValueError as exc:
        print(f"doctor: the configuration cannot be read ({type(exc).__name__})", file=sys.stderr)
        return 2
    spec = _account(settings, args.account)
    if spec is None:
        print("doctor: no such account (configure one, or add one with `accounts add`)", file=sys.stderr)
        return 2
    report: dict[str, Any] = {"versions": versions(settings)}
    try:
        info = asyncio.run(_open(settings, spec, headed=args.headed))
    except BrowserError as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
        print(json.dumps(report, indent=2))
        return 1
    report["account"] = _describe(info)
    problems = []
    if info.state.value not in ("ready", "busy", "cooling"):
        problems.append(
            f"the account is {info.state.value}: {info.reason or info.last_error or 'no reason given'}"
        )
    if not info.modes:
        problems.append("the page offers no mode")
    report["problems"] = problems
    print(json.dumps(report, indent=2))
    return 1 if problems else 0


def _account(settings: GatewaySettings, name: str | None) -> AccountSpec | None:
    for config in settings.accounts:
        if name in (None, config.name):
            return account_spec(config)
    if settings.added_accounts_path.exists():
        with AddedAccounts(settings.added_accounts_path) as registry:
            for entry in registry.all():
                if name in (None, entry.id):
                    return entry.spec
    return None


async def _open(settings: GatewaySettings, spec: AccountSpec, *, headed: bool) -> AccountInfo:
    # A scratch data directory: the doctor must not rotate the cookies the gateway keeps.
    with tempfile.TemporaryDirectory(prefix="gateway-doctor-") as scratch:
        values = {**settings.browser, "data_dir": Path(scratch), "headless": not headed}
        async with BrowserPool(PoolSettings(**values)) as pool:
            return await pool.add_account(spec)


def _describe(info: AccountInfo) -> dict[str, Any]:
    signed_in = info.state.value not in ("signed_out", "failed", "starting")
    signal = (
        f"the account-status RPC otAQ7b (code {info.status_code})"
        if info.status_source == "account_status"
        else "the page (session markers, menus): no otAQ7b answer was read"
    )
    return {
        "id": info.id,
        "state": info.state.value,
        "signed_in": signed_in,
        "signal": signal,
        "reason": info.reason,
        "tier": info.tier,
        "modes": sorted(mode.value for mode in info.modes),
        "models": [model.label for model in info.models],
        "tools": sorted(tool.value for tool in info.tools),
        "side_rpcs_seen": ["otAQ7b"] if info.status_source == "account_status" else [],
        "last_error": info.last_error,
    }


def versions(settings: GatewaySettings) -> dict[str, Any]:
    """Playwright's version and the Chromium it was built for, beside the installed Chromium."""
    chromium_path = str(PoolSettings(**{**settings.browser, "data_dir": settings.data_dir}).chromium_path)
    expected = _expected_chromium()
    installed = _installed_chromium(chromium_path)
    result: dict[str, Any] = {
        "playwright": metadata.version("playwright"),
        "playwright_expects_chromium": expected,
        "chromium": installed,
        "chromium_path": chromium_path,
    }
    if expected and installed and expected.split(".")[0] != installed.split(".")[0]:
        result["warning"] = (
            f"Playwright was built for Chromium {expected.split('.')[0]}, the installed one is "
            f"{installed.split('.')[0]}: pin a Playwright release that matches Debian's Chromium"
        )
    return result


def _expected_chromium() -> str | None:
    import playwright

    path = Path(playwright.__file__).parent / BROWSERS_JSON
    try:
        browsers = json.loads(path.read_text(encoding="utf-8"))["browsers"]
    except (OSError, ValueError, KeyError):
        return None
    return next((str(b.get("browserVersion")) for b in browsers if b.get("name") == "chromium"), None)


def _installed_chromium(path: str) -> str | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"(\d+\.\d+\.\d+\.\d+)", out.stdout)
    return found.group(1) if found else None
