"""Every selector and UI label the driver uses, in one table: newest UI generation first.

Sources: docs/architecture/page-model.md and docs/architecture/evidence.md (rows A–E).
Language-free hooks (element names, data-test-id, icon names) come before aria-labels; pages are
opened with ``hl=en`` so the English labels hold where a hook does not exist. The table is data: an
operator extends it without a code change (``browser._overrides``), and the doctor reports which
entry matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

from browser._requests import ModeFamily, ThinkingLevel, Tool


@dataclass(frozen=True)
class Sel:
    """One UI element: its name (for errors), its override key and CSS fallbacks, tried as one
    selector list. ``added`` counts the operator's entries at the front (``browser._overrides``)."""

    name: str
    fallbacks: tuple[str, ...]
    key: str = ""
    added: int = 0

    @property
    def css(self) -> str:
        return ", ".join(self.fallbacks)

    def origin(self, index: int) -> str:
        """Where fallback ``index`` comes from, as the doctor names it."""
        return f"override {index + 1}" if index < self.added else f"built-in {index - self.added + 1}"


@dataclass(frozen=True)
class Labels:
    """UI texts matched by the start of an element's label (lower-cased, spaces collapsed)."""

    tools: dict[Tool, tuple[str, ...]]
    # Icon names (``data-mat-icon-name``) of the tool rows: a language-free second way (D3).
    tool_icons: dict[str, Tool]
    # October 2026: inline rows; their labels name the level (OCT).
    thinking_levels: dict[ThinkingLevel, tuple[str, ...]]
    # mid-2026: a "Thinking level" row opening Standard / Extended (ZHT, REG).
    thinking_submenu: tuple[str, ...]
    standard_thinking: tuple[str, ...]
    extended_thinking: tuple[str, ...]
    # mid/late 2026: an "Extended thinking" row toggling it on and off (TOK, INT).
    thinking_toggle: tuple[str, ...]
    more_tools: tuple[str, ...]


@dataclass(frozen=True)
class SelectorTable:
    """The whole table; ``DEFAULT_TABLE`` is the built-in one."""

    editor: Sel
    send: Sel
    stop: Sel
    model_response: Sel
    answer_markdown: Sel
    message_actions: Sel
    response_error: Sel
    mode_picker: Sel
    mode_picker_aria: Sel
    mode_picker_text: Sel
    mode_items: Sel
    mode_item_label: Sel
    mode_item_sublabel: Sel
    selected: Sel
    open_menu: Sel
    menu_items: Sel
    tools_opener: Sel
    tool_items: Sel
    tool_icon: Sel
    more_tools: Sel
    tool_chip: Sel
    upload_opener: Sel
    file_input: Sel
    upload_chip: Sel
    upload_busy: Sel
    signed_out: Sel
    signed_in: Sel
    chat_content: Sel
    side_nav_opener: Sel
    temp_chat_button: Sel
    temp_chat_on: Sel
    labels: Labels = field(compare=False)

    def selectors(self) -> tuple[Sel, ...]:
        return tuple(getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), Sel))


def _sel(key: str, name: str, *fallbacks: str) -> Sel:
    return Sel(name, fallbacks, key)


DEFAULT_TABLE = SelectorTable(
    editor=_sel(
        "editor",
        "editor",
        'rich-textarea .ql-editor[contenteditable="true"]',
        'div.ql-editor[contenteditable="true"]',
        '[data-test-id="textarea-wrapper"] [role="textbox"]',
        'div[contenteditable="true"][role="textbox"]',
    ),
    # The send-button class sits on the gem-icon-button wrapper (B6, PWA); a hidden copy may come
    # first in the document (B7, INT), so the driver takes the last visible match.
    send=_sel(
        "send",
        "send button",
        'input-area-v2 button[aria-label="Send message"]',
        '[data-test-id="send-button-container"] button[aria-label="Send message"]',
        "gem-icon-button.send-button.submit button",
        'button[aria-label="Send message"]',
        "button.send-button.submit",
        'button:has([data-mat-icon-name="arrow_upward"])',
        'button:has([data-mat-icon-name="send"])',
    ),
    stop=_sel(
        "stop",
        "stop button",
        'button[aria-label="Stop response"]',
        "gem-icon-button.send-button.stop button",
        "button.send-button.stop",
        'button[aria-label="Stop generating"]',
        'button:has([data-mat-icon-name="stop"])',
    ),
    model_response=_sel("model_response", "model response", "model-response"),
    answer_markdown=_sel(
        "answer_markdown",
        "answer text",
        "message-content .markdown",
        ".model-response-text .markdown",
        "response-container .markdown",
    ),
    message_actions=_sel("message_actions", "message actions", "message-actions"),
    # A failed turn shows a response-error element outside message-content (B14, INT).
    response_error=_sel("response_error", "error message", "response-error"),
    mode_picker=_sel(
        "mode_picker",
        "mode picker",
        'button[data-test-id="bard-mode-menu-button"]',
        "bard-mode-switcher button",
        'button[aria-label^="Open mode picker"]',
        "button.input-area-switch",
    ),
    mode_picker_aria=_sel("mode_picker_aria", "mode picker label", '[aria-label^="Open mode picker"]'),
    mode_picker_text=_sel(
        "mode_picker_text",
        "mode picker text",
        '[data-test-id="logo-pill-label-container"]',
        ".input-area-switch-label",
        ".picker-primary-text",
    ),
    # Every row of the picker's menu: models (with data-mode-id) and, since mid-2026, the thinking
    # rows beside them (OCT: Low/Medium/High without data-mode-id).
    mode_items=_sel(
        "mode_items",
        "mode menu item",
        '[data-test-id="gem-mode-menu"] gem-menu-item',
        '[data-test-id="bard-mode-desktop-gem-menu"] gem-menu-item',
        '[data-test-id^="bard-mode-option-"]',
        '.gds-mode-switch-menu [role="menuitemradio"]',
        '.gds-mode-switch-menu [role="menuitem"]',
        ".gds-mode-switch-menu button[mat-menu-item]",
    ),
    mode_item_label=_sel(
        "mode_item_label",
        "mode item label",
        ".label",
        ".mode-title",
        ".title-and-description > span:first-child",
    ),
    mode_item_sublabel=_sel("mode_item_sublabel", "mode item sublabel", ".sublabel", ".mode-desc"),
    # The committed choice (TOK: gem-menu-item-content.selected; data-active is only a highlight).
    selected=_sel(
        "selected",
        "selected row",
        ".selected",
        '[aria-checked="true"]',
        ".is-selected",
    ),
    open_menu=_sel(
        "open_menu",
        "open menu",
        ".cdk-overlay-backdrop",
        ".cdk-overlay-pane [role='menu']",
        "div[popover] [role='menu']",
    ),
    # Rows of any open menu (a thinking submenu opens a second one, REG).
    menu_items=_sel(
        "menu_items",
        "menu item",
        '[role="menu"] gem-menu-item',
        '[role="menu"] [role="menuitem"]',
        '[role="menu"] [role="menuitemradio"]',
    ),
    # "Upload and tools" in most 2026 observations, "Upload & tools" in others (D1).
    tools_opener=_sel(
        "tools_opener",
        "tools button",
        'button[aria-label="Upload and tools"]',
        'button[aria-label="Upload & tools"]',
        "toolbox-drawer button.toolbox-drawer-button",
        'button[jslog*="300142"]',
    ),
    tool_items=_sel(
        "tool_items",
        "tool menu item",
        'toolbox-drawer-item button[role="menuitemcheckbox"]',
        "button.toolbox-drawer-item-list-button",
        "toolbox-drawer-item > button",
    ),
    tool_icon=_sel("tool_icon", "tool icon", "[data-mat-icon-name]"),
    more_tools=_sel("more_tools", "more tools", '[data-test-id="more-tools-button"]'),
    tool_chip=_sel(
        "tool_chip",
        "tool chip",
        'gem-button[data-test-id="deselect-drawer-item-gem-button"]',
        '[data-test-id="deselect-drawer-item-gem-button"]',
        'button[aria-label^="Deselect"]',
        "button.toolbox-drawer-item-deselect-button",
    ),
    upload_opener=_sel(
        "upload_opener",
        "upload button",
        'button[aria-label="Upload and tools"]',
        'button[aria-label="Upload & tools"]',
        "uploader button.upload-card-button",
        'button[aria-label="Open upload file menu"]',
        'button[aria-label="Open input area menu"]',
    ),
    file_input=_sel(
        "file_input",
        "file input",
        'images-files-uploader input[type="file"]',
        'input[type="file"][name="Filedata"]',
    ),
    upload_chip=_sel(
        "upload_chip",
        "uploaded file",
        "uploader-file-preview",
        '[data-test-id="uploaded-file"]',
        ".file-preview-chip",
    ),
    upload_busy=_sel(
        "upload_busy",
        "upload in progress",
        'input-container uploader-file-preview[aria-busy="true"]',
        'input-area-v2 [role="progressbar"]',
        'input-container [data-test-id="uploaded-file"] [role="progressbar"]',
        'input-container .file-preview-chip [role="progressbar"]',
    ),
    signed_out=_sel(
        "signed_out",
        "signed-out marker",
        '[data-test-id="conversations-list-signed-out"]',
        '[data-identifier="sign-in"]',
        'a[href^="https://accounts.google.com/ServiceLogin"]',
        'a[aria-label="Sign in"]',
        "uploader-signed-out-tooltip",
    ),
    signed_in=_sel(
        "signed_in",
        "signed-in marker",
        '[aria-label^="Google Account"]',
        'a[aria-label*="Google Account"]',
        "[data-email]",
        'a[aria-label*="@"]',
    ),
    # Chat content (answers, prompts, the history): a marker or notice inside it is text the chat
    # quotes, never the app's own chrome, so the verdicts skip it (an answer may hold a Sign-in link).
    chat_content=_sel(
        "chat_content",
        "chat content",
        "#chat-history",
        "infinite-scroller.chat-history",
        "model-response",
        "user-query",
    ),
    # The side nav ships collapsed; some of its entries show only once it is opened (page.md §1.13, CWC).
    side_nav_opener=_sel(
        "side_nav_opener",
        "side nav opener",
        'button[data-test-id="side-nav-menu-button"]',
        'button[aria-label="Open sidebar"]',
        'button[aria-label="Main menu"]',
    ),
    # "Temporary chat" (page.md §1.13: W2A's `temp-chat-button button`, CWC's data-test-id).
    temp_chat_button=_sel(
        "temp_chat_button",
        "temporary chat button",
        'button[data-test-id="temp-chat-button"]',
        "temp-chat-button button",
        '[data-test-id="temp-chat-button"] button',
        'button[aria-label="Temporary chat"]',
    ),
    # The mode is on: the button's `temp-chat-on` class or pressed state, or the temporary card.
    temp_chat_on=_sel(
        "temp_chat_on",
        "temporary chat on",
        "button.temp-chat-on",
        'button[data-test-id="temp-chat-button"][aria-pressed="true"]',
        ".temporary-chat-card",
    ),
    labels=Labels(
        tools={
            Tool.IMAGE: ("create image", "create images"),
            Tool.VIDEO: ("create video", "create videos"),
            Tool.CANVAS: ("canvas",),
            Tool.DEEP_RESEARCH: ("deep research",),
            Tool.MUSIC: ("create music",),
        },
        tool_icons={
            "image_create": Tool.IMAGE,
            "movie": Tool.VIDEO,
            "canvas": Tool.CANVAS,
            "deep_research": Tool.DEEP_RESEARCH,
            "music": Tool.MUSIC,
        },
        thinking_levels={
            ThinkingLevel.LOW: ("low",),
            ThinkingLevel.MEDIUM: ("medium",),
            ThinkingLevel.HIGH: ("high",),
        },
        thinking_submenu=("thinking level",),
        standard_thinking=("standard",),
        extended_thinking=("extended",),
        thinking_toggle=("extended thinking",),
        more_tools=("more tools",),
    ),
)

# The mid-2026 picker's aria-label reads "Open mode picker, currently <label>".
MODE_PICKER_CURRENT_WORD = "currently"
# The picker row's model hex, where the page puts it on the row.
MODE_ID_ATTRIBUTE = "data-mode-id"
# ``window.WIZ_global_data`` keys of the XSRF token; Google renders it for a signed-in session only,
# an expired one gets the anonymous page without it (protocol.md §1.2).
SESSION_TOKEN_KEYS = ("SNlM0e", "thykhd")
CHAT_MISSING_TEXT = "This chat couldn't be loaded"

CAPTCHA_PATH = re.compile(r"/sorry/|recaptcha", re.IGNORECASE)
CONSENT_URL = re.compile(r"consent\.google\.com|/consent(\?|$|/)", re.IGNORECASE)
# fidelity.md A4: accounts.google.com paths ``signin``, ``v3/signin``, ``ServiceLogin`` are the
# sign-in page (the simulator serves them on its own origin, hence the paths); a URL under
# ``/v3/signin/challenge`` is "Verify it's you", which only a person can pass: checked first.
SIGN_IN_URL = re.compile(r"accounts\.google\.com|/ServiceLogin|/v3/signin/", re.IGNORECASE)
VERIFY_URL = re.compile(r"/v3/signin/challenge(/|\?|$)", re.IGNORECASE)

# MODE_CATEGORY of an otAQ7b model entry ([17]) and of the model header (protocol.md §2.1): 1 FAST,
# 2 THINKING, 3 PRO, 4 AUTO, 5 FAST_DYNAMIC_THINKING, 6 FLASH_LITE. Used for a model whose label
# names no family; the thinking categories are Flashes that think (fidelity.md C8).
MODE_CATEGORY_FAMILIES: dict[int, tuple[ModeFamily, bool]] = {
    1: (ModeFamily.FLASH, False),
    2: (ModeFamily.FLASH, True),
    3: (ModeFamily.PRO, False),
    5: (ModeFamily.FLASH, True),
}

_LITE = re.compile(r"\blite\b", re.IGNORECASE)
_FLASH = re.compile(r"\b(flash|fast)\b", re.IGNORECASE)
_PRO = re.compile(r"\bpro\b", re.IGNORECASE)
_THINKING = re.compile(r"\b(thinking|think)\b", re.IGNORECASE)


def family_of_label(label: str) -> ModeFamily | None:
    """The family a picker label belongs to; Flash-Lite belongs to none (it is not Flash), and an
    early-2026 "Thinking" model is a Flash (one that thinks, ``thinks_by_label``)."""
    if _LITE.search(label):
        return None
    if _PRO.search(label):
        return ModeFamily.PRO
    if _FLASH.search(label) or _THINKING.search(label):
        return ModeFamily.FLASH
    return None


def thinks_by_label(label: str) -> bool:
    """A model that is its family's thinking variant by name (early 2026 "Thinking")."""
    return bool(_THINKING.search(label)) and not _PRO.search(label)


def is_light_label(label: str) -> bool:
    """Flash-Lite and its kin: a model outside every family, whatever its mode category says."""
    return bool(_LITE.search(label))


def normalise(text: str) -> str:
    return " ".join(text.lower().split())


def starts_with_any(text: str, starts: tuple[str, ...]) -> bool:
    return normalise(text).startswith(starts)


def tool_of_label(label: str, labels: Labels = DEFAULT_TABLE.labels) -> Tool | None:
    text = normalise(label)
    for tool, starts in labels.tools.items():
        if text.startswith(starts):
            return tool
    return None
