"""``ImagePool``: the admin pool whose image-tool turns answer one small PNG, as Gemini's image
models answer, so a valid Images API request goes on to conversion and delivery (tests only)."""

from __future__ import annotations

from browser import GeneratedImage, Media, Tool, TurnRequest, TurnSnapshot
from tests.service.admin_pool import AdminPool, png
from tests.service.scripted_pool import Script, ScriptedLease, ScriptedTurn

__all__ = ["ImagePool"]

_PREVIEW = "https://lh3.googleusercontent.com/gg-dl/scripted=s1024-rj"


class _ImageTurn(ScriptedTurn):
    async def fetch_media_full(self, url: str) -> Media:
        return Media(data=png(), mime="image/png", url=url)


class _ImageLease(ScriptedLease):
    async def __aenter__(self) -> ScriptedTurn:
        turn = await super().__aenter__()
        return _ImageTurn(turn.pool, turn.script)


class ImagePool(AdminPool):
    def turn(self, request: TurnRequest) -> ScriptedLease:
        if request.tool is not Tool.IMAGE:
            return super().turn(request)
        self.requests.append(request)
        image = GeneratedImage(url=_PREVIEW, image_id=None, alt=None)
        answer = TurnSnapshot(cid="c_image", text="Here it is.", images=(image,), completed=True, frames=1)
        return _ImageLease(self, Script([answer]))
