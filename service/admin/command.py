"""``python -m service accounts add|list|check|remove`` (``login`` and ``import-profile``:
``service.admin.signin``) and ``keys create|list|scopes|revoke`` (their
options: ``service.cli_parser``).

With ``--url`` (or ``GATEWAY_ADMIN_URL``) they talk to a running gateway's admin API, with the admin
key from ``GATEWAY_ADMIN_KEY`` (or the first of ``GATEWAY_ADMIN_KEYS``); without, they work on the
data directory of a stopped gateway (accounts added there start with it next time). Cookies are
read from a file (any format ``browser.read_cookie_file`` reads, a binary ``cookies.sqlite`` too)
or stdin, never from the command line (where ``ps`` would show them), and are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from browser import CookieFormatError
from service.admin.cookies import session_digest, spec_from_upload
from service.admin.signin import SigninFailed, run_signin
from service.errors import InvalidRequest
from service.settings import GatewaySettings
from service.stores.backends import accounts_at, keys_at

__all__ = ["ADMIN_KEY_ENV", "run_admin"]

ADMIN_KEY_ENV = "GATEWAY_ADMIN_KEY"
TIMEOUT = 120.0  # adding or checking an account loads its page


class CommandFailed(Exception):
    pass


def run_admin(args: argparse.Namespace) -> int:
    try:
        if args.command == "accounts" and args.action in ("login", "import-profile"):
            key = (os.environ.get(ADMIN_KEY_ENV) or _first_admin_key()) if args.url else None
            result = run_signin(args, _settings(), key)
        else:
            result = _online(args) if args.url else _offline(args)
    except (
        CommandFailed,
        InvalidRequest,
        SigninFailed,
    ) as exc:  # the stores refuse bad values as the API does
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


# -- a running gateway --


def _online(args: argparse.Namespace) -> Any:
    key = os.environ.get(ADMIN_KEY_ENV) or _first_admin_key()
    if not key:
        raise CommandFailed(f"set {ADMIN_KEY_ENV} to the gateway's admin key")
    with httpx.Client(
        base_url=args.url.rstrip("/") + "/admin", headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT
    ) as client:
        method, path, body = _request(args)
        try:
            response = client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise CommandFailed(f"the gateway at {args.url} did not answer ({type(exc).__name__})") from None
    if response.status_code >= 400:
        message = response.json().get("error", {}).get("message", response.text[:200])
        raise CommandFailed(f"{response.status_code}: {message}")
    return response.json()


def _request(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None]:
    if args.command == "accounts":
        if args.action == "add":
            return "POST", "/accounts", _account_body(args)
        if args.action == "list":
            return "GET", "/accounts", None
        if args.action == "check":
            return "POST", f"/accounts/{args.account_id}/check", None
        return "DELETE", f"/accounts/{args.account_id}", None
    if args.action == "create":
        return "POST", "/keys", _key_body(args)
    if args.action == "list":
        return "GET", "/keys", None
    if args.action == "scopes":
        return "PATCH", f"/keys/{args.key_id}", {"scopes": _scope_list(args.scopes)}
    return "DELETE", f"/keys/{args.key_id}", None


def _scope_list(text: str | None) -> list[str] | None:
    """``chat,flash`` as a list; empty: None (no scopes, everything allowed)."""
    scopes = [part.strip() for part in (text or "").split(",") if part.strip()]
    return scopes or None


def _pasted(args: argparse.Namespace) -> bytes:
    """The file's bytes (a cookies.sqlite is binary), or stdin's."""
    data: bytes
    try:
        if args.source:
            data = Path(args.source).read_bytes()
        else:  # a text stream without a binary buffer (a wrapped stdin) gives its text
            buffer = getattr(sys.stdin, "buffer", None)
            data = buffer.read() if buffer is not None else sys.stdin.read().encode("utf-8")
    except OSError as exc:
        raise CommandFailed(f"the cookie file cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise CommandFailed("no cookies given (use --cookie-file FILE or pipe them in)")
    return data


def _account_body(args: argparse.Namespace) -> dict[str, Any]:
    spec = _spec(args)
    if spec.cookies is not None:
        # Parsed here: only the Google cookies travel, as a JSON cookie file.
        return {"name": args.name, "cookie_file": json.dumps(spec.cookies), "cookie_file_format": "json"}
    return {"name": args.name, "psid": spec.psid}


def _key_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"name": args.name}
    for field in ("expires_in", "max_concurrent", "per_minute"):
        if getattr(args, field) is not None:
            body[field] = getattr(args, field)
    if args.accounts:
        body["accounts"] = [part.strip() for part in args.accounts.split(",") if part.strip()]
    if _scope_list(args.scopes) is not None:
        body["scopes"] = _scope_list(args.scopes)
    return body


def _spec(args: argparse.Namespace) -> Any:
    data = _pasted(args)
    try:
        return spec_from_upload(data, name=args.name, fmt=args.cookie_format)
    except CookieFormatError as exc:
        raise CommandFailed(f"the cookies cannot be read: {exc}") from None


# -- a stopped gateway's data directory --


def _settings() -> GatewaySettings:
    try:
        # Nothing is served here, so the API-key requirement of ``serve`` does not apply.
        return GatewaySettings(open_access=True)
    except ValueError as exc:
        raise CommandFailed(f"the configuration cannot be read: {type(exc).__name__}") from None


def _first_admin_key() -> str | None:
    try:
        keys = _settings().admin_keys
    except CommandFailed:
        return None
    return keys[0].get_secret_value() if keys else None


def _offline(args: argparse.Namespace) -> Any:
    settings = _settings()
    if args.command == "accounts":
        return asyncio.run(_offline_accounts(args, settings))
    return asyncio.run(_offline_keys(args, settings))


async def _offline_keys(args: argparse.Namespace, settings: GatewaySettings) -> Any:
    async with keys_at(settings.state, settings.data_dir) as store:
        if args.action == "create":
            body = _key_body(args)
            expires = body.get("expires_in")
            created = await store.create(
                args.name,
                expires_at=time.time() + expires if expires else None,
                max_concurrent=body.get("max_concurrent"),
                per_minute=body.get("per_minute"),
                accounts=tuple(body["accounts"]) if "accounts" in body else None,
                scopes=body.get("scopes"),
            )
            return {"id": created.record.id, "name": created.record.name, "key": created.key}
        if args.action == "list":
            return {"data": [_record(r) for r in await store.list()]}
        if args.action == "scopes":
            changed = await store.set_scopes(args.key_id, _scope_list(args.scopes))
            if changed is None:
                raise CommandFailed(f"no key {args.key_id!r}")
            return _record(changed)
        revoked = await store.revoke(args.key_id)
        if revoked is None:
            raise CommandFailed(f"no key {args.key_id!r}")
        return _record(revoked)


def _record(record: Any) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "shown": record.shown,
        "revoked": record.revoked_at is not None,
        "expires_at": record.expires_at,
        "requests": record.requests,
        "scopes": list(record.scopes) if record.scopes is not None else None,
    }


async def _offline_accounts(args: argparse.Namespace, settings: GatewaySettings) -> Any:
    if args.action == "check":
        raise CommandFailed("checking needs the running gateway: pass --url")
    async with accounts_at(settings.state, settings.data_dir) as registry:
        entries = await registry.all()
        if args.action == "list":
            return {
                "data": [
                    {
                        "id": e.id,
                        "source": "added",
                        "added_at": e.added_at,
                        "signin_method": e.spec.signin_method.value,
                    }
                    for e in entries
                ]
            }
        if args.action == "remove":
            if not await registry.delete(args.account_id):
                raise CommandFailed(f"no added account {args.account_id!r} in {settings.data_dir}")
            return {"id": args.account_id, "removed": True}
        spec = _spec(args)
        session = session_digest(spec)
        # The id the pool will give it: the name, or ``acct-`` and a digest of the session.
        account_id = args.name or f"acct-{session[:12]}"
        if any(e.id == account_id or e.session == session for e in entries):
            raise CommandFailed("this account (name or session) is added already")
        await registry.put(account_id, session, spec)
        return {"id": account_id, "added": True, "starts": "with the gateway"}
