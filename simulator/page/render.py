"""Render the app page's HTML shell: tokens, side nav, top bar, chat window and composer.

Everything that changes while the page lives (menus, turns, chips, the send button) is built by
the page's own JavaScript in ``static/``; this module draws what the server knows at request time.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from simulator.page.catalog import page_catalog
from simulator.page.composer import render_composer
from simulator.page.model import PageModel
from simulator.page.signin import side_nav_footer, side_nav_top, top_bar_account
from simulator.page.temporary import temp_chat_button

STATIC_DIR: Path = Path(__file__).resolve().parent / "static"

_CHAT_HISTORY = (
    '<infinite-scroller id="chat-history" class="chat-history" data-test-id="chat-history-container">'
    "</infinite-scroller>"
)


def script_json(value: object) -> str:
    """JSON safe to place inside a <script>: the characters that could end it are escaped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_app_page(model: PageModel) -> str:
    """The full HTML document for ``/app``, ``/app/<hex>`` and ``/gem/<slug>``."""
    config = {
        "ui": model.ui,
        "plan": model.plan,
        "gem": model.gem,
        "chat": model.chat,
        "chatMissing": model.chat_missing,
        "signinMarkerDelay": model.signin_marker_delay,
        "labelFillDelay": model.label_fill_delay,
        "toolsExclusive": model.tools_exclusive,
        "capacity": model.capacity,
        "uploadOrigin": model.upload_origin,
        "uploadSession": model.upload_session,
        **page_catalog(model.ui, model.plan, model.thinking_control),
    }
    return f"""<!doctype html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gemini</title>
<link rel="stylesheet" href="/static/page.css">
<script data-id="_gd">window.WIZ_global_data = {script_json(model.wiz)};</script>
<script type="application/json" id="sim-page-config">{script_json(config)}</script>
<script type="module" src="/static/app.js"></script>
</head>
<body class="light-theme" data-ui="{escape(model.ui)}" data-tier="{escape(model.plan)}">
<chat-app id="app-root">
{_side_nav(model)}
<main class="chat-app-main">
{_top_bar(model)}
<div class="content-wrapper">
<chat-window class="chat-window">
{_gem_header(model)}
{_CHAT_HISTORY}
{_chat_missing(model)}
{render_composer(model)}
</chat-window>
</div>
</main>
</chat-app>
<div class="cdk-overlay-container"></div>
</body>
</html>
"""


def _side_nav(model: PageModel) -> str:
    return f"""<bard-sidenav class="collapsed" data-test-id="side-nav">
<side-navigation-content>
<button class="side-nav-menu-button" data-test-id="side-nav-menu-button" type="button" \
aria-label="Open sidebar" aria-expanded="false"><mat-icon fonticon="menu" data-mat-icon-name="menu">\
</mat-icon></button>
<gem-nav-list-item data-test-id="new-chat-button"><a class="side-nav-action-button" href="/app" \
aria-label="New chat"><mat-icon fonticon="edit_square" data-mat-icon-name="edit_square"></mat-icon>\
<span class="gds-label-l">New chat</span></a></gem-nav-list-item>
{temp_chat_button(model)}
{side_nav_top(model)}
</side-navigation-content>
<sidenav-mavatar-footer>{side_nav_footer(model)}</sidenav-mavatar-footer>
</bard-sidenav>"""


def _top_bar(model: PageModel) -> str:
    return f"""<top-bar-actions class="top-bar">
<span class="bard-logo" data-test-id="bard-logo">Gemini</span>
<div class="top-bar-account">{top_bar_account(model)}</div>
</top-bar-actions>"""


def _gem_header(model: PageModel) -> str:
    if model.gem is None:
        return ""
    name, description = model.gem_card or (model.gem.replace("-", " ").title(), "")
    return f"""<bot-info-card class="bot-info-card" data-gem-id="{escape(model.gem)}">
<h1 class="bot-name" data-test-id="bot-name">{escape(name)}</h1>
<p class="bot-description" data-test-id="bot-description">{escape(description)}</p>
</bot-info-card>"""


def _chat_missing(model: PageModel) -> str:
    if not model.chat_missing:
        return ""
    return '<div class="chat-load-error" role="alert">This chat couldn\'t be loaded</div>'
