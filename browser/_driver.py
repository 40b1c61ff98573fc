"""Drives one Gemini page: open a chat, pick mode/tool/gem, attach files, type, send, stop, and
recognise signed-out, captcha and consent pages. Every step is bounded and fails with a typed error.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import FilePayload, Locator, Page

from browser import _selectors as S
from browser._playwright_errors import map_playwright_errors
from browser._requests import Attachment, ModeFamily, Tool
from browser._settings import PoolSettings
from browser.errors import NavigationFailed, SelectorMissing, StepTimeout


class PageState(enum.StrEnum):
    """What an opened page turned out to be."""

    READY = "ready"
    SIGNED_OUT = "signed_out"
    CAPTCHA = "captcha"
    CONSENT = "consent"


@dataclass(frozen=True)
class Capabilities:
    """What the page offers, read from its own picker and tools menu."""

    tier: str  # paid | free | anon
    modes: frozenset[ModeFamily] = field(default_factory=frozenset)
    tools: frozenset[Tool] = field(default_factory=frozenset)


@dataclass(frozen=True)
class DomAnswer:
    """The last answer as the DOM shows it (the capture's fallback)."""

    text: str
    done: bool
    error_code: int | None


_MS = 1000.0


class PageDriver:
    """UI steps on one page; ``settings`` supplies the base URL and the step timeouts."""

    def __init__(self, page: Page, settings: PoolSettings) -> None:
        self.page = page
        self._settings = settings

    # -- navigation and page state --

    def url_for(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return f"{self._settings.base_url}{path}{separator}hl={self._settings.language}"

    async def open(self, path: str = "/app") -> PageState:
        """Go to ``path`` (``/app``, ``/app/<cid>``, ``/gem/<slug>``) and say what the page is."""
        with map_playwright_errors(f"open {path}", navigation=True):
            await self.page.goto(
                self.url_for(path),
                wait_until="domcontentloaded",
                timeout=self._settings.navigation_timeout * _MS,
            )
        return await self.detect()

    async def detect(self) -> PageState:
        """Blocked and signed-out pages by URL, then honest DOM signals (never the editor alone)."""
        state = self._state_from_url(self.page.url)
        if state is not None:
            return state
        ready = self.page.locator(f"{S.EDITOR.css}, {S.SIGNED_OUT.css}").first
        with map_playwright_errors("wait for the page"):
            try:
                await ready.wait_for(state="attached", timeout=self._settings.navigation_timeout * _MS)
            except Exception:
                state = self._state_from_url(self.page.url)
                if state is not None:
                    return state
                raise
        missing, signed_out = await asyncio.gather(
            self.page.get_by_text(S.CHAT_MISSING_TEXT).count(),
            self.page.locator(S.SIGNED_OUT.css).count(),
        )
        if missing:
            raise NavigationFailed("the chat could not be loaded", step="open chat")
        return PageState.SIGNED_OUT if signed_out else PageState.READY

    def _state_from_url(self, url: str) -> PageState | None:
        parts = urlsplit(url)
        where = f"{parts.netloc}{parts.path}"
        if S.CAPTCHA_PATH.search(where):
            return PageState.CAPTCHA
        if S.CONSENT_URL.search(where):
            return PageState.CONSENT
        if S.SIGN_IN_URL.search(where):
            return PageState.SIGNED_OUT
        return None

    async def capabilities(self, state: PageState) -> Capabilities:
        """Tier, modes and tools as the page offers them (menus opened, read, closed)."""
        if state is not PageState.READY:
            return Capabilities(tier="anon")
        modes = frozenset(
            family for family in (S.family_of_label(label) for label in await self._mode_labels()) if family
        )
        tools = frozenset(
            tool for tool in (S.tool_of_label(label) for label in await self._tool_labels()) if tool
        )
        tier = "paid" if ModeFamily.PRO in modes or tools else "free"
        return Capabilities(tier=tier, modes=modes, tools=tools)

    # -- modes --

    async def current_mode_label(self) -> str:
        aria = self.page.locator(S.MODE_PICKER_ARIA.css).first
        if await aria.count():
            label = await aria.get_attribute("aria-label") or ""
            if "currently" in label:
                return label.split("currently", 1)[1].strip(" ,")
        text = self.page.locator(S.MODE_PICKER_TEXT.css).first
        if await text.count():
            return (await text.inner_text()).strip()
        return ""

    async def choose_mode(self, family: ModeFamily) -> None:
        """Switch the picker to ``family`` by label (hashes vary by account), then verify."""
        if S.family_of_label(await self.current_mode_label()) is family:
            return
        items = await self._open_mode_menu()
        target = await self._find_labelled(items, lambda label: S.family_of_label(label) is family)
        if target is None:
            await self._close_menus()
            raise SelectorMissing(f"mode:{family.value}", step="choose mode")
        with map_playwright_errors("choose mode"):
            has_submenu = await target.get_attribute("aria-haspopup") == "menu"
            await target.click(timeout=self._settings.ui_timeout * _MS)
            if has_submenu:  # mid-2026 "Thinking" opens its levels; take the standard one
                await self._pick_thinking_level()
        await self._close_menus()
        if S.family_of_label(await self.current_mode_label()) is not family:
            raise StepTimeout(f"the picker did not switch to {family.value}", step="choose mode")

    async def _pick_thinking_level(self) -> None:
        levels = self.page.locator(
            '[data-test-id="thinking-level-menu"] gem-menu-item, [role="menu"] [data-thinking-level]'
        )
        await levels.first.wait_for(state="visible", timeout=self._settings.ui_timeout * _MS)
        for index in range(await levels.count()):
            item = levels.nth(index)
            if "extended" not in (await item.inner_text()).lower():
                await item.click(timeout=self._settings.ui_timeout * _MS)
                return
        await levels.first.click(timeout=self._settings.ui_timeout * _MS)

    async def _open_mode_menu(self) -> Locator:
        await self._close_menus()
        with map_playwright_errors("open mode picker"):
            await self._click(S.MODE_PICKER)
            items = self.page.locator(S.MODE_ITEMS.css)
            await self._wait_visible(items.first, S.MODE_ITEMS)
        return items

    async def _mode_labels(self) -> list[str]:
        items = await self._open_mode_menu()
        labels = [await self._item_label(items.nth(i)) for i in range(await items.count())]
        await self._close_menus()
        return labels

    async def _item_label(self, item: Locator) -> str:
        for inner in S.MODE_ITEM_LABEL:
            part = item.locator(inner).first
            if await part.count():
                return (await part.inner_text()).strip()
        return (await item.inner_text()).strip().splitlines()[0] if await item.inner_text() else ""

    # -- tools and gems --

    async def choose_tool(self, tool: Tool) -> None:
        """Select ``tool`` in the toolbox drawer (looking behind "More tools"), then check its chip."""
        item = await self._find_tool(tool)
        if item is None:
            await self._close_menus()
            raise SelectorMissing(f"tool:{tool.value}", step="choose tool")
        with map_playwright_errors("choose tool"):
            if await item.get_attribute("aria-checked") != "true":
                await item.click(timeout=self._settings.ui_timeout * _MS)
            await self._close_menus()
            await self._wait_visible(self.page.locator(S.TOOL_CHIP.css).first, S.TOOL_CHIP)

    async def _find_tool(self, tool: Tool) -> Locator | None:
        items = await self._open_tools_menu()
        if items is None:
            return None
        found = await self._find_labelled(items, lambda label: S.tool_of_label(label) is tool)
        if found is None and await self._expand_more_tools():
            found = await self._find_labelled(items, lambda label: S.tool_of_label(label) is tool)
        return found

    async def _open_tools_menu(self) -> Locator | None:
        await self._close_menus()
        opener = self.page.locator(S.TOOLS_OPENER.css).first
        if not await opener.count():
            return None
        with map_playwright_errors("open tools menu"):
            await opener.click(timeout=self._settings.ui_timeout * _MS)
            items = self.page.locator(S.TOOL_ITEMS.css)
            try:
                await items.first.wait_for(state="visible", timeout=self._settings.ui_timeout * _MS / 2)
            except Exception:
                return None if not await self.page.locator(S.MORE_TOOLS.css).count() else items
        return items

    async def _expand_more_tools(self) -> bool:
        more = self.page.locator(S.MORE_TOOLS.css).first
        if not await more.count():
            return False
        with map_playwright_errors("open more tools"):
            await more.click(timeout=self._settings.ui_timeout * _MS)
            await asyncio.sleep(0.1)  # the hidden items replace the button in the same frame
        return True

    async def _tool_labels(self) -> list[str]:
        items = await self._open_tools_menu()
        if items is None:
            await self._close_menus()
            return []
        await self._expand_more_tools()
        labels = [(await items.nth(i).inner_text()).strip() for i in range(await items.count())]
        await self._close_menus()
        return labels

    # -- composer --

    async def attach(self, attachments: tuple[Attachment, ...]) -> None:
        """Choose the files through the menu's transient input, then wait until every upload finished."""
        if not attachments:
            return
        before = await self.page.locator(S.UPLOAD_CHIP.css).count()
        await self._close_menus()
        with map_playwright_errors("attach files"):
            await self._click(S.UPLOAD_OPENER)
            file_input = self.page.locator(S.FILE_INPUT.css).first
            try:
                await file_input.wait_for(state="attached", timeout=self._settings.ui_timeout * _MS)
            except Exception:
                raise SelectorMissing(S.FILE_INPUT.name, step="attach files") from None
            payloads: list[FilePayload] = [
                {"name": item.name, "mimeType": item.mime, "buffer": item.data} for item in attachments
            ]
            await file_input.set_input_files(
                payloads,
                timeout=self._settings.ui_timeout * _MS,
            )
        await self._close_menus()
        await self.wait_uploads(before + len(attachments))

    async def wait_uploads(self, expected: int) -> None:
        """page.md §2.2: block on the composer's own upload state, not a fixed sleep."""
        with map_playwright_errors("wait for uploads"):
            await self.page.wait_for_function(
                """([chip, busy, expected]) =>
                    document.querySelectorAll(chip).length >= expected &&
                    document.querySelectorAll(busy).length === 0""",
                arg=[S.UPLOAD_CHIP.css, S.UPLOAD_BUSY.css, expected],
                timeout=self._settings.upload_timeout * _MS,
                polling=100,
            )

    async def insert_prompt(self, prompt: str) -> None:
        """Real input events; each newline is Shift+Enter so that it cannot send early.

        Focus rather than a click: the editor is empty, so the caret lands in the same place, and
        a click's actionability checks cost several round trips and animation frames."""
        with map_playwright_errors("insert prompt"):
            editor = self.page.locator(S.EDITOR.css).first
            await self._wait_visible(editor, S.EDITOR)
            await editor.focus(timeout=self._settings.ui_timeout * _MS)
            for index, line in enumerate(prompt.split("\n")):
                if index:
                    await self.page.keyboard.press("Shift+Enter")
                if line:
                    await self.page.keyboard.insert_text(line)

    async def response_count(self) -> int:
        return await self.page.locator(S.MODEL_RESPONSE.css).count()

    async def send(self, sent: asyncio.Event | None = None) -> None:
        """Click send and confirm it happened (request seen, or a new answer); retry once with Enter."""
        with map_playwright_errors("send"):
            button = self.page.locator(S.SEND.css).first
            baseline, _ = await asyncio.gather(self.response_count(), self._wait_sendable(button))
            # Visible and enabled were just checked; skipping Playwright's own checks (stability
            # over two animation frames, hit target) saves ~20 ms. Should something cover the
            # button, the click is not confirmed and Enter below sends instead.
            await button.click(force=True, timeout=self._settings.ui_timeout * _MS)
        if await self._confirm_sent(baseline, sent):
            return
        with map_playwright_errors("send (retry)"):
            await self.page.locator(S.EDITOR.css).first.press(
                "Enter", timeout=self._settings.ui_timeout * _MS
            )
        if not await self._confirm_sent(baseline, sent):
            raise StepTimeout("the prompt was not sent", step="send")

    async def _wait_sendable(self, button: Locator) -> None:
        await self._wait_visible(button, S.SEND)
        await self.page.wait_for_function(  # disabled while uploads run
            "sel => !document.querySelector(sel)?.matches('[aria-disabled=\"true\"]')",
            arg=S.SEND.css,
            timeout=self._settings.upload_timeout * _MS,
        )

    async def _confirm_sent(self, baseline: int, sent: asyncio.Event | None) -> bool:
        """The capture's request event ends the wait at once; the DOM is the slower second witness."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.ui_timeout
        while loop.time() < deadline:
            if sent is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(sent.wait(), 0.1)
                    return True
            else:
                await asyncio.sleep(0.05)
            if await self.response_count() > baseline:
                return True
        return False

    async def stop(self) -> bool:
        """Click Stop if an answer is running; True when it was clicked."""
        with map_playwright_errors("stop"):
            button = self.page.locator(S.STOP.css).first
            if not await button.count():
                return False
            await button.click(timeout=self._settings.stop_timeout * _MS)
            return True

    async def read_answer(self) -> DomAnswer:
        """The last turn's text and state; the capture's last-resort reader."""
        with map_playwright_errors("read answer"):
            responses = self.page.locator(S.MODEL_RESPONSE.css)
            count = await responses.count()
            if not count:
                return DomAnswer(text="", done=False, error_code=None)
            last = responses.nth(count - 1)
            error = last.locator(S.ERROR_MESSAGE.css).first
            code: int | None = None
            if await error.count():
                raw = await error.get_attribute("data-error-code")
                code = int(raw) if raw and raw.isdigit() else 0
            markdown = last.locator(S.ANSWER_MARKDOWN.css).first
            text = (await markdown.inner_text()).strip() if await markdown.count() and code is None else ""
            done = await last.locator(S.MESSAGE_ACTIONS.css).count() > 0
            return DomAnswer(text=text, done=done, error_code=code)

    # -- helpers --

    async def _click(self, sel: S.Sel) -> None:
        target = self.page.locator(sel.css).first
        await self._wait_visible(target, sel)
        await target.click(timeout=self._settings.ui_timeout * _MS)

    async def _wait_visible(self, locator: Locator, sel: S.Sel) -> None:
        try:
            await locator.wait_for(state="visible", timeout=self._settings.ui_timeout * _MS)
        except Exception as exc:
            if "timeout" in type(exc).__name__.lower():
                raise SelectorMissing(sel.name) from None
            raise

    async def _find_labelled(self, items: Locator, wanted: Callable[[str], bool]) -> Locator | None:
        for index in range(await items.count()):
            item = items.nth(index)
            if wanted(await self._item_label(item)):
                return item
        return None

    async def _close_menus(self) -> None:
        """Escape closes CDK menus; clicks elsewhere would only hit the backdrop."""
        with map_playwright_errors("close menus"):
            for _ in range(3):
                if not await self.page.locator(
                    ".cdk-overlay-backdrop, .cdk-overlay-pane [role='menu']"
                ).count():
                    return
                await self.page.keyboard.press("Escape")
