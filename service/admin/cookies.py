"""An account to add, as an operator pastes it: a ``__Secure-1PSID`` value (with
``__Secure-1PSIDTS`` optionally), a cookie string as DevTools copies it (``name=value; ...``), or an
exported cookie file (JSON or Netscape). Errors name what is wrong, never a value."""

from __future__ import annotations

import hashlib

from browser import AccountSpec, CookieFormatError, SigninMethod

__all__ = [
    "PSID",
    "PSIDTS",
    "session_digest",
    "spec_from_cookie_string",
    "spec_from_input",
    "spec_from_paste",
]

PSID = "__Secure-1PSID"
PSIDTS = "__Secure-1PSIDTS"


def spec_from_cookie_string(text: str) -> list[dict[str, object]]:
    """The cookies of ``name=value; name=value`` as an export list (on Google's domain)."""
    cookies: list[dict[str, object]] = []
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.strip().partition("=")
        if not sep or not name.strip():
            raise CookieFormatError("the cookie string is not name=value pairs separated by ';'")
        cookies.append({"name": name.strip(), "value": value.strip(), "domain": ".google.com", "path": "/"})
    if not any(cookie["name"] == PSID and cookie["value"] for cookie in cookies):
        raise CookieFormatError(f"the cookie string has no {PSID}")
    return cookies


def spec_from_input(
    *,
    name: str | None,
    psid: str | None,
    psidts: str | None,
    cookie_string: str | None,
    cookie_file: str | None,
    proxy: str | None,
    signin_method: SigninMethod = SigninMethod.COOKIE_IMPORT,
) -> AccountSpec:
    """The pool's ``AccountSpec``. Imported cookies (the default ``signin_method``): exactly one
    source must be given. A profile account (signed_in_inside, profile_import): a name and no
    cookies, the session lives in the account's own Chromium profile."""
    given = [source for source in (psid, cookie_string, cookie_file) if source]
    if signin_method is SigninMethod.COOKIE_IMPORT:
        if len(given) != 1:
            raise CookieFormatError("give exactly one of psid, cookie_string or cookie_file")
    elif given or psidts:
        raise CookieFormatError(
            f"signin_method {signin_method.value} takes no cookies: the account's profile holds the session"
        )
    elif not name:
        raise CookieFormatError(f"signin_method {signin_method.value} needs a name (its profile directory's)")
    if psidts and not psid:
        raise CookieFormatError("psidts goes with psid")
    spec = AccountSpec(
        name=name,
        psid=psid,
        psidts=psidts,
        cookies=spec_from_cookie_string(cookie_string) if cookie_string else None,
        cookie_file_text=cookie_file,
        proxy=proxy,
        signin_method=signin_method,
    )
    spec.parse_cookies()  # raises CookieFormatError before the pool is touched
    return spec


def session_digest(spec: AccountSpec) -> str:
    """A digest of the session cookie: tells two additions of one session apart from two sessions.
    A profile account has no cookie to digest: its profile (named after the account) is its session."""
    if spec.profile:
        return f"profile:{spec.name}"
    psid = next(cookie.value for cookie in spec.parse_cookies() if cookie.name == PSID)
    return hashlib.sha256(psid.encode()).hexdigest()


def spec_from_paste(text: str, *, name: str | None, psidts: str | None, proxy: str | None) -> AccountSpec:
    """What the dashboard's one text box takes: a JSON or Netscape export, a DevTools cookie string
    (``name=value; ...``), or a bare ``__Secure-1PSID`` value."""
    stripped = text.strip()
    if not stripped:
        raise CookieFormatError("paste a cookie value, a cookie string or a cookie export")
    if stripped[0] in "[{" or "\t" in stripped:
        return spec_from_input(
            name=name, psid=None, psidts=None, cookie_string=None, cookie_file=stripped, proxy=proxy
        )
    if "=" in stripped.rstrip("=") or ";" in stripped:
        return spec_from_input(
            name=name, psid=None, psidts=None, cookie_string=stripped, cookie_file=None, proxy=proxy
        )
    return spec_from_input(
        name=name, psid=stripped, psidts=psidts, cookie_string=None, cookie_file=None, proxy=proxy
    )
