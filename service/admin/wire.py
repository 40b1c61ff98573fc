"""The admin API's JSON shapes. Secrets come in as ``SecretStr`` and never go out: an account is
shown by id, name and state, a key by its first characters."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from browser import AccountInfo
from service.key_scopes import SCOPES
from service.keys import KeyRecord

__all__ = ["AccountIn", "AccountOut", "KeyCreated", "KeyIn", "KeyOut", "KeyScopes", "account_out", "key_out"]

NAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
_SCOPES = f"model families and kinds of work this key may use ({', '.join(SCOPES)}); none: all"


class AccountIn(BaseModel):
    """Exactly one of ``psid`` (with ``psidts`` optionally), ``cookie_string`` (``name=value; ...``
    as DevTools copies it) or ``cookie_file`` (the text of a JSON or Netscape export)."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    name: str | None = Field(None, min_length=1, max_length=64, pattern=NAME_PATTERN)
    psid: SecretStr | None = None
    psidts: SecretStr | None = None
    cookie_string: SecretStr | None = None
    cookie_file: SecretStr | None = None
    proxy: SecretStr | None = None


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


def account_out(info: AccountInfo, *, added: bool) -> AccountOut:
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
