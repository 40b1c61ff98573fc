"""An account to add, as an operator pastes it: a ``__Secure-1PSID`` value (with
``__Secure-1PSIDTS`` optionally), a cookie string as DevTools copies it (``name=value; ...``), or a
cookie file (Netscape, an extension's JSON, a HAR, Firefox's ``cookies.sqlite``: the formats are
``browser.read_cookie_file``'s). Errors name what is wrong, never a value."""

from __future__ import annotations

import base64
import binascii
import hashlib

from browser import (
    AccountSpec,
    CookieFileFormat,
    CookieFormatError,
    SigninMethod,
    detect_format,
    read_cookie_file,
)

__all__ = [
    "PSID",
    "PSIDTS",
    "session_digest",
    "spec_from_cookie_file",
    "spec_from_cookie_string",
    "spec_from_input",
    "spec_from_paste",
    "spec_from_upload",
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


def spec_from_cookie_file(
    data: bytes | str, *, name: str | None, fmt: str | None = None, proxy: str | None = None
) -> AccountSpec:
    """A cookie file's Google cookies as the spec's ``cookies``: the file itself (a HAR holds every
    site's cookies and headers) is never stored."""
    cookies = read_cookie_file(data, fmt or CookieFileFormat.AUTO)
    return AccountSpec(name=name, cookies=[cookie.to_export() for cookie in cookies], proxy=proxy)


def _file_bytes(cookie_file: str, encoding: str | None) -> bytes | str:
    if encoding in (None, "text"):
        return cookie_file
    if encoding != "base64":
        raise CookieFormatError("cookie_file_encoding is text or base64")
    try:
        return base64.b64decode(cookie_file, validate=True)
    except (binascii.Error, ValueError):
        raise CookieFormatError("cookie_file is not valid base64") from None


def spec_from_input(
    *,
    name: str | None,
    psid: str | None,
    psidts: str | None,
    cookie_string: str | None,
    cookie_file: str | None,
    proxy: str | None,
    cookie_file_format: str | None = None,
    cookie_file_encoding: str | None = None,
    signin_method: SigninMethod = SigninMethod.COOKIE_IMPORT,
) -> AccountSpec:
    """The pool's ``AccountSpec``. Imported cookies (the default ``signin_method``): exactly one
    source must be given; ``cookie_file`` is text, or base64 with ``cookie_file_encoding="base64"``
    (a binary ``cookies.sqlite``). A profile account (signed_in_inside, profile_import): a name and
    no cookies, the session lives in the account's own Chromium profile."""
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
    if (cookie_file_format or cookie_file_encoding) and not cookie_file:
        raise CookieFormatError("cookie_file_format and cookie_file_encoding go with cookie_file")
    if cookie_file:
        data = _file_bytes(cookie_file, cookie_file_encoding)
        return spec_from_cookie_file(data, name=name, fmt=cookie_file_format, proxy=proxy)
    spec = AccountSpec(
        name=name,
        psid=psid,
        psidts=psidts,
        cookies=spec_from_cookie_string(cookie_string) if cookie_string else None,
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
    """What the dashboard's one text box takes: a text cookie file (Netscape, JSON, HAR), a DevTools
    cookie string (``name=value; ...``), or a bare ``__Secure-1PSID`` value."""
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


def spec_from_upload(data: bytes, *, name: str | None, fmt: str = "auto") -> AccountSpec:
    """A file's bytes as the CLI reads them: a binary ``cookies.sqlite``, a named format, or text
    taken as the dashboard's box takes it (a cookie file, a cookie string, a bare value)."""
    if fmt != CookieFileFormat.AUTO or detect_format(data) is CookieFileFormat.SQLITE:
        return spec_from_cookie_file(data, name=name, fmt=fmt)
    # detect_format has read it as UTF-8 (or raised).
    return spec_from_paste(data.decode("utf-8-sig"), name=name, psidts=None, proxy=None)
