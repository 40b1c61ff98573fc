"""``GET /media/<name>?exp=&sig=``: local media behind signed, expiring links.

No API key: the HMAC signature is the credential (``service.auth.ApiKeyGate`` exempts exactly this
route). The file is opened when the link is checked and streamed from that open file, so an
eviction in between cannot cut a download short.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter
from starlette.responses import StreamingResponse

from service.media.delivery import MEDIA_ROUTE, SignedMedia
from service.state import GatewayDep

__all__ = ["router"]

router = APIRouter()

_CHUNK = 256 * 1024


@router.get(MEDIA_ROUTE + "{name}", response_model=None)
async def media(
    name: str, gateway: GatewayDep, exp: str | None = None, sig: str | None = None
) -> StreamingResponse:
    opened = await gateway.media.open_signed(name, exp, sig)
    headers = {
        "Content-Length": str(opened.size),
        "Cache-Control": f"private, max-age={max(0, opened.expires - int(time.time()))}",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
    }
    return StreamingResponse(_chunks(opened), media_type=opened.mime, headers=headers)


async def _chunks(opened: SignedMedia) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(opened.file.read, _CHUNK):
            yield chunk
    finally:
        opened.file.close()
