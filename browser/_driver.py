"""Drives one Gemini page: open a chat, pick mode/tool/gem, attach files, type, send, stop, and
recognise signed-out, captcha and consent pages. Every step is bounded and fails with a typed error.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.async_api import FilePayload, Locator, Page

from browser import _selectors as S
from browser._capabilities import Capabilities, PageModel, ThinkingControl
from browser._picker import Picker
from browser._playwright_errors import map_playwright_errors
from browser._requests import Attachment, ModeFamily, ThinkingLevel, Tool
from browser._settings import PoolSettings
from browser._steps import MS, Steps
from browser._toolbox import Toolbox
from browser.errors import DriverError, NavigationFailed, SelectorMissing, StepTimeout


class PageState(enum.StrEnum):
    """What an opened page turned out to be."""

    READY = "ready"
    SIGNED_OUT = "signed_out"
    VERIFY = "verify"  # sent to "Verify it's you" (a challenge under /v3/signin/challenge)
    CAPTCHA = "captcha"
    CONSENT = "consent"


@dataclass(frozen=True)
class DomAnswer:
    """The last answer as the DOM shows it (the capture's fallback)."""

    text: str
    done: bool
    error_code: int | None


log = logging.getLogger(__name__)


class PageDriver:
    """UI steps on one page; ``settings`` supplies the base URL, the step timeouts and the
    selector table (``PoolSettings.selector_table``)."""

    def __init__(self, page: Page, settings: PoolSettings) -> None:
        self.page = page
        self._settings = settings
        self.steps = Steps(page, settings)
        self.sel = self.steps.sel
        self.picker = Picker(self.steps)
        self.toolbox = Toolbox(self.steps)

    # -- navigation and page state --

    def url_for(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return f"{self._settings.base_url}{path}{separator}hl={self._settings.language}"

    async def open(self, path: str = "/app") -> PageState:
        """Go to ``path`` (``/app``, ``/app/<hex>``, ``/gem/<slug>``) and say what the page is."""
        with map_playwright_errors(f"open {path}", navigation=True):
            await self.page.goto(
                self.url_for(path),
                wait_until="domcontentloaded",
                timeout=self._settings.navigation_timeout * MS,
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
                missing = await self.steps.evaluate(
                    _CHROME_TEXT, [S.CHAT_MISSING_TEXT, self.sel.chat_content.css]
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
            self.sel.editor.css,
            self.sel.signed_out.css,
            self.sel.signed_in.css,
            list(S.SESSION_TOKEN_KEYS),
            self.sel.chat_content.css,
        ]
        try:
            with map_playwright_errors("wait for the page"):
                handle = await self.page.wait_for_function(
                    _SESSION_VERDICT,
                    arg=[*args, False],
                    timeout=self._settings.navigation_timeout * MS,
                    polling=100,
                )
                return PageState(await handle.json_value())
        except StepTimeout:
            # Nothing settled: an editor without any sign of a session is not signed in.
            with map_playwright_errors("wait for the page"):
                verdict = await self.steps.evaluate(_SESSION_VERDICT, [*args, True])
            if not verdict:
                raise
            return PageState(verdict)

    async def warm(self) -> None:
        """Have Playwright build its selector engine in this document now. The first locator call
        after a navigation evaluates it (~330 KB of script, ~50 ms here); a tab loaded while idle
        should not leave that to the next turn's first step."""
        with map_playwright_errors("warm the page"):
            await self.steps.count(self.page.locator(self.sel.editor.css))

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
        if S.VERIFY_URL.search(parts.path):
            return PageState.VERIFY
        if S.SIGN_IN_URL.search(where):
            return PageState.SIGNED_OUT
        return None

    async def offer(self) -> tuple[tuple[PageModel, ...], ThinkingControl, frozenset[Tool]]:
        """What the page's menus offer: the picker's models and thinking control, the tools."""
        models, control = await self.picker.offer()
        tools = await self.toolbox.offered()
        return models, control, tools

    async def capabilities(self, state: PageState) -> Capabilities:
        """Modes, tools and thinking control from the page's menus alone (no account-status answer:
        the page shows no reliable plan label, so the tier is unknown)."""
        if state is not PageState.READY:
            return Capabilities(tier="anon")
        models, control, tools = await self.offer()
        modes = frozenset(model.family for model in models if model.family)
        return Capabilities(tier="unknown", modes=modes, tools=tools, models=models, thinking=control)

    # -- modes, tools --

    async def current_mode_label(self) -> str:
        return await self.picker.current_label()

    async def choose_mode(
        self, family: ModeFamily, level: ThinkingLevel | None = None, caps: Capabilities | None = None
    ) -> None:
        """Switch the picker to ``family`` (at thinking ``level`` where the page sets one), then verify."""
        await self.picker.choose(family, level, caps or Capabilities(tier="unknown"))

    async def choose_tool(self, tool: Tool) -> None:
        await self.toolbox.choose(tool)

    # -- composer --

    async def attach(self, attachments: tuple[Attachment, ...]) -> None:
        """Choose the files through the menu's transient input, then wait until every upload finished."""
        if not attachments:
            return
        steps, sel = self.steps, self.sel
        with map_playwright_errors("attach files"):
            before = await steps.count(self.page.locator(sel.upload_chip.css))
            await steps.close_menus()
            await steps.click(sel.upload_opener, "attach files")
            file_input = self.page.locator(sel.file_input.css).first
            try:
                with map_playwright_errors("attach files"):
                    await file_input.wait_for(state="attached", timeout=steps.ui_ms)
            except StepTimeout:
                raise SelectorMissing(sel.file_input.name, step="attach files") from None
            payloads: list[FilePayload] = [
                {"name": item.name, "mimeType": item.mime, "buffer": item.data} for item in attachments
            ]
            await file_input.set_input_files(payloads, timeout=steps.ui_ms)
            await steps.close_menus()
        await self.wait_uploads(before + len(attachments))

    async def wait_uploads(self, expected: int) -> None:
        """page.md §2.2: block on the composer's own upload state, not a fixed sleep."""
        with map_playwright_errors("wait for uploads"):
            await self.page.wait_for_function(
                """([chip, busy, expected]) =>
                    document.querySelectorAll(chip).length >= expected &&
                    document.querySelectorAll(busy).length === 0""",
                arg=[self.sel.upload_chip.css, self.sel.upload_busy.css, expected],
                timeout=self._settings.upload_timeout * MS,
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
        steps = self.steps
        with map_playwright_errors("insert prompt"):
            editor = steps.visible(self.sel.editor)
            await steps.wait_visible(editor, self.sel.editor, "insert prompt")
            await editor.focus(timeout=steps.ui_ms)
            if "\n" not in prompt:
                if prompt:
                    await self.page.keyboard.insert_text(prompt)
                return
            if await editor.evaluate(_PASTE_SCRIPT, [prompt, steps.ui_ms], timeout=steps.ui_ms):
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
            return await self.steps.count(self.page.locator(self.sel.model_response.css))

    async def send(self, sent: asyncio.Event | None = None) -> None:
        """Click send and confirm it happened (request seen, or a new answer); retry once with Enter.

        The visible send button is taken: the page may keep a hidden one earlier in the document or
        replace it while the prompt is typed (fidelity.md B7)."""
        steps = self.steps
        with map_playwright_errors("send"):
            button = steps.visible(self.sel.send)
            baseline, _ = await asyncio.gather(self.response_count(), self._wait_sendable(button))
            # Visible and enabled were just checked; skipping Playwright's own checks (stability
            # over two animation frames, hit target) saves ~20 ms. Should something cover the
            # button, the click is not confirmed and Enter below sends instead.
            await button.click(force=True, timeout=steps.ui_ms)
        if await self._confirm_sent(baseline, sent):
            return
        with map_playwright_errors("send (retry)"):
            await steps.visible(self.sel.editor).press("Enter", timeout=steps.ui_ms)
        if not await self._confirm_sent(baseline, sent):
            raise StepTimeout("the prompt was not sent", step="send")

    async def _wait_sendable(self, button: Locator) -> None:
        await self.steps.wait_visible(button, self.sel.send, "send")
        # Disabled while uploads run (B8); the attribute sits on the button or on its wrapper.
        await button.evaluate(
            """async (button, ms) => {
                const deadline = performance.now() + ms;
                const disabled = () => button.closest('[aria-disabled="true"]') !== null || button.disabled;
                while (disabled()) {
                    if (performance.now() > deadline) return;
                    await new Promise((resolve) => setTimeout(resolve, 50));
                }
            }""",
            self._settings.upload_timeout * MS,
            timeout=self._settings.upload_timeout * MS + self.steps.ui_ms,
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
        steps = self.steps
        with map_playwright_errors("stop"):
            buttons = self.page.locator(self.sel.stop.css).filter(visible=True)
            if not await steps.count(buttons):
                return False
            await buttons.last.click(timeout=self._settings.stop_timeout * MS)
            return True

    async def read_answer(self) -> DomAnswer:
        """The last turn's text and state; the capture's last-resort reader. A failed turn shows a
        ``response-error`` (B14); its code is not in the page (0), unless the element carries one."""
        steps, sel = self.steps, self.sel
        with map_playwright_errors("read answer"):
            responses = self.page.locator(sel.model_response.css)
            count = await steps.count(responses)
            if not count:
                return DomAnswer(text="", done=False, error_code=None)
            last = responses.nth(count - 1)
            error = last.locator(sel.response_error.css).first
            code: int | None = None
            if await steps.count(error):
                raw = await error.get_attribute("data-error-code", timeout=steps.ui_ms)
                code = int(raw) if raw and raw.isdigit() else 0
            markdown = last.locator(sel.answer_markdown.css).first
            text = ""
            if code is None and await steps.count(markdown):
                text = (await markdown.inner_text(timeout=steps.ui_ms)).strip()
            done = await steps.count(last.locator(sel.message_actions.css)) > 0
            return DomAnswer(text=text, done=done, error_code=code)


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
