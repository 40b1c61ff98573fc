"""What an evidence bundle keeps of a request: no cookie, token or chat id, the prompt replaced."""

from __future__ import annotations

import json

from browser._evidence import PROMPT_PLACEHOLDER, _replace_prompt, redact_headers, redact_url


def test_urls_lose_tokens_and_chat_ids() -> None:
    url = (
        "https://gemini.google.com/_/BardChatUi/data/batchexecute?rpcids=hNvQHb"
        "&source-path=%2Fapp%2F1004db0ef60d9dda&bl=boq_x&f.sid=-4202905934864668489&hl=en&at=AJvLN6M"
    )
    redacted = redact_url(url)
    assert "4202905934864668489" not in redacted and "AJvLN6M" not in redacted
    assert "1004db0ef60d9dda" not in redacted and "source-path=/app/<chat>" in redacted
    assert "rpcids=hNvQHb" in redacted and "bl=boq_x" in redacted
    assert redact_url("https://x/app/c_98256aabc450ff93?hl=en") == "https://x/app/c_<chat>?hl=en"


def test_headers_lose_cookies_and_browser_tokens_and_emails() -> None:
    headers = {
        "Cookie": "__Secure-1PSID=g.a000secret; SID=x",
        "x-client-data": "CIa2yQEIpbbJAQ==",
        "x-browser-validation": "abc=",
        "x-same-domain": "1",
        "x-note": "mail me at person@example.com",
    }
    redacted = redact_headers(headers)
    assert redacted["Cookie"] == redacted["x-client-data"] == redacted["x-browser-validation"] == "<redacted>"
    assert redacted["x-same-domain"] == "1" and "person@example.com" not in redacted["x-note"]
    assert "secret" not in json.dumps(redacted)


def test_the_prompt_is_replaced_and_the_rest_kept() -> None:
    inner = [["tell no one: my secret", 0, None, None, None, None, 0], ["en"], ["c_1", "r_1", "rc_1"]]
    f_req = json.dumps([None, json.dumps(inner)])
    kept = json.loads(json.loads(_replace_prompt(f_req))[1])
    assert kept[0][0] == PROMPT_PLACEHOLDER and kept[1:] == inner[1:]
    assert "secret" not in _replace_prompt(f_req)
