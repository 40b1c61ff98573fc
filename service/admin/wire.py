"""The admin API's JSON shapes. Secrets come in as ``SecretStr`` and never go out: an account is
shown by id, name and state, a key by its first characters."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from browser import AccountInfo, SigninMethod
from service.catalog import Catalog
from service.key_scopes import SCOPES
from service.keys import KeyRecord
from service.session_health import hint

__all__ = [
    "AccountIn",
    "AccountOut",
    "GemOut",
    "KeyCreated",
    "KeyIn",
    "KeyOut",
    "KeyScopes",
    "ReplicaOut",
    "account_out",
    "key_out",
]

NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
_SCOPES = f"model families and kinds of work this key may use ({', '.join(SCOPES)}); none: all"


class AccountIn(BaseModel):
    """Exactly one of ``psid`` (with ``psidts`` optionally), ``cookie_string`` (``name=value; ...``
    as DevTools copies it) or ``cookie_file`` (a cookie file: Netscape, an extension's JSON, a HAR,
    or Firefox's ``cookies.sqlite`` in base64 with ``cookie_file_encoding="base64"``); or, with
    ``signin_method`` signed_in_inside or profile_import, none of them and a ``name``: the session
    lives in ``<data_dir>/profiles/<name>``, a Chromium profile signed in by a person (``accounts
    login``, ``accounts import-profile``); a new one starts signed out, to be signed in from its page."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    name: str | None = Field(None, min_length=1, max_length=64, pattern=NAME_PATTERN)
    psid: SecretStr | None = None
    psidts: SecretStr | None = None
    cookie_string: SecretStr | None = None
    cookie_file: SecretStr | None = None
    cookie_file_format: Literal["auto", "netscape", "json", "har", "sqlite", "header"] | None = Field(
        None, description="The cookie file's format; auto (the default) detects it."
    )
    cookie_file_encoding: Literal["text", "base64"] | None = Field(
        None, description="How cookie_file is given: text (the default) or base64 (binary files)."
    )
    proxy: SecretStr | None = None
    signin_method: SigninMethod = SigninMethod.COOKIE_IMPORT


class GemOut(BaseModel):
    """One Gem of an account that a model name reaches (docs/guides/gems.md)."""

    id: str
    name: str
    premade: bool
    model: str | None = Field(description="its gem-<slug> model; null for a premade Gem")
    aliases: list[str] = Field(description="the gems.aliases names that reach it")


class AccountOut(BaseModel):
    id: str
    name: str
    source: str  # "added" (admin API, persisted) or "config"
    state: str
    paused: bool
    reason: str | None
    status_code: int | None
    tier: str
    modes: list[str]
    tools: list[str]
    models: list[str]
    active_turns: int
    turns_served: int
    last_error: str | None
    cooling_until: dict[str, float]
    blocked_until: float | None
    cookies_saved_at: float | None
    proxy: str | None
    egress: str  # ``direct`` or the proxy without credentials: the IP its turns are paced on
    signin_method: str = Field(description="signed_in_inside | profile_import | cookie_import")
    session_started_at: float | None = Field(
        description="when this session (its __Secure-1PSID) was first seen working, as a Unix time"
    )
    session_age_seconds: float | None = Field(description="seconds since session_started_at")
    last_rotation_at: float | None = Field(
        description="when a cookie rotation of the page last brought a fresh __Secure-1PSIDTS (Unix time)"
    )
    needs_person: str | None = Field(
        description="why a person must act: expired | verify | signed_out | consent | terms | captcha | "
        "region; null when nothing is asked"
    )
    needs_person_since: float | None = Field(description="since when (Unix time)")
    needs_person_hint: str | None = Field(description="what to do, in plain words")
    gems: list[GemOut] = Field(
        description="the account's Gems served as models (custom Gems, and premade ones an alias names), "
        "as its page last listed them"
    )
    owner: str | None = Field(
        default=None,
        description="the replica driving the account (`cluster.replica_id`) when replicas share a Redis; "
        "null with a single gateway, and for an account no replica drives (state `unowned`)",
    )
    reported_at: float | None = Field(
        default=None,
        description="replicas on one Redis: for an account another replica drives, the Unix time of the "
        "owner's round that reported these fields; null when this replica drives it (live data)",
    )


class ReplicaOut(BaseModel):
    """One live replica of the Redis (``GET /admin/replicas``)."""

    id: str
    self: bool = Field(description="true for the replica that answers")
    heartbeat_age_seconds: float | None = Field(description="seconds since its last heartbeat")
    started_at: float | None = Field(description="its start (Unix time); null before its first report")
    reported_at: float | None = Field(description="its last ownership round's report (Unix time)")
    accounts: list[str] = Field(description="the accounts whose leases it holds, as of reported_at")
    internal_url: str | None = Field(
        default=None,
        description="its `cluster.internal_url`, where the other replicas forward what lives on it; null: "
        "never forwarded to (unset, or no report yet)",
    )


def account_out(
    info: AccountInfo,
    *,
    added: bool,
    catalog: Catalog,
    now: float | None = None,
    owner: str | None = None,
) -> AccountOut:
    now = time.time() if now is None else now
    started = info.session_started_at
    return AccountOut(
        id=info.id,
        name=info.name,
        source="added" if added else "config",
        state=info.state.value,
        paused=info.paused,
        reason=info.reason,
        status_code=info.status_code,
        tier=info.tier,
        modes=sorted(mode.value for mode in info.modes),
        tools=sorted(tool.value for tool in info.tools),
        models=[model.label for model in info.models],
        active_turns=info.active_turns,
        turns_served=info.turns_served,
        last_error=info.last_error,
        # Keyed by quota (a model family or a tool) as the pool names it; str() of a StrEnum is its value.
        cooling_until={str(quota): until for quota, until in info.cooling_until.items()},
        blocked_until=info.blocked_until,
        cookies_saved_at=info.cookies_saved_at,
        egress=info.egress,
        proxy=info.proxy,
        signin_method=info.signin_method,
        session_started_at=started,
        session_age_seconds=round(max(0.0, now - started), 1) if started is not None else None,
        last_rotation_at=info.last_rotation_at,
        needs_person=info.needs_person,
        needs_person_since=info.needs_person_since,
        needs_person_hint=hint(info.needs_person, info.signin_method),
        gems=[
            GemOut(
                id=listed.gem.id,
                name=listed.gem.name,
                premade=listed.gem.premade,
                model=listed.model,
                aliases=list(listed.aliases),
            )
            for listed in catalog.gem_listing(info)
        ],
        owner=owner,
    )


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    expires_in: float | None = Field(None, gt=0, description="seconds from now")
    max_concurrent: int | None = Field(None, ge=1)
    per_minute: int | None = Field(None, ge=1)
    accounts: list[str] | None = Field(None, min_length=1, description="account ids this key may use")
    scopes: list[str] | None = Field(None, min_length=1, description=_SCOPES)


class KeyScopes(BaseModel):
    """``PATCH /admin/keys/{id}``: the key's new scopes; null lifts them (everything allowed)."""

    model_config = ConfigDict(extra="forbid")

    scopes: list[str] | None = Field(description=_SCOPES)


class KeyOut(BaseModel):
    id: str
    name: str
    shown: str
    state: str  # live | revoked | expired
    created_at: float
    expires_at: float | None
    max_concurrent: int | None
    per_minute: int | None
    accounts: list[str] | None
    revoked_at: float | None
    last_used_at: float | None
    requests: int
    active: int
    scopes: list[str] | None


class KeyCreated(KeyOut):
    key: str = Field(description="shown once, now; the gateway keeps only its digest")


def key_out(record: KeyRecord, *, now: float, active: int) -> KeyOut:
    if record.revoked_at is not None:
        state = "revoked"
    elif record.live(now):
        state = "live"
    else:
        state = "expired"
    return KeyOut(
        id=record.id,
        name=record.name,
        shown=record.shown,
        state=state,
        created_at=record.created_at,
        expires_at=record.expires_at,
        max_concurrent=record.max_concurrent,
        per_minute=record.per_minute,
        accounts=list(record.accounts) if record.accounts is not None else None,
        revoked_at=record.revoked_at,
        last_used_at=record.last_used_at,
        requests=record.requests,
        active=active,
        scopes=list(record.scopes) if record.scopes is not None else None,
    )
