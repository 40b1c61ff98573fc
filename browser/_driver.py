"""Drives one Gemini page: open a chat, pick mode/tool/gem, attach files, type, send, stop, and
recognise signed-out, captcha and consent pages. Every step is bounded and fails with a typed error.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.async_api import FilePayload, Locator, Page

from browser import _selectors as S
from browser._playwright_errors import map_playwright_errors
from browser._requests import Attachment, ModeFamily, Tool
from browser._settings import PoolSettings
from browser.errors import DriverError, NavigationFailed, SelectorMissing, StepTimeout


class PageState(enum.StrEnum):
    """What an opened page turned out to be."""

    READY = "ready"
    SIGNED_OUT = "signed_out"
    CAPTCHA = "captcha"
    CONSENT = "consent"


@dataclass(frozen=True)
class PageModel:
    """One model the account's picker offers: its wire ``hex`` (None when the page did not say),
    its ``label``, the ``family`` it counts for (None for one outside every family, e.g. Flash-Lite)
    and its thinking level when the account-status answer gives one."""

    hex: str | None
    label: str
    family: ModeFamily | None
    thinking_level: int | None = None


@dataclass(frozen=True)
class Capabilities:
    """What the page offers: read from the account-status answer, else from its picker and menus."""

    tier: str  # paid | free | anon
    modes: frozenset[ModeFamily] = field(default_factory=frozenset)
    tools: frozenset[Tool] = field(default_factory=frozenset)
    models: tuple[PageModel, ...] = ()


@dataclass(frozen=True)
class DomAnswer:
    """The last answer as the DOM shows it (the capture's fallback)."""

    text: str
    done: bool
    error_code: int | None


_MS = 1000.0

log = logging.getLogger(__name__)


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
        """Blocked and signed-out pages by URL, then honest signals (page.md §1.14).

        The editor only proves that the app loaded: the signed-out page has one too, and renders
        its Sign-in links late. So READY needs a positive sign of a session (the XSRF token only a
        signed-in page carries, or the account avatar), and until either side shows we wait.
        """
        state = self._state_from_url(self.page.url)
        if state is not None:
            return state
        try:
            verdict = await self._session_verdict()
            with map_playwright_errors("wait for the page"):
                async with asyncio.timeout(self._settings.ui_timeout):
                    missing = await self.page.evaluate(
                        _CHROME_TEXT, [S.CHAT_MISSING_TEXT, S.CHAT_CONTENT.css]
                    )
        except DriverError:
            # A redirect to a wall may land while we wait (it destroys the page's context).
            state = self._state_from_url(self.page.url)
            if state is not None:
                return state
            raise
        if missing:
            raise NavigationFailed("the chat could not be loaded", step="open chat")
        return verdict

    async def _session_verdict(self) -> PageState:
        args = [
            S.EDITOR.css,
            S.SIGNED_OUT.css,
            S.SIGNED_IN.css,
            list(S.SESSION_TOKEN_KEYS),
            S.CHAT_CONTENT.css,
        ]
        try:
            with map_playwright_errors("wait for the page"):
                handle = await self.page.wait_for_function(
                    _SESSION_VERDICT,
                    arg=[*args, False],
                    timeout=self._settings.navigation_timeout * _MS,
                    polling=100,
                )
                return PageState(await handle.json_value())
        except StepTimeout:
            # Nothing settled: an editor without any sign of a session is not signed in.
            with map_playwright_errors("wait for the page"):
                async with asyncio.timeout(self._settings.ui_timeout):
                    verdict = await self.page.evaluate(_SESSION_VERDICT, [*args, True])
            if not verdict:
                raise
            return PageState(verdict)

    async def warm(self) -> None:
        """Have Playwright build its selector engine in this document now. The first locator call
        after a navigation evaluates it (~330 KB of script, ~50 ms here); a tab loaded while idle
        should not leave that to the next turn's first step."""
        with map_playwright_errors("warm the page"):
            await self._count(self.page.locator(S.EDITOR.css))

    def left_the_app(self) -> bool:
        """True when the page was sent away from the app (sign-in, captcha or consent page)."""
        return self._state_from_url(self.page.url) is not None

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
        with map_playwright_errors("read capabilities"):
            mode_items = await self._mode_items()
            tool_labels = await self._tool_labels()
        models = tuple(PageModel(hex_id, label, S.family_of_label(label)) for hex_id, label in mode_items)
        modes = frozenset(model.family for model in models if model.family)
        tools = frozenset(tool for tool in map(S.tool_of_label, tool_labels) if tool)
        tier = "paid" if ModeFamily.PRO in modes or tools else "free"
        return Capabilities(tier=tier, modes=modes, tools=tools, models=models)

    # -- modes --

    async def current_mode_label(self) -> str:
        """The picker's mode as it reads now (mid-2026 in its aria-label, earlier in its text)."""
        with map_playwright_errors("read mode"):
            aria = self.page.locator(S.MODE_PICKER_ARIA.css).first
            if await self._count(aria):
                label = await aria.get_attribute("aria-label", timeout=self._ui_ms) or ""
                if S.MODE_PICKER_CURRENT_WORD in label:
                    return label.split(S.MODE_PICKER_CURRENT_WORD, 1)[1].strip(" ,")
            text = self.page.locator(S.MODE_PICKER_TEXT.css).first
            if await self._count(text):
                return (await text.inner_text(timeout=self._ui_ms)).strip()
            return ""

    async def choose_mode(self, family: ModeFamily) -> None:
        """Switch the picker to ``family`` by label (hashes vary by account), then verify."""
        if S.family_of_label(await self.current_mode_label()) is family:
            return
        with map_playwright_errors("choose mode"):
            items = await self._open_mode_menu()
            target = await self._find_labelled(items, lambda label: S.family_of_label(label) is family)
            if target is None:
                await self._close_menus()
                raise SelectorMissing(f"mode:{family.value}", step="choose mode")
            has_submenu = await target.get_attribute("aria-haspopup", timeout=self._ui_ms) == "menu"
            await target.click(timeout=self._ui_ms)
            if has_submenu:
                await self._pick_thinking_level()
            await self._close_menus()
        if S.family_of_label(await self.current_mode_label()) is not family:
            raise StepTimeout(f"the picker did not switch to {family.value}", step="choose mode")

    async def _pick_thinking_level(self) -> None:
        levels = self.page.locator(S.THINKING_LEVELS.css)
        await self._wait_visible(levels.first, S.THINKING_LEVELS, "choose mode")
        for index in range(await self._count(levels)):
            item = levels.nth(index)
            if S.EXTENDED_THINKING_TEXT not in (await item.inner_text(timeout=self._ui_ms)).lower():
                await item.click(timeout=self._ui_ms)
                return
        await levels.first.click(timeout=self._ui_ms)

    async def _open_mode_menu(self) -> Locator:
        await self._close_menus()
        await self._click(S.MODE_PICKER, "open mode picker")
        items = self.page.locator(S.MODE_ITEMS.css)
        await self._wait_visible(items.first, S.MODE_ITEMS, "open mode picker")
        return items

    async def _mode_items(self) -> list[tuple[str | None, str]]:
        """(hex, label) of each top-level picker item; the hex when the item carries one."""
        items = await self._open_mode_menu()
        found: list[tuple[str | None, str]] = []
        for index in range(await self._count(items)):
            item = items.nth(index)
            hex_id = await item.get_attribute(S.MODE_ID_ATTRIBUTE, timeout=self._ui_ms)
            found.append((hex_id or None, await self._item_label(item)))
        await self._close_menus()
        return found

    async def _item_label(self, item: Locator) -> str:
        for inner in S.MODE_ITEM_LABEL:
            part = item.locator(inner).first
            if await self._count(part):
                return (await part.inner_text(timeout=self._ui_ms)).strip()
        lines = (await item.inner_text(timeout=self._ui_ms)).strip().splitlines()
        return lines[0] if lines else ""

    # -- tools and gems --

    async def choose_tool(self, tool: Tool) -> None:
        """Select ``tool`` in the toolbox drawer (looking behind "More tools"), then check its chip."""
        with map_playwright_errors("choose tool"):
            item = await self._find_tool(tool)
            if item is None:
                await self._close_menus()
                raise SelectorMissing(f"tool:{tool.value}", step="choose tool")
            if await item.get_attribute("aria-checked", timeout=self._ui_ms) != "true":
                await item.click(timeout=self._ui_ms)
            await self._close_menus()
            await self._wait_visible(self.page.locator(S.TOOL_CHIP.css).first, S.TOOL_CHIP, "choose tool")

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
        if not await self._count(opener):
            return None
        await opener.click(timeout=self._ui_ms)
        items = self.page.locator(S.TOOL_ITEMS.css)
        try:
            with map_playwright_errors("open tools menu"):
                await items.first.wait_for(state="visible", timeout=self._ui_ms / 2)
        except StepTimeout:
            # A menu may show no promoted tool at all, only "More tools" (or no tools: free tier).
            return items if await self._count(self.page.locator(S.MORE_TOOLS.css)) else None
        return items

    async def _expand_more_tools(self) -> bool:
        more = self.page.locator(S.MORE_TOOLS.css).first
        if not await self._count(more):
            return False
        await more.click(timeout=self._ui_ms)
        await asyncio.sleep(0.1)  # the hidden items replace the button in the same frame
        return True

    async def _tool_labels(self) -> list[str]:
        items = await self._open_tools_menu()
        if items is None:
            await self._close_menus()
            return []
        await self._expand_more_tools()
        labels = [
            (await items.nth(i).inner_text(timeout=self._ui_ms)).strip()
            for i in range(await self._count(items))
        ]
        await self._close_menus()
        return labels

    # -- composer --

    async def attach(self, attachments: tuple[Attachment, ...]) -> None:
        """Choose the files through the menu's transient input, then wait until every upload finished."""
        if not attachments:
            return
        with map_playwright_errors("attach files"):
            before = await self._count(self.page.locator(S.UPLOAD_CHIP.css))
            await self._close_menus()
            await self._click(S.UPLOAD_OPENER, "attach files")
            file_input = self.page.locator(S.FILE_INPUT.css).first
            try:
                with map_playwright_errors("attach files"):
                    await file_input.wait_for(state="attached", timeout=self._ui_ms)
            except StepTimeout:
                raise SelectorMissing(S.FILE_INPUT.name, step="attach files") from None
            payloads: list[FilePayload] = [
                {"name": item.name, "mimeType": item.mime, "buffer": item.data} for item in attachments
            ]
            await file_input.set_input_files(payloads, timeout=self._ui_ms)
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
        """One line as CDP text input; several lines as one paste, else line by line.

        Enter sends, so newlines cannot be typed as text. Shift+Enter per line costs two round trips
        per line, and each edit costs the editor time in proportion to what it already holds, so a
        long many-line prompt took minutes. A paste, what a user does with long text, puts it all in
        at once (Quill's clipboard inserts the pasted text itself and never submits); it is checked,
        and an editor that did not take the whole text is cleared and typed into line by line.

        Focus rather than a click: the editor is empty, so the caret lands in the same place, and
        a click's actionability checks cost several round trips and animation frames."""
        with map_playwright_errors("insert prompt"):
            editor = self.page.locator(S.EDITOR.css).first
            await self._wait_visible(editor, S.EDITOR, "insert prompt")
            await editor.focus(timeout=self._ui_ms)
            if "\n" not in prompt:
                if prompt:
                    await self.page.keyboard.insert_text(prompt)
                return
            if await editor.evaluate(_PASTE_SCRIPT, [prompt, self._ui_ms], timeout=self._ui_ms):
                return
            log.info("the editor did not take a pasted prompt whole; typing it line by line")
            await self.page.keyboard.press("Control+A")
            await self.page.keyboard.press("Backspace")
            for index, line in enumerate(prompt.split("\n")):
                if index:
                    await self.page.keyboard.press("Shift+Enter")
                if line:
                    await self.page.keyboard.insert_text(line)

    async def response_count(self) -> int:
        with map_playwright_errors("count answers"):
            return await self._count(self.page.locator(S.MODEL_RESPONSE.css))

    async def send(self, sent: asyncio.Event | None = None) -> None:
        """Click send and confirm it happened (request seen, or a new answer); retry once with Enter."""
        with map_playwright_errors("send"):
            button = self.page.locator(S.SEND.css).first
            baseline, _ = await asyncio.gather(self.response_count(), self._wait_sendable(button))
            # Visible and enabled were just checked; skipping Playwright's own checks (stability
            # over two animation frames, hit target) saves ~20 ms. Should something cover the
            # button, the click is not confirmed and Enter below sends instead.
            await button.click(force=True, timeout=self._ui_ms)
        if await self._confirm_sent(baseline, sent):
            return
        with map_playwright_errors("send (retry)"):
            await self.page.locator(S.EDITOR.css).first.press("Enter", timeout=self._ui_ms)
        if not await self._confirm_sent(baseline, sent):
            raise StepTimeout("the prompt was not sent", step="send")

    async def _wait_sendable(self, button: Locator) -> None:
        await self._wait_visible(button, S.SEND, "send")
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
            if not await self._count(button):
                return False
            await button.click(timeout=self._settings.stop_timeout * _MS)
            return True

    async def read_answer(self) -> DomAnswer:
        """The last turn's text and state; the capture's last-resort reader."""
        with map_playwright_errors("read answer"):
            responses = self.page.locator(S.MODEL_RESPONSE.css)
            count = await self._count(responses)
            if not count:
                return DomAnswer(text="", done=False, error_code=None)
            last = responses.nth(count - 1)
            error = last.locator(S.ERROR_MESSAGE.css).first
            code: int | None = None
            if await self._count(error):
                raw = await error.get_attribute("data-error-code", timeout=self._ui_ms)
                code = int(raw) if raw and raw.isdigit() else 0
            markdown = last.locator(S.ANSWER_MARKDOWN.css).first
            text = ""
            if code is None and await self._count(markdown):
                text = (await markdown.inner_text(timeout=self._ui_ms)).strip()
            done = await self._count(last.locator(S.MESSAGE_ACTIONS.css)) > 0
            return DomAnswer(text=text, done=done, error_code=code)

    # -- helpers (callers map Playwright's errors; every call here is bounded) --

    @property
    def _ui_ms(self) -> float:
        return self._settings.ui_timeout * _MS

    async def _count(self, locator: Locator) -> int:
        # ``count`` takes no timeout; a renderer stuck in a script must not hang the step.
        async with asyncio.timeout(self._settings.ui_timeout):
            return await locator.count()

    async def _click(self, sel: S.Sel, step: str) -> None:
        target = self.page.locator(sel.css).first
        await self._wait_visible(target, sel, step)
        await target.click(timeout=self._ui_ms)

    async def _wait_visible(self, locator: Locator, sel: S.Sel, step: str) -> None:
        try:
            with map_playwright_errors(step):
                await locator.wait_for(state="visible", timeout=self._ui_ms)
        except StepTimeout:
            raise SelectorMissing(sel.name, step=step) from None

    async def _find_labelled(self, items: Locator, wanted: Callable[[str], bool]) -> Locator | None:
        for index in range(await self._count(items)):
            item = items.nth(index)
            if wanted(await self._item_label(item)):
                return item
        return None

    async def _close_menus(self) -> None:
        """Escape closes CDK menus; clicks elsewhere would only hit the backdrop."""
        with map_playwright_errors("close menus"):
            for _ in range(3):
                if not await self._count(self.page.locator(S.OPEN_MENU.css)):
                    return
                await self.page.keyboard.press("Escape")


# Dispatch a paste carrying ``text`` and wait (up to ``ms``) until the editor shows all of it; the
# comparison ignores whitespace, which the rendered text collapses and splits into blocks.
_PASTE_SCRIPT = """async (editor, [text, ms]) => {
  const data = new DataTransfer();
  data.setData("text/plain", text);
  editor.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  const squash = (value) => value.replace(/\\s+/g, "");
  const wanted = squash(text);
  const deadline = performance.now() + ms;
  while (squash(editor.innerText) !== wanted) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}"""

# Runs in the page: which state the page has settled in, or "" while it has not. Markers count
# only in the app's own chrome (not inside chat content, which may quote a Sign-in link), and a
# positive sign of a session wins over any signed-out marker. With ``final`` (the wait ran out) an
# editor without any sign of a session counts as signed out.
_SESSION_VERDICT = """([editor, signedOut, signedIn, tokenKeys, content, final]) => {
    const inChrome = (selector) =>
        [...document.querySelectorAll(selector)].some((element) => !element.closest(content));
    const wiz = window.WIZ_global_data || {};
    const session = tokenKeys.some((key) => wiz[key]) || inChrome(signedIn);
    const app = document.querySelector(editor) !== null;
    if (session) return app ? "ready" : "";
    if (inChrome(signedOut)) return "signed_out";
    return final && app ? "signed_out" : "";
}"""

# Runs in the page: whether ``text`` shows in the app's chrome (a notice), not in chat content.
_CHROME_TEXT = """([text, content]) => {
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.data.includes(text) && !node.parentElement?.closest(content)) return true;
    }
    return false;
}"""
