"""Cookie import (``__Secure-1PSID`` alone, with ``__Secure-1PSIDTS``, JSON or Netscape exports)
and the translation of stored cookies into what a browser context for the Gemini URL accepts.

No function here ever puts a cookie value into an exception message.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from playwright._impl._api_structures import SetCookieParam

from browser.errors import CookieFormatError

PSID = "__Secure-1PSID"
PSIDTS = "__Secure-1PSIDTS"

SameSite = Literal["Lax", "None", "Strict"]
_SAME_SITE: dict[str, SameSite] = {
    "lax": "Lax",
    "none": "None",
    "no_restriction": "None",
    "strict": "Strict",
}


@dataclass(frozen=True)
class Cookie:
    """A cookie as we keep it, independent of the browser that will receive it."""

    name: str
    value: str = field(repr=False)  # a session credential: never in logs or tracebacks
    domain: str = ".google.com"
    path: str = "/"
    expires: float = -1
    http_only: bool = False
    secure: bool = True
    same_site: SameSite = "None"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cookie:
        return cls(**data)


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
    """A JSON list (browser-extension export, or ``{"cookies": [...]}``) or Netscape cookies.txt."""
    stripped = text.strip()
    if not stripped:
        raise CookieFormatError("the cookie export is empty")
    cookies = _parse_json(stripped) if stripped[0] in "[{" else _parse_netscape(stripped)
    kept = [cookie for cookie in cookies if _is_google(cookie.domain)]
    psid_of(kept)  # an export without the session cookie cannot sign in
    return kept


def _parse_json(text: str) -> list[Cookie]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CookieFormatError(f"cookie export is not valid JSON (line {exc.lineno})") from None
    if isinstance(data, dict):
        data = data.get("cookies", [])
    if not isinstance(data, list):
        raise CookieFormatError("JSON cookie export must be a list of cookies")
    return [_json_cookie(item, index) for index, item in enumerate(data)]


def _json_cookie(item: object, index: int) -> Cookie:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or "value" not in item:
        raise CookieFormatError(f"cookie #{index} lacks a name or value")
    expires = item.get("expirationDate", item.get("expires", -1))
    same_site = str(item.get("sameSite", "none")).lower()
    return Cookie(
        name=item["name"],
        value=str(item["value"]),
        domain=str(item.get("domain", ".google.com")),
        path=str(item.get("path", "/")),
        expires=float(expires) if isinstance(expires, int | float) else -1,
        http_only=bool(item.get("httpOnly", False)),
        secure=bool(item.get("secure", True)),
        same_site=_SAME_SITE.get(same_site, "None"),
    )


def _parse_netscape(text: str) -> list[Cookie]:
    cookies: list[Cookie] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        http_only = line.startswith("#HttpOnly_")
        if http_only:
            line = line[len("#HttpOnly_") :]
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 7:
            raise CookieFormatError(f"Netscape cookie line {number} does not have 7 tab-separated fields")
        domain, _subdomains, path, secure, expires, name, value = fields
        cookies.append(
            Cookie(
                name=name,
                value=value,
                domain=domain,
                path=path or "/",
                expires=float(expires) if expires.strip("-").isdigit() and int(expires) > 0 else -1,
                http_only=http_only,
                secure=secure.upper() == "TRUE",
            )
        )
    return cookies


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
