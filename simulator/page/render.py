"""Render the app page's HTML shell: tokens, side nav, top bar, chat window and composer.

Everything that changes while the page lives (menus, turns, chips, the send button) is built by
the page's own JavaScript in ``static/``; this module draws what the server knows at request time.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from simulator.gems import system_gem
from simulator.page.catalog import catalog_json, default_mode, tools_for
from simulator.page.model import PageModel

STATIC_DIR: Path = Path(__file__).resolve().parent / "static"

SERVICE_LOGIN = "https://accounts.google.com/ServiceLogin?continue=https://gemini.google.com/app&passive=true"

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
    """The full HTML document for ``/app``, ``/app/<cid>`` and ``/gem/<slug>``."""
    config = {
        "ui": model.ui,
        "tier": model.tier,
        "gem": model.gem,
        "chat": model.chat,
        "chatMissing": model.chat_missing,
        "defaultMode": default_mode(model.ui, model.tier).key,
        "signinMarkerDelay": model.signin_marker_delay,
        **catalog_json(model.ui, model.tier),
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
<body class="light-theme" data-ui="{escape(model.ui)}" data-tier="{escape(model.tier)}">
<chat-app id="app-root">
{_side_nav(model)}
<main class="chat-app-main">
{_top_bar(model)}
<div class="content-wrapper">
<chat-window class="chat-window">
{_gem_header(model)}
{_CHAT_HISTORY}
{_chat_missing(model)}
{_composer(model)}
</chat-window>
</div>
</main>
</chat-app>
<div class="cdk-overlay-container"></div>
</body>
</html>
"""


def _side_nav(model: PageModel) -> str:
    if model.tier == "anon":
        footer = _late(model, f'<a class="sign-in-link" href="{escape(SERVICE_LOGIN)}">Sign in</a>')
    else:
        footer = '<button class="settings-button" type="button">Settings &amp; help</button>'
    return f"""<bard-sidenav class="collapsed" data-test-id="side-nav">
<side-navigation-content>
<button class="side-nav-menu-button" data-test-id="side-nav-menu-button" type="button" \
aria-label="Open sidebar" aria-expanded="false"><mat-icon fonticon="menu" data-mat-icon-name="menu">\
</mat-icon></button>
<gem-nav-list-item data-test-id="new-chat-button"><a class="side-nav-action-button" href="/app" \
aria-label="New chat"><mat-icon fonticon="edit_square" data-mat-icon-name="edit_square"></mat-icon>\
<span class="gds-label-l">New chat</span></a></gem-nav-list-item>
</side-navigation-content>
<sidenav-mavatar-footer>{footer}</sidenav-mavatar-footer>
</bard-sidenav>"""


def _top_bar(model: PageModel) -> str:
    if model.tier == "anon":
        link = f'<a class="sign-in-button" aria-label="Sign in" href="{escape(SERVICE_LOGIN)}">Sign in</a>'
        account = _late(model, link)
    else:
        who = "Gemini Advanced user" if model.tier == "paid" else "Gemini user"
        email = f"sim.{model.tier}@example.com"
        account = (
            f'<a class="account-avatar" aria-label="Google Account: {who} ({email})" '
            f'href="https://accounts.google.com/SignOutOptions" data-email="{email}">'
            f'<span class="avatar-initial">{model.tier[0].upper()}</span></a>'
        )
    return f"""<top-bar-actions class="top-bar">
<span class="bard-logo" data-test-id="bard-logo">Gemini</span>
<div class="top-bar-account">{account}</div>
</top-bar-actions>"""


def _late(model: PageModel, html: str) -> str:
    """A signed-out marker, held in a <template> (invisible to selectors) until app.js reveals it
    ``signin_marker_delay`` seconds after boot, like the real page's late side nav."""
    if model.signin_marker_delay <= 0:
        return html
    return f"<template data-late-signin>{html}</template>"


def _gem_header(model: PageModel) -> str:
    if model.gem is None:
        return ""
    gem = system_gem(model.gem)
    name, description = (gem.name, gem.description) if gem else (model.gem.replace("-", " ").title(), "")
    return f"""<bot-info-card class="bot-info-card" data-gem-id="{escape(model.gem)}">
<h1 class="bot-name" data-test-id="bot-name">{escape(name)}</h1>
<p class="bot-description" data-test-id="bot-description">{escape(description)}</p>
</bot-info-card>"""


def _chat_missing(model: PageModel) -> str:
    if not model.chat_missing:
        return ""
    return '<div class="chat-load-error" role="alert">This chat couldn\'t be loaded</div>'


def _composer(model: PageModel) -> str:
    placeholder = "Ask Gemini"
    editor = (
        '<rich-textarea class="text-input-field_textarea" enterkeyhint="send">'
        '<div class="ql-editor ql-blank textarea new-input-ui" contenteditable="true" role="textbox" '
        'aria-multiline="true" aria-label="Enter a prompt for Gemini" '
        f'data-placeholder="{placeholder}" data-gramm="false"><p><br></p></div></rich-textarea>'
    )
    return f"""<input-container class="input-container">
<fieldset class="input-area-container">
<input-area-v2 class="input-area" data-node-type="input-area">
<div class="text-input-field">
<div class="attachment-preview-wrapper"><div class="file-preview-container"></div></div>
<div class="text-input-field-main-area">
<div class="text-input-field_textarea-wrapper" data-test-id="textarea-wrapper">{editor}</div>
</div>
<div class="input-actions">
<div class="leading-actions-wrapper">{_leading_actions(model)}<div class="toolbox-drawer-chips"></div></div>
<div class="trailing-actions-wrapper">{_mode_switcher(model)}<div class="send-button-container"></div></div>
</div>
</div>
</input-area-v2>
</fieldset>
</input-container>"""


def _leading_actions(model: PageModel) -> str:
    label = "Open upload file menu" if model.ui == "early2026" else "Upload & tools"
    tooltip = ""
    if model.tier == "anon":
        tooltip = _late(
            model,
            '<uploader-signed-out-tooltip class="signed-out-tooltip" hidden>'
            "Sign in to upload files</uploader-signed-out-tooltip>",
        )
    uploader = (
        f'<uploader class="upload-button"><button class="upload-card-button" type="button" '
        f'aria-label="{escape(label)}" aria-haspopup="menu" aria-expanded="false">'
        f'<mat-icon fonticon="add_2" data-mat-icon-name="add_2"></mat-icon></button>{tooltip}</uploader>'
    )
    if model.ui != "early2026" or not tools_for(model.ui, model.tier):
        return uploader
    return uploader + (
        '<toolbox-drawer class="toolbox-drawer"><button class="toolbox-drawer-button" type="button" '
        'aria-haspopup="menu" aria-expanded="false"><mat-icon fonticon="page_info" '
        'data-mat-icon-name="page_info"></mat-icon><span class="toolbox-drawer-button-label">Tools</span>'
        "</button></toolbox-drawer>"
    )


def _mode_switcher(model: PageModel) -> str:
    mode = default_mode(model.ui, model.tier)
    if model.ui == "early2026":
        return f"""<bard-mode-switcher><button class="bard-mode-menu-button input-area-switch" type="button" \
data-test-id="bard-mode-menu-button" aria-haspopup="menu" aria-expanded="false">\
<div class="logo-pill-label-container input-area-switch-label" data-test-id="logo-pill-label-container">\
<span>{escape(mode.label)}</span></div><mat-icon fonticon="keyboard_arrow_down" \
data-mat-icon-name="keyboard_arrow_down"></mat-icon></button></bard-mode-switcher>"""
    current = mode.parent or mode.label
    return f"""<bard-mode-switcher><button class="input-area-switch" type="button" \
aria-label="Open mode picker, currently {escape(current)}" aria-haspopup="menu" aria-expanded="false">\
<span class="picker-primary-text"></span><mat-icon fonticon="keyboard_arrow_down" \
data-mat-icon-name="keyboard_arrow_down"></mat-icon></button></bard-mode-switcher>"""
