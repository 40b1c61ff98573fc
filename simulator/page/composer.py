"""The composer's server-rendered markup per UI generation: editor, tools opener, mode switcher,
send-button host. Menus, chips and the send button itself are built by the page's JavaScript.

October 2026 follows docs/architecture/evidence.md (OCT picker trigger C1-C3, the "Upload and tools"
opener D1 with its jslog 300142, PWA's ``div.has-model-picker`` and send-button container B6, the
hidden duplicate send button INT warns of, B7); mid 2026 REG/ZHT; early 2026 docs/architecture/page-model.md.
"""

from __future__ import annotations

import secrets
from html import escape

from simulator.lineup import default_model
from simulator.page.model import PageModel
from simulator.page.signin import late

PLACEHOLDER = "Ask Gemini"


def _editor() -> str:
    return (
        '<rich-textarea class="text-input-field_textarea" enterkeyhint="send">'
        '<div class="ql-editor ql-blank textarea new-input-ui" contenteditable="true" role="textbox" '
        'aria-multiline="true" aria-label="Enter a prompt for Gemini" '
        f'data-placeholder="{PLACEHOLDER}" data-gramm="false"><p><br></p></div></rich-textarea>'
    )


def render_composer(model: PageModel) -> str:
    oct2026 = model.ui == "oct2026"
    # INT: "Gemini may replace [the send button] during input": a stale, hidden copy sits earlier.
    hidden_send = (
        '<button class="send-button-placeholder" type="button" aria-label="Send message" hidden '
        'tabindex="-1"></button>'
        if oct2026
        else ""
    )
    actions = "input-actions has-model-picker" if oct2026 else "input-actions"
    send_host = (
        '<div class="send-button-container"></div>'
        if model.ui == "early2026"
        else '<div class="send-button-container" data-test-id="send-button-container"></div>'
    )
    return f"""<input-container class="input-container">
<fieldset class="input-area-container">
<input-area-v2 class="input-area" data-node-type="input-area">
{hidden_send}<div class="text-input-field">
<div class="attachment-preview-wrapper"><div class="file-preview-container"></div></div>
<div class="text-input-field-main-area">
<div class="text-input-field_textarea-wrapper" data-test-id="textarea-wrapper">{_editor()}</div>
</div>
<div class="{actions}">
<div class="leading-actions-wrapper">{_leading_actions(model)}<div class="toolbox-drawer-chips"></div></div>
<div class="trailing-actions-wrapper">{_mode_switcher(model)}{send_host}</div>
</div>
</div>
</input-area-v2>
</fieldset>
</input-container>"""


def _leading_actions(model: PageModel) -> str:
    if model.ui == "early2026":
        return _early_leading(model)
    label = escape(model.tools_label)
    if model.ui == "oct2026":
        # No upload-card-button class any more; the opener is found by its label or jslog 300142.
        button = (
            f'<button class="mdc-icon-button mat-mdc-icon-button" type="button" aria-label="{label}" '
            'aria-haspopup="menu" aria-expanded="false" jslog="300142;track:generic_click,impression">'
            '<mat-icon fonticon="plus" data-mat-icon-name="plus"></mat-icon></button>'
        )
        return f'<uploader class="upload-button">{button}</uploader>'
    tooltip = _signed_out_tooltip(model)
    return (
        f'<uploader class="upload-button"><button class="upload-card-button" type="button" '
        f'aria-label="{label}" aria-haspopup="menu" aria-expanded="false">'
        f'<mat-icon fonticon="add_2" data-mat-icon-name="add_2"></mat-icon></button>{tooltip}</uploader>'
    )


def _signed_out_tooltip(model: PageModel) -> str:
    if model.plan != "anon":
        return ""
    return late(
        model,
        '<uploader-signed-out-tooltip class="signed-out-tooltip" hidden>'
        "Sign in to upload files</uploader-signed-out-tooltip>",
    )


def _early_leading(model: PageModel) -> str:
    uploader = (
        '<uploader class="upload-button"><button class="upload-card-button" type="button" '
        'aria-label="Open upload file menu" aria-haspopup="menu" aria-expanded="false">'
        '<mat-icon fonticon="add_2" data-mat-icon-name="add_2"></mat-icon></button>'
        f"{_signed_out_tooltip(model)}</uploader>"
    )
    if model.plan == "anon":
        return uploader
    return uploader + (
        '<toolbox-drawer class="toolbox-drawer"><button class="toolbox-drawer-button" type="button" '
        'aria-haspopup="menu" aria-expanded="false"><mat-icon fonticon="page_info" '
        'data-mat-icon-name="page_info"></mat-icon><span class="toolbox-drawer-button-label">Tools</span>'
        "</button></toolbox-drawer>"
    )


def _mode_switcher(model: PageModel) -> str:
    row = default_model(model.ui, model.plan)
    if model.ui == "early2026":
        return f"""<bard-mode-switcher><button class="bard-mode-menu-button input-area-switch" type="button" \
data-test-id="bard-mode-menu-button" aria-haspopup="menu" aria-expanded="false">\
<div class="logo-pill-label-container input-area-switch-label" data-test-id="logo-pill-label-container">\
<span>{escape(row.label)}</span></div><mat-icon fonticon="keyboard_arrow_down" \
data-mat-icon-name="keyboard_arrow_down"></mat-icon></button></bard-mode-switcher>"""
    # The menu's id is per page (REG: "menu ids are per-session (ng-menu-*)"); INT reads it here.
    menu_id = f"ng-menu-{secrets.token_hex(4)}"
    pill = escape(row.short)  # a fresh page: Flash at the normal level (OCT pill "Flash")
    if model.ui == "mid2026":
        return f"""<bard-mode-switcher><button class="input-area-switch" type="button" \
data-test-id="bard-mode-menu-button" aria-label="Open mode picker, currently {pill}" aria-haspopup="menu" \
aria-expanded="false" aria-controls="{menu_id}"><span class="picker-primary-text">{pill}</span>\
<mat-icon fonticon="keyboard_arrow_down" data-mat-icon-name="keyboard_arrow_down"></mat-icon></button>\
</bard-mode-switcher>"""
    return f"""<bard-mode-switcher><div class="pill-ui-logo-container gem-menu-redesign under-input">\
<button class="mdc-button mat-mdc-button-base input-area-switch mat-mdc-button" type="button" \
data-test-id="bard-mode-menu-button" aria-haspopup="true" aria-expanded="false" aria-controls="{menu_id}" \
aria-label="Open mode picker, currently {pill}"><span class="mdc-button__label">\
<div data-test-id="logo-pill-label-container" class="logo-pill-label-container input-area-switch-label">\
<span class="gds-body-m picker-primary-text">{pill}</span>\
<gem-icon fonticonname="keyboard_arrow_down" class="dropdown-icon"></gem-icon></div></span></button>\
</div></bard-mode-switcher>"""
