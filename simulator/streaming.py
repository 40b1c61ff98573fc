"""An ASGI streaming response that notices a client going away even while the body is paused.

Starlette's StreamingResponse may only learn of a disconnect at its next write, which a stalled
answer never makes; this one listens for ``http.disconnect`` alongside the body and closes the body
iterator either way, so its ``finally`` blocks (the request log's outcome) always run promptly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class LiveStreamingResponse(Response):
    def __init__(self, body: AsyncGenerator[bytes, None], *, status_code: int = 200, media_type: str) -> None:
        self.body_iterator = body
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.init_headers(None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        writer = asyncio.ensure_future(self._write(send))
        listener = asyncio.ensure_future(self._listen(receive))
        try:
            await asyncio.wait({writer, listener}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            listener.cancel()
            if not writer.done():
                writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            try:
                await writer
            except asyncio.CancelledError:
                pass
            finally:
                await self.body_iterator.aclose()

    async def _write(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async for chunk in self.body_iterator:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _listen(receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
