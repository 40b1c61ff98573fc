"""An evidence bundle of one account's page, for a bug report (``doctor --record``).

When Google changes the page, the person who sees it first has a real account and we have none.
The bundle carries what we need to follow the change, and nothing that identifies the person or
lets anyone use the session:

- outlines of the composer, the mode picker (and a thinking submenu) and the tools menu: their
  markup with tags, attributes and menu texts; scripts, styles, images, links and the chat
  content are left out, e-mail addresses and the account button's label are redacted;
- the rows as the driver's readers see them (``_picker`` / ``_toolbox``);
- the ``otAQ7b`` payload (models and flags; no token);
- the URLs and headers of the page's batchexecute and StreamGenerate requests, without cookies,
  the ``at`` and ``f.sid`` tokens or chat ids;
- one StreamGenerate exchange: a fixed probe prompt sent in a new chat (deleted afterwards), the
  request's ``f.req`` with the prompt's text replaced, and the response body as received.

``FORMAT`` names the layout; docs/evidence-bundles.md describes it and tests/fixtures/recorded/ holds
one bundle per simulator generation, replayed by the suite through the decoder and the page readers.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from playwright.async_api import Page, Request

from browser._capture import STREAM_GENERATE_MARKER
from browser._chats import delete_chat
from browser._driver import PageDriver
from browser._picker import RowKind
from browser._playwright_errors import map_playwright_errors
from browser.errors import BrowserError, DriverError, StepTimeout
from browser.protocol import decode_turn

__all__ = ["FORMAT", "PROBE_PROMPT", "RequestLog", "bundle", "page_outline", "probe_exchange", "redact_url"]

FORMAT = "gemini-gateway-evidence/1"
PROBE_PROMPT = "Reply with the single word OK."
PROMPT_PLACEHOLDER = "<prompt>"
REDACTED = "<redacted>"
_MAX_OUTLINE = 60_000  # characters of markup per outline
_SECRET_QUERY = {"at", "f.sid", "key"}
_SECRET_HEADERS = {"cookie", "authorization", "x-goog-authuser", "x-client-data", "x-browser-validation"}
_CHAT_PATH = re.compile(r"(/app/|c_)[0-9a-f]{6,}")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def redact_url(url: str) -> str:
    """``url`` without tokens and chat ids in its query (``source-path=/app/<chat>``)."""
    parts = urlsplit(url)
    query = [
        (key, REDACTED if key in _SECRET_QUERY else _CHAT_PATH.sub(r"\1<chat>", value))
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    path = _CHAT_PATH.sub(r"\1<chat>", parts.path)
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query, safe="/<>,"), ""))


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        name: REDACTED if name.lower() in _SECRET_HEADERS else _EMAIL.sub(REDACTED, value)
        for name, value in sorted(headers.items())
    }


class RequestLog:
    """The page's batchexecute and StreamGenerate requests from now on (URL, method, headers)."""

    def __init__(self, page: Page) -> None:
        self._requests: list[Request] = []
        page.on("request", self._on_request)

    def _on_request(self, request: Request) -> None:
        url = request.url
        if request.method == "POST" and ("/batchexecute" in url or STREAM_GENERATE_MARKER in url):
            self._requests.append(request)

    async def entries(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for request in self._requests:
            with contextlib.suppress(Exception):  # a request of a page gone since: its headers are lost
                headers = await request.all_headers()
                found.append(
                    {
                        "url": redact_url(request.url),
                        "method": request.method,
                        "headers": redact_headers(headers),
                    }
                )
        return found


# Runs in the page: a copy of ``root`` without scripts, styles, media and links, chat content
# left out, e-mail addresses and the account button's label redacted, at most ``max`` characters.
_OUTLINE = """([root, content, max]) => {
    if (!root) return null;
    const copy = root.cloneNode(true);
    const media = "script, style, svg, img, picture, video, canvas, iframe";
    copy.querySelectorAll(media).forEach((e) => e.remove());
    copy.querySelectorAll(content).forEach((e) => e.replaceChildren());
    const email = /[\\w.+-]+@[\\w-]+(\\.[\\w-]+)+/g;
    for (const element of [copy, ...copy.querySelectorAll("*")]) {
        for (const name of [...element.getAttributeNames()]) {
            if (["src", "srcset", "href", "style", "d", "data-email"].includes(name)) {
                element.removeAttribute(name);
            } else if (name === "aria-label" && /^google account/i.test(element.getAttribute(name))) {
                element.setAttribute(name, "Google Account: <redacted>");
            } else {
                element.setAttribute(name, element.getAttribute(name).replace(email, "<redacted>"));
            }
        }
    }
    const walker = document.createTreeWalker(copy, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        node.data = node.data.replace(email, "<redacted>");
    }
    return copy.outerHTML.slice(0, max);
}"""

# Runs in the page: the closest ancestor of the first visible ``selector`` match that is a menu
# overlay (or the element itself), outlined.
_MENU_ROOT = """([selector, content, max, outline]) => {
    const first = [...document.querySelectorAll(selector)].find((e) => e.checkVisibility());
    if (!first) return null;
    const root = first.closest("div[popover], .cdk-overlay-pane, [role=menu]") || first.parentElement;
    return (OUTLINE)([root, content, max]);
}"""


async def _outline_of(driver: PageDriver, selector: str, script: str) -> str | None:
    page = driver.page
    arg = [selector, driver.sel.chat_content.css, _MAX_OUTLINE]
    with map_playwright_errors("outline the page"):
        result: str | None = await page.evaluate(script.replace("(OUTLINE)", f"({_OUTLINE})"), arg)
    return result


async def page_outline(driver: PageDriver) -> dict[str, Any]:
    """The composer, the picker and the tools menu as the page shows them (menus opened, closed)."""
    sel, page = driver.sel, driver.page
    outline: dict[str, Any] = {}
    with map_playwright_errors("outline the composer"):
        outline["composer"] = await page.evaluate(
            f"([editor, content, max]) => ({_OUTLINE})(["
            "document.querySelector(editor)?.closest('input-container, fieldset, input-area-v2') || null,"
            " content, max])",
            [sel.editor.css, sel.chat_content.css, _MAX_OUTLINE],
        )
        trigger = page.locator(sel.mode_picker.css).first
        outline["picker_trigger"] = {
            "aria_label": await trigger.get_attribute("aria-label", timeout=driver.steps.ui_ms)
            if await driver.steps.count(trigger)
            else None,
            "current": await driver.picker.current_label(),
        }
    outline.update(await _picker_outline(driver))
    outline.update(await _tools_outline(driver))
    return outline


async def _picker_outline(driver: PageDriver) -> dict[str, Any]:
    sel = driver.sel
    found: dict[str, Any] = {}
    try:
        await driver.picker.open_menu()
        rows = await driver.picker.read_rows(sel.mode_items)
        found["picker_menu"] = await _outline_of(driver, sel.mode_items.css, _MENU_ROOT)
        found["picker_rows"] = [row.__dict__ for row in rows]
        submenu = next((row for row in rows if driver.picker.kind(row) is RowKind.SUBMENU), None)
        if submenu is not None:
            await driver.picker.click_row(sel.mode_items, submenu)
            await driver.picker.find_row((*sel.labels.standard_thinking, *sel.labels.extended_thinking))
            found["thinking_menu"] = await _outline_of(driver, sel.menu_items.css, _MENU_ROOT)
    except BrowserError as exc:
        found["picker_error"] = f"{type(exc).__name__}: {exc}"
    finally:
        with contextlib.suppress(BrowserError):
            await driver.steps.close_menus()
    return found


async def _tools_outline(driver: PageDriver) -> dict[str, Any]:
    sel = driver.sel
    found: dict[str, Any] = {}
    try:
        rows = await driver.toolbox.open_menu()
        if rows is None:
            return {"tools_menu": None, "tool_rows": []}
        rows = await driver.toolbox.expand(rows)
        found["tools_menu"] = await _outline_of(driver, sel.tool_items.css, _MENU_ROOT)
        found["tool_rows"] = [row.__dict__ for row in rows]
    except BrowserError as exc:
        found["tools_error"] = f"{type(exc).__name__}: {exc}"
    finally:
        with contextlib.suppress(BrowserError):
            await driver.steps.close_menus()
    return found


def _replace_prompt(f_req: str) -> str:
    """``f.req`` with the prompt's text (``inner[0][0]``) replaced; the rest as sent."""
    outer = json.loads(f_req)
    inner = json.loads(outer[1])
    inner[0][0] = PROMPT_PLACEHOLDER
    outer[1] = json.dumps(inner, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(outer, ensure_ascii=False, separators=(",", ":"))


async def probe_exchange(driver: PageDriver, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
    """Send ``PROBE_PROMPT`` in the open (new) chat and keep the StreamGenerate exchange; the chat is
    deleted afterwards. Raises ``BrowserError`` when nothing could be sent."""
    page = driver.page
    started = time.monotonic()
    await driver.insert_prompt(PROBE_PROMPT)
    try:
        with map_playwright_errors("probe turn"):
            async with page.expect_response(
                lambda r: STREAM_GENERATE_MARKER in r.url and r.request.method == "POST",
                timeout=timeout * 1000,
            ) as waiting:
                await driver.send()
            response = await waiting.value
            body = (await response.body()).decode("utf-8", errors="replace")
            request = response.request
            headers = await request.all_headers()
    except StepTimeout:
        raise DriverError("the probe prompt got no StreamGenerate answer", step="probe turn") from None
    form = dict(parse_qsl(request.post_data or "", keep_blank_values=True))
    exchange: dict[str, Any] = {
        "request": {
            "url": redact_url(request.url),
            "headers": redact_headers(headers),
            "f_req": _replace_prompt(form["f.req"]) if "f.req" in form else None,
            "form_fields": sorted(form),
        },
        "response": {"status": response.status, "body": body},
        "seconds": round(time.monotonic() - started, 3),
    }
    try:
        snapshot = decode_turn(body.encode("utf-8"))
    except BrowserError as exc:
        exchange["decoded"] = {"error": f"{type(exc).__name__}: {exc}"}
        return exchange
    # What this gateway's decoder read at record time: the replay compares against it.
    exchange["decoded"] = {
        "text": snapshot.text,
        "completed": snapshot.completed,
        "served_model_id": snapshot.served_model_id,
        "served_model_label": snapshot.served_model_label,
    }
    if snapshot.cid:
        with contextlib.suppress(BrowserError):
            await delete_chat(page.context, snapshot.cid, timeout=timeout)
            exchange["chat_deleted"] = True
    return exchange


def bundle(**parts: Any) -> dict[str, Any]:
    """A bundle: ``FORMAT``, the time, then ``parts`` (see the module's docstring)."""
    return {"format": FORMAT, "recorded_at": int(time.time()), **parts}
