"""The HTML of Google's sign-in pages (accounts.google.com) as the simulator serves them.

Evidence: fidelity.md A4 (``ServiceLogin``, ``v3/signin`` are sign-in; ``/v3/signin/challenge`` is
"Verify it's you" territory), page.md §1.15 (a browser the page sees as automated gets "Couldn't sign
you in — This browser or app may not be secure"). The forms post back to the same path; the ids and
names follow Google's (``identifierId``, ``identifierNext``, ``Passwd``, ``passwordNext``, ``totpPin``).
"""

from __future__ import annotations

import json
from html import escape

_HEAD = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
    "<style>body{{font-family:sans-serif;max-width:28rem;margin:4rem auto}}"
    ".error{{color:#d93025}}</style></head><body>"
)
_TAIL = "</body></html>"

# What the identifier page observes before it submits (page.md §1.15): ``navigator.webdriver`` goes in
# a hidden field, filled when the form is submitted (the button, Enter in the field, or form.submit()).
_OBSERVE = """<script>
(() => {
  const form = document.getElementById("identifier-form");
  const observe = () => { form.elements.webdriver.value = String(navigator.webdriver === true); };
  observe();
  form.addEventListener("submit", observe);
})();
</script>"""


def _page(title: str, body: str) -> str:
    return _HEAD.format(title=escape(title)) + body + _TAIL


def _error(message: str | None) -> str:
    if not message:
        return ""
    return f"<div class='error' role='alert' aria-live='assertive'>{escape(message, quote=False)}</div>"


def _hidden(name: str, value: str) -> str:
    return f"<input type='hidden' name='{name}' value='{escape(value)}'>"


def identifier_page(target: str, error: str | None = None) -> str:
    """Step 1: the email. ``target`` is the same-site path to go to once signed in."""
    return _page(
        "Sign in - Google Accounts",
        "<h1 id='headingText'>Sign in</h1><p>to continue to Gemini</p>"
        "<form id='identifier-form' method='post' action='/v3/signin/identifier'>"
        f"{_hidden('continue', target)}{_hidden('webdriver', '')}"
        "<input type='email' id='identifierId' name='identifier' autocomplete='username' "
        "aria-label='Email or phone' autofocus>"
        f"{_error(error)}"
        "<button type='submit' id='identifierNext'>Next</button></form>" + _OBSERVE,
    )


def rejected_page() -> str:
    return _page(
        "Sign in - Google Accounts",
        "<h1 id='headingText'>Couldn't sign you in</h1>"
        "<p>This browser or app may not be secure. <a href='https://support.google.com/accounts/answer/7675428'>"
        "Learn more</a></p><p>Try using a different browser. If you're already using a supported browser, "
        "you can try again to sign in.</p><a href='/ServiceLogin'>Try again</a>",
    )


def password_page(flow: str, email: str, error: str | None = None) -> str:
    return _page(
        "Sign in - Google Accounts",
        f"<h1 id='headingText'>Welcome</h1><div id='profileIdentifier'>{escape(email)}</div>"
        "<form method='post' action='/v3/signin/challenge/pwd'>"
        f"{_hidden('TL', flow)}"
        "<input type='password' name='Passwd' aria-label='Enter your password' "
        "autocomplete='current-password' autofocus>"
        f"{_error(error)}"
        "<button type='submit' id='passwordNext'>Next</button></form>",
    )


def totp_page(flow: str, error: str | None = None) -> str:
    return _page(
        "2-Step Verification",
        "<h1 id='headingText'>2-Step Verification</h1>"
        "<p>Get a verification code from the Google Authenticator app</p>"
        "<form method='post' action='/v3/signin/challenge/totp'>"
        f"{_hidden('TL', flow)}"
        "<input type='tel' id='totpPin' name='totpPin' aria-label='Enter code' autocomplete='one-time-code' "
        "autofocus>"
        f"{_error(error)}"
        "<button type='submit' id='totpNext'>Next</button></form>",
    )


def verify_page(email: str, target: str, flow: str = "", error: str | None = None) -> str:
    """ "Verify it's you": the password again, in a sign-in (``flow``) or for a running session."""
    return _page(
        "Verify it's you",
        "<h1 id='headingText'>Verify it's you</h1>"
        f"<p>To continue, first verify it's you</p><div id='profileIdentifier'>{escape(email)}</div>"
        "<form method='post' action='/v3/signin/challenge/verify'>"
        f"{_hidden('TL', flow)}{_hidden('continue', target)}"
        "<input type='password' name='Passwd' aria-label='Enter your password' autofocus>"
        f"{_error(error)}"
        "<button type='submit' id='verifyNext'>Next</button></form>",
    )


def bind_page(nonce: str, target: str) -> str:
    """The success page: its script makes the device key, registers it, then goes to ``target``."""
    config = json.dumps({"nonce": nonce, "continue": target}).replace("<", "\\u003c")
    return _page(
        "Signing in...",
        "<h1 id='headingText'>Signing in...</h1>"
        f"<script type='application/json' id='bind-config'>{config}</script>"
        "<script type='module' src='/static/bind.js'></script>",
    )
