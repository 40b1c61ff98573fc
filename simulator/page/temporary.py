"""The side nav's "Temporary chat" button (page.md §1.13): a button named "Temporary chat" (W2A
2026-04) inside ``temp-chat-button`` and carrying ``data-test-id="temp-chat-button"`` (W2A's
``temp-chat-button button``, CWC's ``button[data-test-id="temp-chat-button"]``), shown only while the
side nav is open (CWC opens ``side-nav-menu-button`` first). Signed-in pages only: a signed-out
visitor's chats are never saved anyway. Every generation has it (W2A is early 2026; no source shows
it gone later, and peers use temporary chats through 2026: peers-late-2026.md). Its behaviour lives
in ``static/temporary.js``.
"""

from __future__ import annotations

from simulator.page.model import PageModel

BUTTON = (
    '<temp-chat-button class="temp-chat-button-container"><button class="mdc-icon-button temp-chat-button" '
    'type="button" data-test-id="temp-chat-button" aria-label="Temporary chat" aria-pressed="false">'
    '<mat-icon fonticon="history_toggle_off" data-mat-icon-name="history_toggle_off"></mat-icon>'
    '<span class="gds-label-l">Temporary chat</span></button></temp-chat-button>'
)


def temp_chat_button(model: PageModel) -> str:
    return BUTTON if model.temporary_chat and model.plan != "anon" else ""
