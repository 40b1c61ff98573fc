"""The cookie files people have, read into the Google cookie jar we keep.

Formats: a Netscape ``cookies.txt`` (curl, yt-dlp, the "cookies.txt" extensions, Cookie-Editor's
Netscape export), a JSON list (Cookie-Editor, EditThisCookie, Playwright's ``storage_state``), a
cookie header string (Cookie-Editor's "Header String"), a HAR file (browser DevTools) and Firefox's
``cookies.sqlite``. Detection is automatic; a caller may name the format.

Only the cookies a browser sends to Gemini and its sign-in are kept (``.google.com``,
``gemini.google.com``, ``accounts.google.com``); other sites' cookies are dropped, never stored.
Errors name the line (Netscape), the JSON path (JSON, HAR) or the row and column (SQLite), never a
value: a cookie value is a session credential.
"""

from __future__ import annotations

import enum
import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from browser._cookie import PSID, Cookie, SameSite
from browser.errors import CookieFormatError

__all__ = ["CookieFileFormat", "detect_format", "is_kept_domain", "read_cookie_file"]

SQLITE_MAGIC = b"SQLite format 3\x00"
# Hosts whose cookies reach gemini.google.com or its sign-in (a ``.google.com`` cookie reaches both).
KEPT_HOSTS = frozenset({"google.com", "gemini.google.com", "accounts.google.com"})
# Firefox's nsICookie constants (0 none, 1 lax, 2 strict; 256 unset, which Firefox sends like none).
_FIREFOX_SAME_SITE: dict[int, SameSite] = {0: "None", 1: "Lax", 2: "Strict", 256: "None"}
# Firefox 142 moved ``moz_cookies.expiry`` from seconds to milliseconds with schema 16.
_FIREFOX_MS_SCHEMA = 16
_FIREFOX_COLUMNS = ("host", "name", "value", "path", "expiry", "isSecure", "isHttpOnly")
# Extension exports: Cookie-Editor writes lower case, EditThisCookie the chrome.cookies enum;
# "unspecified" is what Chrome treats as Lax.
_JSON_SAME_SITE: dict[str, SameSite] = {
    "lax": "Lax",
    "strict": "Strict",
    "none": "None",
    "no_restriction": "None",
    "unspecified": "Lax",
}


class CookieFileFormat(enum.StrEnum):
    AUTO = "auto"
    NETSCAPE = "netscape"
    JSON = "json"
    HAR = "har"
    SQLITE = "sqlite"
    HEADER = "header"


def is_kept_domain(domain: str) -> bool:
    return domain.lstrip(".").lower() in KEPT_HOSTS


def detect_format(data: bytes | str) -> CookieFileFormat:
    """The format of a cookie file from its first bytes and shape."""
    if isinstance(data, bytes):
        if data.startswith(SQLITE_MAGIC):
            return CookieFileFormat.SQLITE
        data = _text(data)
    stripped = data.lstrip("\ufeff").strip()
    if stripped[:1] in ("[", "{"):
        try:
            parsed = json.loads(stripped)
        except json.JSONDecodeError:
            return CookieFileFormat.JSON  # its parser names the line and column
        if isinstance(parsed, dict) and isinstance(parsed.get("log"), dict):
            return CookieFileFormat.HAR
        return CookieFileFormat.JSON
    lines = [line for line in stripped.splitlines() if line.strip() and not _is_comment(line)]
    if "\t" in stripped or stripped.startswith("# Netscape HTTP Cookie File") or not lines:
        return CookieFileFormat.NETSCAPE
    return CookieFileFormat.HEADER


def read_cookie_file(
    data: bytes | str, fmt: CookieFileFormat | str = CookieFileFormat.AUTO, *, refuse_expired: bool = True
) -> list[Cookie]:
    """The Google cookies of a cookie file; raises ``CookieFormatError`` for a file that cannot be
    read or lacks ``__Secure-1PSID`` (or, with ``refuse_expired``, whose ``__Secure-1PSID`` has
    expired: right for a new import, wrong for an account already kept, which should show as signed
    out rather than vanish)."""
    if not data or not (data.strip() if isinstance(data, str) else data.strip(b" \t\r\n\xef\xbb\xbf")):
        raise CookieFormatError("the cookie file is empty")
    try:
        chosen = CookieFileFormat(fmt)
    except ValueError:
        known = ", ".join(f.value for f in CookieFileFormat)
        raise CookieFormatError(f"unknown cookie file format (known: {known})") from None
    if chosen is CookieFileFormat.AUTO:
        chosen = detect_format(data)
    if chosen is CookieFileFormat.SQLITE:
        if isinstance(data, str):
            raise CookieFormatError("a cookies.sqlite file is binary: give its bytes (base64 in JSON)")
        cookies = _firefox(data)
    else:
        text = _text(data) if isinstance(data, bytes) else data
        text = text.lstrip("\ufeff")
        readers = {
            CookieFileFormat.NETSCAPE: _netscape,
            CookieFileFormat.JSON: _extension_json,
            CookieFileFormat.HAR: _har,
            CookieFileFormat.HEADER: _header,
        }
        cookies = readers[chosen](text)
    kept = [cookie for cookie in cookies if is_kept_domain(cookie.domain)]
    _require_session(kept, chosen, refuse_expired=refuse_expired)
    return kept


def _require_session(cookies: list[Cookie], fmt: CookieFileFormat, *, refuse_expired: bool) -> None:
    session = next((cookie for cookie in cookies if cookie.name == PSID and cookie.value), None)
    if session is None:
        raise CookieFormatError(
            f"no {PSID} cookie for .google.com in the {fmt.value} file ({len(cookies)} Google cookies "
            "found): export the cookies of a browser signed in to gemini.google.com"
        )
    if refuse_expired and 0 < session.expires < time.time():
        when = datetime.fromtimestamp(session.expires).astimezone().isoformat(timespec="seconds")
        raise CookieFormatError(f"the {PSID} cookie in the file expired at {when}: export it again")


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CookieFormatError(
            f"the cookie file is neither UTF-8 text nor an SQLite database (byte {exc.start})"
        ) from None


def _is_comment(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("#") and not stripped.startswith("#HttpOnly_")


def _domain(domain: str, *, host_only: bool | None) -> str:
    """Host-only cookies have no leading dot (Playwright's form); domain cookies have one."""
    bare = domain.strip().lstrip(".").lower()
    if host_only is None:
        return domain.strip().lower()
    return bare if host_only else "." + bare


# -- Netscape cookies.txt --


def _netscape(text: str) -> list[Cookie]:
    cookies: list[Cookie] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or _is_comment(line):
            continue
        line = line.lstrip()
        http_only = line.startswith("#HttpOnly_")
        if http_only:
            line = line[len("#HttpOnly_") :]
        fields = line.split("\t")
        if len(fields) != 7:
            hint = " (fields are separated by tabs; spaces do not count)" if len(fields) < 7 else ""
            raise CookieFormatError(
                f"Netscape cookie file line {number}: {len(fields)} tab-separated fields, expected 7{hint}"
            )
        domain, subdomains, path, secure, expires, name, value = fields
        if not domain.strip() or not name:
            raise CookieFormatError(f"Netscape cookie file line {number}: empty domain or name field")
        flags = {"subdomains (2nd)": subdomains, "secure (4th)": secure}
        for what, flag in flags.items():
            if flag.strip().upper() not in ("TRUE", "FALSE"):
                raise CookieFormatError(
                    f"Netscape cookie file line {number}: the {what} field is not TRUE/FALSE"
                )
        try:
            expiry = float(expires)
        except ValueError:
            raise CookieFormatError(
                f"Netscape cookie file line {number}: the expiry (5th) field is not a number"
            ) from None
        cookies.append(
            Cookie(
                name=name,
                value=value,
                domain=_domain(domain, host_only=subdomains.strip().upper() == "FALSE"),
                path=path or "/",
                expires=expiry if expiry > 0 else -1,  # 0: a session cookie
                http_only=http_only,
                secure=secure.strip().upper() == "TRUE",
            )
        )
    return cookies


# -- Cookie-Editor's "Header String" --


def _header(text: str) -> list[Cookie]:
    cookies: list[Cookie] = []
    body = text.strip()
    if body.lower().startswith("cookie:"):
        body = body[len("cookie:") :]
    for index, part in enumerate(body.split(";"), start=1):
        if not part.strip():
            continue
        name, sep, value = part.strip().partition("=")
        if not sep or not name.strip():
            raise CookieFormatError(f"cookie header string: pair {index} is not name=value")
        cookies.append(Cookie(name.strip(), value.strip(), ".google.com"))
    return cookies


# -- JSON (browser extensions, storage_state) --


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CookieFormatError(
            f"the {what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def _extension_json(text: str) -> list[Cookie]:
    data = _json(text, "JSON cookie file")
    prefix = "$"
    if isinstance(data, dict):
        if "cookies" not in data:
            raise CookieFormatError('JSON cookie file: expected a list of cookies or {"cookies": [...]}')
        data, prefix = data["cookies"], "$.cookies"
    if not isinstance(data, list):
        raise CookieFormatError(f"JSON cookie file: {prefix} is not a list of cookies")
    return [_json_cookie(item, f"{prefix}[{index}]") for index, item in enumerate(data)]


def _field(item: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = item.get(key)
    if value is not None and (not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)):
        raise CookieFormatError(f"{where}.{key}: not a {_kind_name(kind)}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "string", bool: "boolean", int: "number", float: "number", list: "list", dict: "object"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return "/".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def _json_cookie(item: object, where: str) -> Cookie:
    if not isinstance(item, dict):
        raise CookieFormatError(f"{where}: not a cookie object")
    for key in ("name", "value"):
        if key not in item:
            raise CookieFormatError(f"{where}: no {key!r} field")
    name = _field(item, "name", str, where)
    value = _field(item, "value", str, where)
    if not name:
        raise CookieFormatError(f"{where}.name: empty")
    domain = _field(item, "domain", str, where) or ".google.com"
    host_only = _field(item, "hostOnly", bool, where)
    if _field(item, "session", bool, where):
        expires: float = -1
    else:
        key = "expirationDate" if "expirationDate" in item else "expires"
        raw = _field(item, key, (int, float), where)
        expires = float(raw) if raw is not None and raw > 0 else -1
    same_site_text = _field(item, "sameSite", str, where)
    same_site: SameSite = "None"
    if same_site_text is not None:
        if same_site_text.lower() not in _JSON_SAME_SITE:
            raise CookieFormatError(f"{where}.sameSite: not one of {', '.join(_JSON_SAME_SITE)}")
        same_site = _JSON_SAME_SITE[same_site_text.lower()]
    secure = _field(item, "secure", bool, where)
    return Cookie(
        name=name,
        value=value or "",
        domain=_domain(domain, host_only=host_only),
        path=_field(item, "path", str, where) or "/",
        expires=expires,
        http_only=bool(_field(item, "httpOnly", bool, where)),
        secure=True if secure is None else secure,
        same_site=same_site,
    )


# -- HAR 1.2 (DevTools "Export HAR (with sensitive data)") --


def _har(text: str) -> list[Cookie]:
    data = _json(text, "HAR file")
    log = data.get("log") if isinstance(data, dict) else None
    if not isinstance(log, dict):
        raise CookieFormatError("HAR file: no log object")
    entries = log.get("entries")
    if not isinstance(entries, list):
        raise CookieFormatError("HAR file: log.entries is not a list")
    indexed = list(enumerate(entries))
    # Entries are in start order as DevTools writes them; sort anyway (stable) so the latest wins.
    indexed.sort(key=lambda pair: _started(pair[1], f"log.entries[{pair[0]}]"))
    latest: dict[tuple[str, str], Cookie] = {}
    explicit: dict[tuple[str, str], str] = {}  # the domain a Set-Cookie gave, for request cookies
    seen = 0
    for index, entry in indexed:
        where = f"log.entries[{index}]"
        for part in ("request", "response"):
            message = entry.get(part)
            if message is None:
                continue
            if not isinstance(message, dict):
                raise CookieFormatError(f"{where}.{part}: not an object")
            cookies = message.get("cookies", [])
            if not isinstance(cookies, list):
                raise CookieFormatError(f"{where}.{part}.cookies: not a list")
            host = _entry_host(entry, where) if cookies else ""
            for number, item in enumerate(cookies):
                cookie, given = _har_cookie(item, f"{where}.{part}.cookies[{number}]", host, part)
                key = (cookie.name, cookie.path)
                if given:
                    explicit[key] = cookie.domain
                elif key in explicit:
                    cookie = _with_domain(cookie, explicit[key])
                latest[key] = cookie
                seen += 1
    if entries and not seen:
        raise CookieFormatError(
            "HAR file: no cookies in any entry (Chrome's 'Export HAR (sanitized)' leaves them out: "
            "use 'Export HAR (with sensitive data)')"
        )
    now = time.time()
    # A cookie whose latest Set-Cookie expired it was deleted by the site.
    return [cookie for cookie in latest.values() if not 0 < cookie.expires < now]


def _with_domain(cookie: Cookie, domain: str) -> Cookie:
    return Cookie(
        cookie.name,
        cookie.value,
        domain,
        cookie.path,
        cookie.expires,
        cookie.http_only,
        cookie.secure,
        cookie.same_site,
    )


def _started(entry: object, where: str) -> str:
    if not isinstance(entry, dict):
        raise CookieFormatError(f"{where}: not an object")
    started = entry.get("startedDateTime", "")
    if not isinstance(started, str):
        raise CookieFormatError(f"{where}.startedDateTime: not a string")
    return started


def _entry_host(entry: dict[str, Any], where: str) -> str:
    request = entry.get("request")
    url = request.get("url") if isinstance(request, dict) else None
    if not isinstance(url, str) or not urlsplit(url).hostname:
        raise CookieFormatError(f"{where}.request.url: not an absolute URL")
    return urlsplit(url).hostname or ""


def _inferred_domain(host: str, part: str) -> str:
    """A cookie without a domain: a Set-Cookie without one belongs to the answering host alone; a
    request cookie could come from any parent domain, and Google sets its sign-in cookies on
    ``.google.com``, so a cookie sent to a Google host is taken as a ``.google.com`` cookie."""
    host = host.lower()
    if part == "request" and (host == "google.com" or host.endswith(".google.com")):
        return ".google.com"
    return host


def _har_cookie(item: object, where: str, host: str, part: str) -> tuple[Cookie, bool]:
    if not isinstance(item, dict):
        raise CookieFormatError(f"{where}: not a cookie object")
    for key in ("name", "value"):
        if not isinstance(item.get(key), str):
            raise CookieFormatError(f"{where}.{key}: missing or not a string")
    domain = _field(item, "domain", str, where)
    expires_text = _field(item, "expires", str, where)
    expires: float = -1
    if expires_text:
        try:
            expires = datetime.fromisoformat(expires_text.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise CookieFormatError(f"{where}.expires: not an ISO 8601 date") from None
    same_site_text = _field(item, "sameSite", str, where)
    same_site = _JSON_SAME_SITE.get((same_site_text or "none").lower())
    if same_site is None:
        raise CookieFormatError(f"{where}.sameSite: not Lax, Strict or None")
    cookie = Cookie(
        name=item["name"],
        value=item["value"],
        domain=_domain(domain, host_only=False) if domain else _inferred_domain(host, part),
        path=_field(item, "path", str, where) or "/",
        expires=expires,
        http_only=bool(_field(item, "httpOnly", bool, where)),
        secure=bool(_field(item, "secure", bool, where)) or item["name"].startswith("__Secure-"),
        same_site=same_site,
    )
    return cookie, bool(domain)


# -- Firefox cookies.sqlite --


def _firefox(data: bytes) -> list[Cookie]:
    if not data.startswith(SQLITE_MAGIC):
        raise CookieFormatError("the file is not an SQLite database (no 'SQLite format 3' header)")
    image = bytearray(data)
    # Firefox keeps the file in WAL mode; an in-memory copy can only be read in rollback mode.
    if image[18:20] == b"\x02\x02":
        image[18:20] = b"\x01\x01"
    connection = sqlite3.connect(":memory:")
    try:
        try:
            connection.deserialize(bytes(image))
            listed = connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            tables = {str(row[0]) for row in listed}
            return _moz_cookies(connection, tables)
        except sqlite3.DatabaseError as exc:
            raise CookieFormatError(f"the SQLite file cannot be read ({type(exc).__name__})") from None
    finally:
        connection.close()


def _moz_cookies(connection: sqlite3.Connection, tables: set[str]) -> list[Cookie]:
    if "moz_cookies" not in tables:
        if "cookies" in tables:
            raise CookieFormatError(
                "this is a Chromium cookie database: its values are encrypted with a key of the machine "
                "that wrote it; export with a browser extension or use Firefox's cookies.sqlite"
            )
        raise CookieFormatError("the SQLite file has no moz_cookies table (is it Firefox's cookies.sqlite?)")
    columns = {str(row[1]) for row in connection.execute("PRAGMA table_info(moz_cookies)")}
    missing = [column for column in _FIREFOX_COLUMNS if column not in columns]
    if missing:
        raise CookieFormatError(f"moz_cookies has no column {', '.join(missing)}")
    schema = int(connection.execute("PRAGMA user_version").fetchone()[0])
    divisor = 1000 if schema >= _FIREFOX_MS_SCHEMA else 1
    same_site = "sameSite" if "sameSite" in columns else "0"
    origin = "originAttributes" if "originAttributes" in columns else "''"
    # The default container first: a cookie also held in a container or private window is skipped.
    rows = connection.execute(
        f"SELECT rowid, host, name, value, path, expiry, isSecure, isHttpOnly, {same_site} "
        f"FROM moz_cookies ORDER BY ({origin} != ''), rowid"
    )
    return list(_firefox_rows(rows, divisor))


def _firefox_rows(rows: Iterable[tuple[Any, ...]], divisor: int) -> Iterable[Cookie]:
    names = ("host", "name", "value", "path", "expiry", "isSecure", "isHttpOnly", "sameSite")
    kinds: tuple[type, ...] = (str, str, str, str, int, int, int, int)
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        rowid, values = row[0], row[1:]
        where = f"moz_cookies row {rowid}"
        if not isinstance(values[0], str):
            raise CookieFormatError(f"{where}, column host: not text")
        if not is_kept_domain(values[0]):
            continue  # another site's cookie: neither checked nor kept
        for column, kind, value in zip(names, kinds, values, strict=True):
            if value is None and column in ("value", "path", "expiry"):
                continue
            if not isinstance(value, kind):
                expected = "text" if kind is str else "an integer"
                raise CookieFormatError(f"{where}, column {column}: not {expected}")
        host, name, value, path, expiry, secure, http_only, same_site = values
        if (name, host, path) in seen:
            continue
        seen.add((name, host, path))
        if same_site not in _FIREFOX_SAME_SITE:
            raise CookieFormatError(f"{where}, column sameSite: not 0, 1, 2 or 256")
        expires = (expiry or 0) / divisor
        yield Cookie(
            name=name,
            value=value or "",
            domain=host.lower(),  # Firefox writes domain cookies with a leading dot
            path=path or "/",
            expires=expires if expires > 0 else -1,
            http_only=bool(http_only),
            secure=bool(secure),
            same_site=_FIREFOX_SAME_SITE[same_site],
        )
