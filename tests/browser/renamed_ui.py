"""A simulator whose page renamed one UI element, as Google does between releases.

The rename is applied to everything the page is built from (its HTML, JavaScript and CSS), so the
page still works with its new names and only our selector table is left behind: what a release
that renames an element does to the gateway.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

# The mode picker under new names: every hook our table knows it by (element, data-test-id,
# aria-label, class) is renamed at once, so none of its candidates can match.
RENAMED_MODE_PICKER: tuple[tuple[str, str], ...] = (
    ("bard-mode-switcher", "gem-model-toggle"),
    ("bard-mode-menu-button", "gem-model-toggle-button"),
    ("Open mode picker", "Choose a model"),
    ("input-area-switch", "input-area-toggle"),
)

# The editor under new names (its class, role and wrapper's data-test-id): the page still takes text.
RENAMED_EDITOR: tuple[tuple[str, str], ...] = (
    ("ql-editor", "pm-editor"),
    ('role="textbox"', 'role="document"'),
    ('data-test-id="textarea-wrapper"', 'data-test-id="prompt-wrapper"'),
)


def _rewritten(path: str) -> bool:
    return path == "/app" or path.startswith(("/app/", "/gem/", "/static/"))


class RenamedUI:
    """ASGI wrapper: the page's documents come back with ``renames`` applied (longest first)."""

    def __init__(self, app: ASGIApp, renames: tuple[tuple[str, str], ...]) -> None:
        self._app = app
        self._renames = sorted(renames, key=lambda pair: -len(pair[0]))

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _rewritten(str(scope["path"])):
            await self._app(scope, receive, send)
            return
        start: Message = {}
        body = bytearray()

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            data = self._apply(bytes(body))
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"etag")
            ]
            await send({**start, "headers": [*headers, (b"content-length", str(len(data)).encode())]})
            await send({"type": "http.response.body", "body": data})

        await self._app(scope, receive, rewrite)

    def _apply(self, data: bytes) -> bytes:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:  # not a document of the page's own
            return data
        for old, new in self._renames:
            text = text.replace(old, new)
        return text.encode("utf-8")
