"""The markers that tell a signed-in page from a signed-out one, per UI generation.

Signed in (every generation): the Google Account avatar link (A9: INT ``[aria-label^="Google
Account"]``, VID, TOK); October 2026 adds the side nav's ``side-nav-sparkle-button`` (VID
``is_logged_in``). Signed out, October 2026: ``[data-test-id="conversations-list-signed-out"]`` in the
side nav (PWA ``isLoggedIn``) and ``[data-identifier="sign-in"]`` (INT's login surface), without the
older ``a[aria-label="Sign in"]`` and ``uploader-signed-out-tooltip`` hooks (A10), which mid and early
2026 keep. ``signin_marker_delay`` holds the signed-out markers back like the real page's late side nav.
"""

from __future__ import annotations

from html import escape

from simulator.page.model import PageModel

SERVICE_LOGIN = "https://accounts.google.com/ServiceLogin?continue=https://gemini.google.com/app&passive=true"
_LOGIN = escape(SERVICE_LOGIN)


def late(model: PageModel, html: str) -> str:
    """A signed-out marker, held in a <template> (invisible to selectors) until app.js reveals it
    ``signin_marker_delay`` seconds after boot, like the real page's late side nav."""
    if model.signin_marker_delay <= 0:
        return html
    return f"<template data-late-signin>{html}</template>"


def side_nav_top(model: PageModel) -> str:
    """What sits under "New chat": the sparkle button (signed in) or the signed-out list."""
    if model.ui != "oct2026":
        return ""
    if model.plan == "anon":
        return late(
            model,
            '<div class="conversations-list-signed-out" data-test-id="conversations-list-signed-out">'
            '<p class="gds-body-m">Sign in to start saving your chats</p>'
            f'<a class="sign-in-link" data-identifier="sign-in" href="{_LOGIN}">Sign in</a></div>',
        )
    return (
        '<button class="side-nav-sparkle-button" data-test-id="side-nav-sparkle-button" type="button" '
        'aria-label="Gemini"><mat-icon fonticon="spark" data-mat-icon-name="spark"></mat-icon></button>'
    )


def side_nav_footer(model: PageModel) -> str:
    if model.plan != "anon":
        return '<button class="settings-button" type="button">Settings &amp; help</button>'
    if model.ui == "oct2026":
        return late(model, f'<a class="sign-in-footer" href="{_LOGIN}">Sign in</a>')
    return late(model, f'<a class="sign-in-link" href="{_LOGIN}">Sign in</a>')


def top_bar_account(model: PageModel) -> str:
    if model.plan == "anon":
        if model.ui == "oct2026":
            link = f'<a class="sign-in-button" data-identifier="sign-in" href="{_LOGIN}">Sign in</a>'
        else:
            link = f'<a class="sign-in-button" aria-label="Sign in" href="{_LOGIN}">Sign in</a>'
        return late(model, link)
    who = {"plus": "Google AI Plus user", "paid": "Gemini Advanced user"}.get(model.plan, "Gemini user")
    email = f"sim.{model.plan}@example.com"
    return (
        f'<a class="account-avatar" aria-label="Google Account: {who} ({email})" '
        f'href="https://accounts.google.com/SignOutOptions" data-email="{email}">'
        f'<span class="avatar-initial">{model.plan[0].upper()}</span></a>'
    )
