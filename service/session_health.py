"""What a person should do about an account that needs one, in plain words: one hint per reason the
browser layer names (``browser.NeedsPerson``), worded for how the session was signed in
(``browser.SigninMethod``). The dashboard, the admin API and the alerts' webhook body show the same
text; docs/operations/session-health.md explains each reason at length."""

from __future__ import annotations

from browser import NeedsPerson, SigninMethod

__all__ = ["hint"]

_SIGN_IN_AGAIN = {
    SigninMethod.SIGNED_IN_INSIDE: "Sign in again inside the gateway (the dashboard's Sign in, or "
    "`python -m service accounts login NAME`).",
    SigninMethod.PROFILE_IMPORT: "Sign in again in that browser profile and import it again, or sign in "
    "inside the gateway (the dashboard's Sign in, or `accounts login`).",
    SigninMethod.COOKIE_IMPORT: "Sign in inside the gateway (the dashboard's Sign in, or `accounts login`), "
    "which lasts; or paste fresh cookies, which a browser that binds its sessions to its device "
    "ends again within hours.",
}

_HINTS = {
    NeedsPerson.EXPIRED: "Google ended this session: its cookies are no longer accepted. ",
    NeedsPerson.SIGNED_OUT: "The page is signed out. ",
    NeedsPerson.VERIFY: 'Google asks a person to confirm this session ("Verify it\'s you"). Open the '
    "account's page (the dashboard's Sign in, or `accounts login`), pass the challenge, then Check the "
    "account.",
    NeedsPerson.CONSENT: "Google asks to accept its cookie choices before Gemini opens. Accept them on "
    "the account's page (the dashboard's Sign in, or `accounts login`), then Check the account.",
    NeedsPerson.TERMS: "Google asks this account to accept updated terms. Open Gemini with this account "
    "and accept them, then Check the account.",
    NeedsPerson.CAPTCHA: "Google saw unusual traffic from this account's IP and asks for a captcha. Send "
    "fewer requests through that IP or give the account another proxy; the gateway tries again by itself.",
    NeedsPerson.REGION: "Gemini is not offered where this account's traffic comes from (its IP). Give "
    "the account a proxy in a country Gemini serves.",
}


def hint(reason: str | None, signin_method: str) -> str | None:
    """The hint for ``reason`` (a ``NeedsPerson`` value; None: nothing to do)."""
    if reason is None:
        return None
    try:
        needs = NeedsPerson(reason)
    except ValueError:
        return None
    text = _HINTS[needs]
    if needs in (NeedsPerson.EXPIRED, NeedsPerson.SIGNED_OUT):
        try:
            method = SigninMethod(signin_method)
        except ValueError:
            method = SigninMethod.COOKIE_IMPORT
        text += _SIGN_IN_AGAIN[method]
    return text
