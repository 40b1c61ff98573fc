"""Cookie import formats, their translation for a context, and the SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from browser._cookies import (
    PSID,
    PSIDTS,
    Cookie,
    account_id_for,
    for_site,
    from_context,
    from_session,
    parse_export,
)
from browser._store import CookieStore
from browser.errors import CookieFormatError

SECRET = "paid-s3cr3t-value"


def test_psid_alone_and_with_psidts() -> None:
    assert [c.name for c in from_session(SECRET)] == [PSID]
    both = from_session(SECRET, "ts-1")
    assert [(c.name, c.value) for c in both] == [(PSID, SECRET), (PSIDTS, "ts-1")]


def test_json_export_keeps_google_cookies_only() -> None:
    export = [
        {
            "name": PSID,
            "value": SECRET,
            "domain": ".google.com",
            "path": "/",
            "secure": True,
            "httpOnly": True,
        },
        {
            "name": "NID",
            "value": "n",
            "domain": ".google.com",
            "expirationDate": 1999999999.5,
            "sameSite": "lax",
        },
        {"name": "other", "value": "x", "domain": ".example.com"},
    ]
    cookies = parse_export(json.dumps(export))
    assert [c.name for c in cookies] == [PSID, "NID"]
    assert cookies[1].expires == 1999999999.5 and cookies[1].same_site == "Lax"
    assert parse_export(json.dumps({"cookies": export})) == cookies


def test_netscape_export() -> None:
    text = (
        "# Netscape HTTP Cookie File\n"
        f"#HttpOnly_.google.com\tTRUE\t/\tTRUE\t1999999999\t{PSID}\t{SECRET}\n"
        ".google.com\tTRUE\t/\tTRUE\t0\tNID\tabc\n"
    )
    cookies = parse_export(text)
    assert cookies[0] == Cookie(PSID, SECRET, ".google.com", "/", 1999999999, True, True)
    assert cookies[1].expires == -1 and not cookies[1].http_only


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{not json",
        '[{"name": "NID", "value": "x", "domain": ".google.com"}]',
        "a\tb\tc",
        '[{"value": 1}]',
    ],
)
def test_bad_exports_raise_without_quoting_values(text: str) -> None:
    with pytest.raises(CookieFormatError) as info:
        parse_export(text)
    assert SECRET not in str(info.value)


def test_cookies_for_the_simulator_are_rehomed_to_localhost() -> None:
    params = for_site(from_session(SECRET, "ts"), "http://localhost:8123")
    assert {p["domain"] for p in params} == {"localhost"}
    assert all(p["secure"] and p["path"] == "/" and "url" not in p for p in params)


def test_cookies_for_the_real_site_keep_google_domains() -> None:
    cookies = [*from_session(SECRET), Cookie("x", "y", domain=".example.com")]
    params = for_site(cookies, "https://gemini.google.com")
    assert [(p["name"], p["domain"]) for p in params] == [(PSID, ".google.com")]


def test_from_context_round_trip() -> None:
    raw = [
        {"name": PSID, "value": SECRET, "domain": "localhost", "path": "/", "expires": -1, "secure": True},
        {"name": "elsewhere", "value": "v", "domain": "example.org", "path": "/"},
    ]
    cookies = from_context(raw, "http://localhost:9")
    assert [c.name for c in cookies] == [PSID]
    assert for_site(cookies, "http://localhost:9")[0]["value"] == SECRET


def test_account_id_is_a_name_or_a_hash() -> None:
    cookies = from_session(SECRET)
    assert account_id_for("alice", cookies) == "alice"
    generated = account_id_for(None, cookies)
    assert generated.startswith("acct-") and SECRET not in generated
    assert generated == account_id_for(None, from_session(SECRET, "other-ts"))


async def test_store_keeps_the_newest_cookies(tmp_path: Path) -> None:
    store = CookieStore(tmp_path)
    assert await store.load("a") is None
    await store.save("a", from_session(SECRET, "ts-1"))
    await store.save("a", from_session(SECRET, "ts-2"))
    again = await CookieStore(tmp_path).load("a")
    assert again is not None
    assert {c.name: c.value for c in again.cookies}[PSIDTS] == "ts-2"
    await store.delete("a")
    assert await store.load("a") is None
