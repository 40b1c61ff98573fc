"""The chat router's hook for the canvas, storybook and video models (``service.chat.longrun``)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from browser import Tool
from service.catalog import find_model
from service.chat.longrun import LongrunChat, LongrunOptions
from service.chat.longrun_parts import LongrunParts, get_parts
from service.chat.protocol import ChatCompletionRequest
from service.state import Gateway
from service.streaming import EventStreamResponse, OpenEventStreamResponse, cancel_on_disconnect

__all__ = ["longrun_chat", "longrun_options"]


def longrun_options(gateway: Gateway, parts: LongrunParts | None = None) -> LongrunOptions:
    settings = gateway.settings
    return LongrunOptions(
        delivery=gateway.media,
        bucket=settings.media.s3 is not None,
        video_inline_max_bytes=settings.video_inline_max_bytes,
        video_max_wait=settings.video_max_wait,
        video_poll_interval=settings.video_poll_interval,
        research_max_wait=settings.research_max_wait,
        research_stream_max_wait=settings.research_stream_max_wait,
        research_poll_interval=settings.research_poll_interval,
        research_registry=parts.registry if parts is not None else None,
    )


async def longrun_chat(
    body: ChatCompletionRequest, request: Request, gateway: Gateway, identity: str
) -> Response:
    options = longrun_options(gateway, get_parts(request))
    chat = LongrunChat(gateway.chat, gateway.conversations, gateway.chat.janitor, options)
    settings = gateway.settings
    if body.stream:
        # A research is planned and confirmed before its first chunk (tens of seconds on Gemini):
        # open the stream at once so keep-alives flow meanwhile instead of a silent connection.
        spec = find_model(body.model)
        researching = spec is not None and spec.tool is Tool.DEEP_RESEARCH
        response = OpenEventStreamResponse if researching else EventStreamResponse
        return response(
            chat.stream(body, identity),
            keep_alive=settings.keep_alive_interval,
            cleanup_timeout=settings.stop_timeout,
        )
    work = chat.create(body, identity)
    result = await cancel_on_disconnect(work, request.receive, cleanup_timeout=settings.stop_timeout)
    return JSONResponse(result.dump())
