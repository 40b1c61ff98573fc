"""Every selector and UI label the driver uses, in one table, newest UI generation first.

Sources: research/page.md §5 (quick reference), §1.6 (mode picker timeline) and §1.7 (tools
timeline). Language-free hooks (element names, data-test-id, icon names) come before aria-labels;
pages are opened with ``hl=en`` so the English labels hold where a hook does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from browser._requests import ModeFamily, Tool


@dataclass(frozen=True)
class Sel:
    """One UI element: its name (for errors) and CSS fallbacks, tried as one selector list."""

    name: str
    fallbacks: tuple[str, ...]

    @property
    def css(self) -> str:
        return ", ".join(self.fallbacks)


EDITOR = Sel(
    "editor",
    (
        'rich-textarea .ql-editor[contenteditable="true"]',
        'div.ql-editor[contenteditable="true"]',
        '[data-test-id="textarea-wrapper"] [role="textbox"]',
        'div[contenteditable="true"][role="textbox"]',
    ),
)
SEND = Sel(
    "send button",
    (
        'button:has([data-mat-icon-name="arrow_upward"])',
        'button:has([data-mat-icon-name="send"])',
        "button.send-button.submit",
        ".send-button-container button.submit",
        'button[aria-label="Send message"]',
    ),
)
STOP = Sel(
    "stop button",
    (
        'button:has([data-mat-icon-name="stop"])',
        'button:has(mat-icon[fonticon="stop"])',
        "button.send-button.stop",
        ".send-button-container button.stop",
        'button[aria-label="Stop response"]',
        'button[aria-label="Stop generating"]',
    ),
)
MODEL_RESPONSE = Sel("model response", ("model-response",))
ANSWER_MARKDOWN = Sel(
    "answer text",
    ("message-content .markdown", ".model-response-text .markdown", "response-container .markdown"),
)
MESSAGE_ACTIONS = Sel("message actions", ("message-actions",))
ERROR_MESSAGE = Sel("error message", ("p.error-message[data-error-code]", ".error-message"))

MODE_PICKER = Sel(
    "mode picker",
    (
        "bard-mode-switcher button",
        '[data-test-id="bard-mode-menu-button"]',
        'button[aria-label^="Open mode picker"]',
        "button.input-area-switch",
    ),
)
MODE_PICKER_ARIA = Sel("mode picker label", ('[aria-label^="Open mode picker"]',))
MODE_PICKER_TEXT = Sel(
    "mode picker text",
    ('[data-test-id="logo-pill-label-container"]', ".input-area-switch-label", ".picker-primary-text"),
)
MODE_ITEMS = Sel(
    "mode menu item",
    (
        '[role="menu"] gem-menu-item[data-mode-id]',
        '[data-test-id^="bard-mode-option-"]',
        '.gds-mode-switch-menu [role="menuitemradio"]',
        '.gds-mode-switch-menu [role="menuitem"]',
        ".gds-mode-switch-menu button[mat-menu-item]",
    ),
)
# The picker item's model hex, where the page puts it on the item.
MODE_ID_ATTRIBUTE = "data-mode-id"
MODE_ITEM_LABEL = (".label", ".mode-title", ".title-and-description > span:first-child")
# mid-2026 "Thinking" opens a submenu of levels; the standard one is any level not "Extended".
THINKING_LEVELS = Sel(
    "thinking level",
    ('[data-test-id="thinking-level-menu"] gem-menu-item', '[role="menu"] [data-thinking-level]'),
)
EXTENDED_THINKING_TEXT = "extended"
# The mid-2026 picker's aria-label reads "Open mode picker, currently <label>".
MODE_PICKER_CURRENT_WORD = "currently"
# Angular CDK: an open menu puts a backdrop over the page until Escape closes it.
OPEN_MENU = Sel("open menu", (".cdk-overlay-backdrop", ".cdk-overlay-pane [role='menu']"))

TOOLS_OPENER = Sel(
    "tools button",
    (
        "toolbox-drawer button.toolbox-drawer-button",
        'input-container button[aria-label="Upload & tools"]',
        'button[aria-label="Upload & tools"]',
    ),
)
TOOL_ITEMS = Sel(
    "tool menu item",
    (
        'toolbox-drawer-item button[role="menuitemcheckbox"]',
        "toolbox-drawer-item > button",
        "button.toolbox-drawer-item-list-button",
    ),
)
MORE_TOOLS = Sel(
    "more tools", ('[data-test-id="more-tools-button"]', 'button[role="menuitem"]:has-text("More tools")')
)
TOOL_CHIP = Sel("tool chip", ("button.toolbox-drawer-item-deselect-button", 'button[aria-label^="Deselect"]'))

UPLOAD_OPENER = Sel(
    "upload button",
    (
        "uploader button.upload-card-button",
        'input-container button[aria-label="Upload & tools"]',
        'button[aria-label="Upload & tools"]',
        'button[aria-label="Open upload file menu"]',
    ),
)
FILE_INPUT = Sel(
    "file input",
    ('images-files-uploader input[type="file"]', 'input[type="file"][name="Filedata"]'),
)
UPLOAD_CHIP = Sel(
    "uploaded file",
    ("uploader-file-preview", '[data-test-id="uploaded-file"]', ".file-preview-chip"),
)
UPLOAD_BUSY = Sel(
    "upload in progress",
    (
        'input-container uploader-file-preview[aria-busy="true"]',
        'input-container [data-test-id="uploaded-file"] [role="progressbar"]',
        'input-container .file-preview-chip [role="progressbar"]',
    ),
)

SIGNED_OUT = Sel(
    "signed-out marker",
    (
        'a[href^="https://accounts.google.com/ServiceLogin"]',
        'a[aria-label="Sign in"]',
        "uploader-signed-out-tooltip",
    ),
)
# Chat content (answers, prompts, the history): a marker or notice inside it is text the chat
# quotes, never the app's own chrome, so the verdicts skip it (an answer may hold a Sign-in link).
CHAT_CONTENT = Sel(
    "chat content", ("#chat-history", "infinite-scroller.chat-history", "model-response", "user-query")
)
SIGNED_IN = Sel("signed-in marker", ("[data-email]", 'a[aria-label*="Google Account"]', 'a[aria-label*="@"]'))
# ``window.WIZ_global_data`` keys of the XSRF token; Google renders it for a signed-in session only,
# an expired one gets the anonymous page without it (protocol.md §1.2).
SESSION_TOKEN_KEYS = ("SNlM0e", "thykhd")
CHAT_MISSING_TEXT = "This chat couldn't be loaded"

CAPTCHA_PATH = re.compile(r"/sorry/|recaptcha", re.IGNORECASE)
CONSENT_URL = re.compile(r"consent\.google\.com|/consent(\?|$|/)", re.IGNORECASE)
SIGN_IN_URL = re.compile(r"accounts\.google\.com|/ServiceLogin", re.IGNORECASE)

# Tools by the start of their label (tolerates "(Veo 3.1)" or "(new)" suffixes).
TOOL_LABELS: dict[Tool, tuple[str, ...]] = {
    Tool.IMAGE: ("create image", "create images"),
    Tool.VIDEO: ("create video", "create videos"),
    Tool.CANVAS: ("canvas",),
    Tool.DEEP_RESEARCH: ("deep research",),
}

# Wire codes of the otAQ7b answer (research/protocol.md §8; interfaces I3): the tool codes at [17]
# (request inner[49]), the tier code at [16][0], and the mode_category of a [15] entry, used for a
# model whose label names no family (mid-2026's "Standard" thinking level).
TOOL_CODES: dict[int, Tool] = {
    1: Tool.DEEP_RESEARCH,
    2: Tool.CANVAS,
    14: Tool.IMAGE,
    15: Tool.VIDEO,
}
TIER_CODES: dict[int, str] = {1: "free", 2: "paid"}
MODE_CATEGORY_FAMILIES: dict[int, ModeFamily] = {
    1: ModeFamily.FLASH,
    2: ModeFamily.THINKING,
    3: ModeFamily.PRO,
}

_LITE = re.compile(r"\blite\b", re.IGNORECASE)
_FLASH = re.compile(r"\b(flash|fast)\b", re.IGNORECASE)
_PRO = re.compile(r"\bpro\b", re.IGNORECASE)
_THINKING = re.compile(r"\b(thinking|think)\b", re.IGNORECASE)


def family_of_label(label: str) -> ModeFamily | None:
    """The family a picker label belongs to; Flash-Lite belongs to none (it is not Flash)."""
    if _LITE.search(label):
        return None
    if _THINKING.search(label):
        return ModeFamily.THINKING
    if _PRO.search(label):
        return ModeFamily.PRO
    if _FLASH.search(label):
        return ModeFamily.FLASH
    return None


def is_light_label(label: str) -> bool:
    """Flash-Lite and its kin: a model outside every family, whatever its mode category says."""
    return bool(_LITE.search(label))


def tool_of_label(label: str) -> Tool | None:
    text = " ".join(label.lower().split())
    for tool, starts in TOOL_LABELS.items():
        if text.startswith(starts):
            return tool
    return None
