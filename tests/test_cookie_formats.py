"""Every cookie file format, written as its tool writes it, read into the Google cookie jar; every
malformed file refused with the line, JSON path or row/column named and no value shown."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from browser import CookieFileFormat, CookieFormatError, detect_format, read_cookie_file
from browser._cookie import Cookie
from browser._cookies import parse_export
from service.admin.cookies import session_digest, spec_from_input
from tests.support import cookie_files
from tests.support.cookie_files import EXPIRES, KEPT, PSID, PSIDTS, WRITERS, Jar

JAR = Jar(psid="psid-SECRET-value-0001")
DETECTED = {
    "netscape": CookieFileFormat.NETSCAPE,
    "cookie-editor": CookieFileFormat.JSON,
    "editthiscookie": CookieFileFormat.JSON,
    "header-string": CookieFileFormat.HEADER,
    "har": CookieFileFormat.HAR,
    "firefox": CookieFileFormat.SQLITE,
}


def by_name(cookies: list[Cookie]) -> dict[str, Cookie]:
    names = [cookie.name for cookie in cookies]
    assert len(names) == len(set(names)), names
    return {cookie.name: cookie for cookie in cookies}


@pytest.mark.parametrize("tool", list(WRITERS))
def test_every_format_is_detected_and_keeps_the_whole_google_jar(tool: str) -> None:
    data = WRITERS[tool](JAR)
    assert detect_format(data) is DETECTED[tool]
    cookies = by_name(read_cookie_file(data))
    assert set(cookies) == KEPT[tool]  # the whole jar, and nothing of youtube.com
    assert {name: cookie.value for name, cookie in cookies.items()} == {
        name: value for name, value in JAR.google().items() if name in KEPT[tool]
    }
    assert all(cookie.value != JAR.youtube for cookie in cookies.values())
    # The explicit format gives the same jar as detection.
    assert read_cookie_file(data, DETECTED[tool].value) == list(read_cookie_file(data))


@pytest.mark.parametrize("tool", ["netscape", "cookie-editor", "editthiscookie", "har", "firefox"])
def test_attributes_survive_each_format(tool: str) -> None:
    cookies = by_name(read_cookie_file(WRITERS[tool](JAR)))
    session = cookies[PSID]
    assert session.domain == ".google.com" and session.path == "/"
    assert session.secure and session.same_site == "None"
    if tool != "har":  # a HAR's request cookies say nothing of their attributes
        assert session.http_only
    assert cookies["__Host-GAPS"].domain == "accounts.google.com"  # host-only stays host-only
    expected_expiry = EXPIRES + (0.812345 if tool in ("cookie-editor", "editthiscookie") else 0)
    assert cookies[PSIDTS].expires == pytest.approx(expected_expiry)
    if tool != "har":  # a HAR's request cookies say nothing of their attributes
        assert cookies["_ga"].domain == "gemini.google.com" and not cookies["_ga"].http_only


def test_netscape_session_cookies_and_crlf() -> None:
    cookies = by_name(read_cookie_file(cookie_files.netscape(JAR, newline="\r\n")))
    assert cookies["_ga"].expires == -1  # expiry 0: a session cookie
    assert cookies["_ga"].value == JAR.ga  # no stray \r in the value
    assert cookies["NID"].http_only and not cookies["_ga"].secure


def test_netscape_subdomain_flag_decides_the_leading_dot() -> None:
    """Hand-made or older files write a domain cookie without its dot, or a host-only one with it:
    the second field decides, as curl reads it."""
    text = (
        f"google.com\tTRUE\t/\tTRUE\t{EXPIRES}\t{PSID}\t{JAR.psid}\n"
        f".gemini.google.com\tFALSE\t/\tTRUE\t{EXPIRES}\t_ga\t{JAR.ga}\n"
    )
    cookies = by_name(read_cookie_file(text))
    assert (cookies[PSID].domain, cookies["_ga"].domain) == (".google.com", "gemini.google.com")


def test_extension_same_site_spellings() -> None:
    editor = by_name(read_cookie_file(cookie_files.cookie_editor_json(JAR)))
    assert (editor["NID"].same_site, editor["__Host-GAPS"].same_site) == ("Lax", "None")  # null: unset
    etc = by_name(read_cookie_file(cookie_files.edit_this_cookie_json(JAR)))
    assert etc["NID"].same_site == "Lax"  # "unspecified": what Chrome does with it
    assert etc["_ga"].expires == -1  # session: no expirationDate


def test_har_latest_value_wins_and_domains_are_inferred() -> None:
    cookies = by_name(read_cookie_file(cookie_files.har(JAR, stale_psidts="sidts-STALE")))
    assert cookies[PSIDTS].value == JAR.psidts  # the Set-Cookie of the later rotation
    assert cookies[PSIDTS].domain == ".google.com"
    assert cookies[PSID].domain == ".google.com"  # a request cookie sent to a Google host
    assert cookies["__Host-GAPS"].domain == "accounts.google.com"  # Set-Cookie without Domain


def test_har_entries_out_of_order_and_a_deleted_cookie() -> None:
    log = json.loads(cookie_files.har(JAR))
    entries = log["log"]["entries"]
    entries.reverse()  # the latest wins by startedDateTime, not by position
    deleted = {
        "name": "NID",
        "value": "",
        "path": "/",
        "domain": ".google.com",
        "expires": "2001-01-01T00:00:00.000Z",
    }
    entries[0]["response"]["cookies"].append(deleted)  # the youtube entry, now first, is the latest
    entries[0]["request"]["url"] = "https://gemini.google.com/app"
    cookies = by_name(read_cookie_file(json.dumps(log)))
    assert cookies[PSIDTS].value == JAR.psidts
    assert "NID" not in cookies  # expired by the latest Set-Cookie: deleted


def test_firefox_schema_seconds_and_milliseconds_and_containers() -> None:
    for schema in (12, 16, 17):
        cookies = by_name(read_cookie_file(cookie_files.firefox_sqlite(JAR, schema=schema)))
        assert cookies[PSID].expires == EXPIRES, schema
        assert cookies[PSID].value == JAR.psid  # the default container's, not userContextId=2's
        assert (cookies["NID"].same_site, cookies["__Host-GAPS"].same_site) == ("Lax", "Strict")


def test_firefox_file_as_a_running_firefox_leaves_it_wal_header_and_all() -> None:
    data = cookie_files.firefox_sqlite(JAR)
    assert data[18:20] == b"\x02\x02"  # WAL mode, as Firefox keeps it
    assert by_name(read_cookie_file(data))[PSID].value == JAR.psid


def test_to_export_round_trips_through_the_json_reader() -> None:
    cookies = read_cookie_file(cookie_files.firefox_sqlite(JAR))
    again = read_cookie_file(json.dumps([cookie.to_export() for cookie in cookies]))
    assert again == cookies


# -- the admin API's input: binary-safe --


def test_spec_from_input_takes_a_base64_sqlite_and_stores_only_google_cookies() -> None:
    encoded = base64.b64encode(cookie_files.firefox_sqlite(JAR)).decode()
    spec = spec_from_input(
        name="ff",
        psid=None,
        psidts=None,
        cookie_string=None,
        cookie_file=encoded,
        proxy=None,
        cookie_file_encoding="base64",
    )
    assert spec.cookie_file_text is None and spec.cookies is not None
    assert JAR.youtube not in json.dumps(spec.cookies)
    assert {c.name for c in spec.parse_cookies()} == KEPT["firefox"]
    assert session_digest(spec)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"cookie_file_encoding": "base64", "cookie_file": "not base64!"}, "base64"),
        ({"cookie_file_encoding": "rot13"}, "text or base64"),
        ({"cookie_file_format": "sqlite"}, "binary"),
        ({"cookie_file_format": "yaml"}, "unknown cookie file format"),
        ({"cookie_file": None, "psid": JAR.psid, "cookie_file_format": "json"}, "go with cookie_file"),
    ],
)
def test_spec_from_input_refuses_what_it_cannot_honour(extra: dict[str, str | None], message: str) -> None:
    arguments: dict[str, str | None] = {
        "name": None,
        "psid": None,
        "psidts": None,
        "cookie_string": None,
        "proxy": None,
        "cookie_file": cookie_files.netscape(JAR).decode(),
    } | extra
    with pytest.raises(CookieFormatError, match=message) as info:
        spec_from_input(**arguments)  # type: ignore[arg-type]
    assert not any(secret in str(info.value) for secret in JAR.secrets())


# -- malformed files: the place named, never a value --


def _replace_line(data: bytes, number: int, new: str) -> bytes:
    lines = data.decode().split("\n")
    lines[number - 1] = new
    return "\n".join(lines).encode()


def _sqlite_edit(sql: str) -> bytes:
    data = cookie_files.firefox_sqlite(JAR)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "cookies.sqlite"
        path.write_bytes(data)
        connection = sqlite3.connect(path)
        connection.execute(sql)
        connection.commit()
        connection.close()
        return path.read_bytes()


def _json_edit(writer: Callable[[Jar], bytes], edit: Callable[[object], None]) -> bytes:
    data = json.loads(writer(JAR))
    edit(data)
    return json.dumps(data).encode()


MALFORMED: dict[str, tuple[Callable[[], bytes], str]] = {
    "netscape-spaces": (
        lambda: _replace_line(
            cookie_files.netscape(JAR), 6, f".google.com TRUE / TRUE {EXPIRES} {PSIDTS} {JAR.psidts}"
        ),
        "line 6: 1 tab-separated fields, expected 7",
    ),
    "netscape-expiry": (
        lambda: _replace_line(
            cookie_files.netscape(JAR), 7, f".google.com\tTRUE\t/\tTRUE\tsoon\tNID\t{JAR.nid}"
        ),
        "line 7: the expiry (5th) field is not a number",
    ),
    "netscape-flag": (
        lambda: _replace_line(
            cookie_files.netscape(JAR), 9, f"gemini.google.com\tyes\t/\tFALSE\t0\t_ga\t{JAR.ga}"
        ),
        "line 9: the subdomains (2nd) field is not TRUE/FALSE",
    ),
    "json-syntax": (lambda: cookie_files.cookie_editor_json(JAR)[:-40], "not valid JSON (line"),
    "json-expiry": (
        lambda: _json_edit(cookie_files.cookie_editor_json, lambda d: d[2].update(expirationDate="2030")),  # type: ignore[index]
        "$[2].expirationDate: not a number",
    ),
    "json-no-value": (
        lambda: _json_edit(cookie_files.edit_this_cookie_json, lambda d: d[1].pop("value")),  # type: ignore[index]
        "$[1]: no 'value' field",
    ),
    "json-same-site": (
        lambda: _json_edit(cookie_files.edit_this_cookie_json, lambda d: d[0].update(sameSite="sometimes")),  # type: ignore[index]
        "$[0].sameSite",
    ),
    "har-expires": (
        lambda: _json_edit(
            cookie_files.har,
            lambda d: d["log"]["entries"][1]["response"]["cookies"][0].update(expires="tomorrow"),  # type: ignore[index]
        ),
        "log.entries[1].response.cookies[0].expires: not an ISO 8601 date",
    ),
    "har-url": (
        lambda: _json_edit(cookie_files.har, lambda d: d["log"]["entries"][0]["request"].update(url="/app")),  # type: ignore[index]
        "log.entries[0].request.url: not an absolute URL",
    ),
    "har-sanitized": (
        lambda: _json_edit(
            cookie_files.har,
            lambda d: [e[p].update(cookies=[]) for e in d["log"]["entries"] for p in ("request", "response")],  # type: ignore[index]
        ),
        "Export HAR (with sensitive data)",
    ),
    "sqlite-expiry": (
        lambda: _sqlite_edit(f"UPDATE moz_cookies SET expiry = 'never' WHERE name = '{PSIDTS}'"),
        "moz_cookies row 2, column expiry: not an integer",
    ),
    "sqlite-no-table": (lambda: _sqlite_edit("DROP TABLE moz_cookies"), "no moz_cookies table"),
    "sqlite-chromium": (
        lambda: _sqlite_edit("ALTER TABLE moz_cookies RENAME TO cookies"),
        "Chromium cookie database",
    ),
    "sqlite-truncated": (lambda: cookie_files.firefox_sqlite(JAR)[:600], "cannot be read"),
    "binary": (
        lambda: b"\x89PNG\r\n\x1a\n" + JAR.psid.encode() + b"\xff",
        "neither UTF-8 text nor an SQLite",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_file_names_the_place_and_never_a_value(case: str) -> None:
    build, message = MALFORMED[case]
    with pytest.raises(CookieFormatError, match=re.escape(message)) as info:
        read_cookie_file(build())
    text = str(info.value)
    assert not any(secret in text for secret in (*JAR.secrets(), "sidts-STALE-value-1111"))
    assert "SECRET" not in text


@pytest.mark.parametrize("tool", list(WRITERS))
def test_a_file_without_the_session_cookie_says_so(tool: str) -> None:
    placeholder = "psid-SECRET-to-remove"
    data = WRITERS[tool](Jar(psid=placeholder))
    if tool == "firefox":
        data = cookie_files.firefox_sqlite(Jar(psid=placeholder), container_psid="x")
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "c.sqlite"
            path.write_bytes(data)
            connection = sqlite3.connect(path)
            connection.execute(f"DELETE FROM moz_cookies WHERE name = '{PSID}'")  # containers too
            connection.commit()
            connection.close()
            data = path.read_bytes()
    else:
        # The session cookie renamed: the file is well formed, the session is missing.
        data = data.replace(PSID.encode() + b'"', b'__Secure-3PSID"').replace(
            PSID.encode(), b"__Secure-3PSID"
        )
    with pytest.raises(CookieFormatError, match=f"no {PSID} cookie for .google.com") as info:
        read_cookie_file(data)
    assert placeholder not in str(info.value)


def test_an_expired_session_cookie_is_refused_with_its_date() -> None:
    data = cookie_files.netscape(JAR).replace(str(EXPIRES).encode(), b"1500000000", 1)
    with pytest.raises(CookieFormatError, match="expired at 2017") as info:
        read_cookie_file(data)
    assert JAR.psid not in str(info.value)
    # An account already kept is read anyway: it shows as signed out rather than vanishing.
    assert by_name(parse_export(data.decode()))[PSID].expires == 1500000000


def test_other_sites_alone_are_no_session() -> None:
    only_youtube = f".youtube.com\tTRUE\t/\tTRUE\t{EXPIRES}\t{PSID}\t{JAR.psid}\n".encode()
    with pytest.raises(CookieFormatError, match="0 Google cookies"):
        read_cookie_file(only_youtube)
