"""Cookies as we keep them, the minimal import (``__Secure-1PSID`` alone or with
``__Secure-1PSIDTS``; cookie files: ``browser._cookie_formats``) and the translation of stored
cookies into what a browser context for the Gemini URL accepts.

No function here ever puts a cookie value into an exception message.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from playwright._impl._api_structures import SetCookieParam

from browser._cookie import PSID, PSIDTS, Cookie, SameSite
from browser._cookie_formats import read_cookie_file
from browser.errors import CookieFormatError

__all__ = [
    "PSID",
    "PSIDTS",
    "Cookie",
    "SameSite",
    "account_id_for",
    "for_site",
    "from_context",
    "from_session",
    "parse_export",
    "psid_of",
]

_SAME_SITE: dict[str, SameSite] = {
    "lax": "Lax",
    "none": "None",
    "no_restriction": "None",
    "strict": "Strict",
}


def account_id_for(name: str | None, cookies: list[Cookie]) -> str:
    """A user-given name, or a short hash of the session cookie (never the cookie itself)."""
    if name:
        return name
    digest = hashlib.sha256(psid_of(cookies).encode()).hexdigest()[:12]
    return f"acct-{digest}"


def psid_of(cookies: list[Cookie]) -> str:
    for cookie in cookies:
        if cookie.name == PSID:
            return cookie.value
    raise CookieFormatError(f"no {PSID} cookie in the export")


def from_session(psid: str, psidts: str | None = None) -> list[Cookie]:
    """The minimal set: the long-lived session cookie and, optionally, its timestamp ticket."""
    if not psid.strip():
        raise CookieFormatError(f"{PSID} is empty")
    cookies = [Cookie(PSID, psid.strip(), http_only=True)]
    if psidts:
        cookies.append(Cookie(PSIDTS, psidts.strip(), http_only=True))
    return cookies


def parse_export(text: str) -> list[Cookie]:
    """Any text cookie file ``browser._cookie_formats`` reads (JSON, Netscape, HAR, header string).
    An expired session is let through: a kept account then shows as signed out instead of vanishing
    (a new import is refused at the door: ``read_cookie_file``)."""
    return read_cookie_file(text, refuse_expired=False)


def _is_google(domain: str) -> bool:
    host = domain.lstrip(".").lower()
    return host == "google.com" or host.endswith(".google.com")


def for_site(cookies: list[Cookie], base_url: str) -> list[SetCookieParam]:
    """Cookies in the domain/path form a context accepts for ``base_url``.

    The real site gets the ``.google.com`` cookies as exported; any other host (the simulator on
    ``localhost``) gets them all re-homed to that host. ``secure=True`` always: the ``url=`` form
    rejects Secure cookies on plain http, the domain form does not on ``localhost``.
    """
    host = urlsplit(base_url).hostname or "localhost"
    real = _is_google(host)
    params: list[SetCookieParam] = []
    for cookie in cookies:
        if real and not _is_google(cookie.domain):
            continue
        param: SetCookieParam = {
            "name": cookie.name,
            "value": cookie.value,
            "domain": cookie.domain if real else host,
            "path": cookie.path or "/",
            "secure": True,
            "httpOnly": cookie.http_only,
            "sameSite": cookie.same_site,
        }
        if cookie.expires > 0:
            param["expires"] = cookie.expires
        params.append(param)
    return params


def from_context(raw: list[Any], base_url: str) -> list[Cookie]:
    """Cookies read back from a context, limited to the site's host (or Google's domains)."""
    host = urlsplit(base_url).hostname or "localhost"
    real = _is_google(host)
    kept: list[Cookie] = []
    for item in raw:
        domain = str(item.get("domain", ""))
        if (real and not _is_google(domain)) or (not real and domain.lstrip(".") != host):
            continue
        same_site = str(item.get("sameSite", "None")).lower()
        kept.append(
            Cookie(
                name=str(item["name"]),
                value=str(item["value"]),
                domain=".google.com" if not real else domain,
                path=str(item.get("path", "/")),
                expires=float(item.get("expires", -1)),
                http_only=bool(item.get("httpOnly", False)),
                secure=bool(item.get("secure", True)),
                same_site=_SAME_SITE.get(same_site, "None"),
            )
        )
    return kept
