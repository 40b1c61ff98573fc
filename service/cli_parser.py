"""The command line's parser, whole: every subcommand of ``python -m service`` and every option,
each with its help (the CLI reference is generated from ``build_parser``). What each command does
lives with its slice (``service.cli`` serve and demo, ``service.admin.command`` accounts and keys,
``service.admin.doctor``, ``service.watermark.command``); ``service.cli.main`` dispatches on
``command``. Nothing here starts or reads anything: defaults from the environment are read when the
parser is built.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from service.key_scopes import SCOPES
from service.settings import CONFIG_ENV

__all__ = ["ADMIN_URL_ENV", "DEFAULT_PORT", "build_parser"]

DEFAULT_PORT = 8000
ADMIN_URL_ENV = "GATEWAY_ADMIN_URL"
_SCOPES_HELP = f"comma-separated scopes the key may use: {', '.join(SCOPES)} (default: all)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m service", description="The Gemini gateway.")
    commands = parser.add_subparsers(dest="command", required=True)
    _serve(commands)
    _watermark(commands)
    _accounts(commands)
    _keys(commands)
    _doctor(commands)
    _state(commands)
    return parser


def _env_port() -> int:
    return int(os.environ.get("PORT", DEFAULT_PORT))


def _bind(command: argparse.ArgumentParser) -> None:
    command.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    command.add_argument(
        "--port", type=int, default=_env_port(), help=f"port to listen on (default: $PORT or {DEFAULT_PORT})"
    )


def _serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run the gateway with the configured accounts")
    _bind(serve)
    serve.add_argument("--config", type=Path, help=f"a .toml or .json config file (sets {CONFIG_ENV})")
    _bind(commands.add_parser("demo", help="run the gateway against a local simulator"))


def _watermark(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    watermark = commands.add_parser("watermark", help="measure or remove Gemini's visible watermark")
    actions = watermark.add_subparsers(dest="action", required=True)
    actions.add_parser(
        "calibrate",
        help="ask a configured account for black images and store the mark's opacity maps now "
        "(the gateway also does it on the first remove_watermark of each size class)",
    )
    remove = actions.add_parser("remove", help="remove the mark from an image file")
    remove.add_argument("input", type=Path, help="the image with the mark")
    remove.add_argument(
        "output", type=Path, nargs="?", help="where to write it (default: <input>.clean<suffix>)"
    )


def _admin_url(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--url",
        default=os.environ.get(ADMIN_URL_ENV),
        help=f"a running gateway (or {ADMIN_URL_ENV}); without it, the data directory of a stopped "
        "gateway is changed",
    )


def _accounts(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    accounts = commands.add_parser("accounts", help="add, list, check or remove accounts")
    actions = accounts.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add an account from its cookies (read from --cookie-file or stdin)")
    add.add_argument("--name", help="the account's id (default: a digest of its session)")
    add.add_argument(
        "--cookie-file",
        "--from",
        dest="source",
        type=Path,
        help="a cookie file: Netscape cookies.txt, a Cookie-Editor/EditThisCookie JSON export, a HAR, "
        "Firefox's cookies.sqlite; or a __Secure-1PSID value or a DevTools cookie string",
    )
    add.add_argument(
        "--cookie-format",
        choices=["auto", "netscape", "json", "har", "sqlite", "header"],
        default="auto",
        help="the cookie file's format (default: detected)",
    )
    _admin_url(add)
    _admin_url(actions.add_parser("list", help="list accounts (with their state, when the gateway runs)"))
    login = actions.add_parser(
        "login",
        help="sign an account in to Google in a normal Chromium window on its own profile (needs a "
        "display; nothing automated is attached), then add it when the window is closed",
    )
    login.add_argument("name", help="the account's id (its profile: <data_dir>/profiles/<name>)")
    _profile_options(login)
    imported = actions.add_parser(
        "import-profile",
        help="add an account from a Chromium user-data directory signed in elsewhere (copied)",
    )
    imported.add_argument("name", help="the account's id (its profile: <data_dir>/profiles/<name>)")
    imported.add_argument(
        "directory", type=Path, help="the user-data directory (the one holding 'Local State')"
    )
    imported.add_argument(
        "--replace", action="store_true", help="overwrite the account's profile if it has one"
    )
    _profile_options(imported)
    for name, text in (("check", "reload an account's page now"), ("remove", "remove an account")):
        action = actions.add_parser(name, help=text)
        action.add_argument("account_id", help="the account's id (as accounts list shows it)")
        _admin_url(action)


def _profile_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--proxy",
        help="http|https|socks5://[user:pass@]host:port for this account (default: browser.default_proxy); "
        "the sign-in window gets it without credentials and Chromium asks for them",
    )
    _admin_url(command)


def _keys(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="create, list or revoke API keys")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key (shown once)")
    create.add_argument("name", help="what the key is for (shown in listings)")
    create.add_argument(
        "--expires-in", type=float, help="seconds until the key stops working (default: never)"
    )
    create.add_argument("--max-concurrent", type=int, help="requests the key may have running at once")
    create.add_argument("--per-minute", type=int, help="requests the key may start per minute")
    create.add_argument("--accounts", help="comma-separated account ids this key may use")
    create.add_argument("--scopes", help=_SCOPES_HELP)
    _admin_url(create)
    _admin_url(actions.add_parser("list", help="list keys (never the keys themselves)"))
    scopes = actions.add_parser("scopes", help="set a key's scopes ('' lifts them)")
    scopes.add_argument("key_id", help="the key's id (key_..., as keys list shows it)")
    scopes.add_argument("scopes", help=_SCOPES_HELP)
    _admin_url(scopes)
    revoke = actions.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id", help="the key's id (key_..., as keys list shows it)")
    _admin_url(revoke)


def _doctor(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    doctor = commands.add_parser("doctor", help="open the page with an account and report what it offers")
    doctor.add_argument("--account", help="a configured or added account's name (default: the first)")
    doctor.add_argument("--headed", action="store_true", help="show the browser window")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.add_argument(
        "--record",
        metavar="FILE",
        type=Path,
        help="also write an evidence bundle to FILE for a bug report (sends one short prompt in a new "
        "chat, deleted afterwards; no cookie or token is written)",
    )


def _state(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    state = commands.add_parser("state", help="manage where the gateway's state lives (SQLite or Redis)")
    actions = state.add_subparsers(dest="action", required=True)
    migrate = actions.add_parser(
        "migrate",
        help="copy a SQLite data directory into Redis (run with the gateway stopped; prints the counts)",
    )
    migrate.add_argument("--to", required=True, choices=["redis"], help="the backend to copy into")
    migrate.add_argument("--redis-url", help="the target Redis (default: state.redis_url)")
    migrate.add_argument("--data-dir", type=Path, help="the SQLite data directory (default: data_dir)")
    migrate.add_argument(
        "--force",
        action="store_true",
        help="copy even when the target holds gateway data already (same ids are overwritten)",
    )
