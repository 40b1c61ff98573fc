"""A StreamGenerate answer that is not 200, as a typed error: where Google sent the page (a captcha,
the sign-in page) says more than the status, which is otherwise reported as it came."""

from __future__ import annotations

from typing import NoReturn

from browser.errors import AccountUnavailable, HTTPStatusError, UnavailableReason


def raise_for_stream_status(status: int, url: str) -> NoReturn:
    """Raise for a non-200 StreamGenerate response at ``url`` (its final URL, after redirects)."""
    if "/sorry/" in url:
        raise AccountUnavailable("Google asks for a captcha", reason=UnavailableReason.CAPTCHA)
    if "ServiceLogin" in url or status in (401, 403):
        raise AccountUnavailable("the session is signed out", reason=UnavailableReason.SIGNED_OUT)
    raise HTTPStatusError(status, "StreamGenerate")
