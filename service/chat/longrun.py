"""The canvas, storybook, video and deep research models through chat completions.

They run on the ordinary chat serving (``service.chat.serving``: conversation reuse, streaming,
disconnects, the janitor) over a backend whose snapshots are reshaped for the model's output:

- canvas: the answer is the canvas document (``c[30]``); markdown as it is, code and HTML in a
  fenced block with its language. A follow-up continues the chat, so it edits the same canvas.
- storybook: every page's text and picture in order, each picture a markdown image delivered as
  the imagen models' chat answers deliver them (a link by default, ``image_delivery: "data_url"``
  for inline data URLs).
- video: the Create video tool; the video URL answers 206 while it renders, so the answer waits,
  reporting progress as reasoning lines (keep-alives fill the gaps), then links the video (and its
  thumbnail): inline ``data:`` URLs by default, object-storage URLs when a bucket is configured, and
  signed links when the video is larger than ``video_inline_max_bytes``.

Deep research has its own backend (``service.chat.longrun_research``): plan, confirmation, report.
Only the snapshots' text and thoughts change; everything else is the browser's ``TurnSnapshot``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol

from browser import AccountInfo, GeneratedImage, Media, TurnRequest, TurnSnapshot, clean_text
from service.backend import Backend, BackendTurn, BackendWrapper, DelegatingTurn
from service.catalog import ModelSpec, OutputKind, can_serve, unservable
from service.chat.longrun_research import (
    CONFIRM_FIELD,
    ResearchBackend,
    ResearchContext,
    collect_where_driven,
    wants_confirm,
)
from service.chat.protocol import ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse
from service.chat.serving import ChatService
from service.cluster.forward import to_model_server
from service.conversations import conversation_key
from service.errors import InvalidRequest, UpstreamFailed
from service.media.delivery import MediaDelivery
from service.stores.interfaces import ResearchLog
from service.videos.follow import follow_video

__all__ = [
    "DELIVERY_FIELD",
    "LongrunOptions",
    "ResearchChat",
    "ResearchOptions",
    "ShapedChat",
    "check_accounts",
    "refuse_delivery",
    "shape_canvas",
    "shaped_backend",
]

DELIVERY_FIELD = "image_delivery"  # the imagen models' chat field (service.images.chat)
_IMAGE_PLACEHOLDER = re.compile(r"http://googleusercontent\.com/image_generation_content/(\d+)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HTML = re.compile(r"^\s*(<!doctype html|<html)", re.IGNORECASE)
_RENDERING = 206


@dataclass(frozen=True)
class LongrunOptions:
    delivery: MediaDelivery | None
    bucket: bool  # an object-storage bucket is configured: videos go there by URL
    video_inline_max_bytes: int
    video_max_wait: float
    video_poll_interval: float


def shape_canvas(document: str) -> str:
    """Markdown as it is; an unfenced HTML document in an ``html`` fence."""
    if _FENCE.match(document) or not _HTML.match(document):
        return document
    return f"```html\n{document.strip()}\n```"


class _Shape(Protocol):
    def during(self, snapshot: TurnSnapshot) -> TurnSnapshot: ...
    def finish(self, turn: BackendTurn, last: TurnSnapshot) -> AsyncGenerator[TurnSnapshot, None]: ...


class _Canvas:
    def during(self, snapshot: TurnSnapshot) -> TurnSnapshot:
        return replace(snapshot, text=shape_canvas(snapshot.canvas) if snapshot.canvas else "")

    async def finish(self, turn: BackendTurn, last: TurnSnapshot) -> AsyncGenerator[TurnSnapshot, None]:
        # Without a canvas (Gemini answered in the chat instead) the chat text is the answer.
        yield replace(last, text=shape_canvas(last.canvas) if last.canvas else last.text)


class _Storybook:
    """Text only at the end: the pictures sit between the pages and are fetched when all are known."""

    def __init__(self, delivery: MediaDelivery | None, inline: bool) -> None:
        self.delivery = delivery
        self.inline = inline

    def during(self, snapshot: TurnSnapshot) -> TurnSnapshot:
        return replace(snapshot, text="")

    async def finish(self, turn: BackendTurn, last: TurnSnapshot) -> AsyncGenerator[TurnSnapshot, None]:
        links = [await self._link(turn, image, n) for n, image in enumerate(last.images)]
        used: set[int] = set()

        def picture(match: re.Match[str]) -> str:
            n = int(match.group(1))
            if n >= len(links):
                return ""
            used.add(n)
            return links[n]

        text = _IMAGE_PLACEHOLDER.sub(picture, last.raw_text or last.text)
        text = clean_text(text)
        # Pictures the text does not place go at the end, in order.
        rest = [link for n, link in enumerate(links) if n not in used]
        yield replace(last, text="\n\n".join([text.rstrip(), *rest]) if rest else text)

    async def _link(self, turn: BackendTurn, image: GeneratedImage, n: int) -> str:
        media = await turn.fetch_media(image.url)
        mime = media.mime if media.mime.startswith("image/") else "image/png"
        alt = (image.alt or f"page {n + 1}").replace("]", "").replace("\n", " ")
        return f"![{alt}]({await _url(self.delivery, media.data, mime, inline=self.inline)})"


class _Video:
    def __init__(self, options: LongrunOptions, backend: Backend) -> None:
        self.options = options
        self.backend = backend  # follows a job outside the lease: video_job, chat_video

    def during(self, snapshot: TurnSnapshot) -> TurnSnapshot:
        return replace(snapshot, text="")

    async def finish(self, turn: BackendTurn, last: TurnSnapshot) -> AsyncGenerator[TurnSnapshot, None]:
        info = last.video
        thoughts = last.thoughts + ("\n\n" if last.thoughts else "")
        started = time.monotonic()
        if info is not None and info.video_url is None and info.pending and last.cid:
            # The answer holds only the job chip: the video appears in the chat later (J1).
            progress = follow_video(
                self.backend,
                turn.account_id,
                last.cid,
                info.job_id,
                max_wait=self.options.video_max_wait,
                poll_interval=self.options.video_poll_interval,
            )
            async for step in progress:
                if step.video is not None:
                    info = step.video
                    break
                thoughts += f"Rendering the video… {step.waited:.0f}s\n"
                yield replace(last, text="", thoughts=thoughts)
        if info is None or info.video_url is None:
            said = last.text.strip()[:300] or "nothing"
            raise UpstreamFailed(f"Gemini answered without a video: {said}", code="no_video")
        deadline = started + self.options.video_max_wait
        while True:
            video = await turn.fetch_media(info.video_url)
            if video.status != _RENDERING:
                break
            waited = time.monotonic() - started
            if time.monotonic() >= deadline:
                raise UpstreamFailed(
                    f"The video was still rendering after {self.options.video_max_wait:.0f}s.",
                    code="video_timeout",
                )
            thoughts += f"Rendering the video… {waited:.0f}s\n"
            yield replace(last, text="", thoughts=thoughts)
            await asyncio.sleep(self.options.video_poll_interval)
        thoughts += "The video is ready.\n"
        yield replace(last, text="", thoughts=thoughts)
        parts = [last.text.strip()] if last.text.strip() else []
        parts.append(f"[video]({await self._video_url(video)})")
        thumbnail = await self._thumbnail(turn, info.thumbnail_url)
        if thumbnail is not None:
            parts.append(f"![thumbnail]({thumbnail})")
        yield replace(last, text="\n\n".join(parts), thoughts=thoughts)

    async def _video_url(self, video: Media) -> str:
        inline = not self.options.bucket and len(video.data) <= self.options.video_inline_max_bytes
        mime = video.mime if video.mime.startswith("video/") else "video/mp4"
        return await _url(self.options.delivery, video.data, mime, inline=inline, suffix=".mp4")

    async def _thumbnail(self, turn: BackendTurn, url: str | None) -> str | None:
        if url is None:
            return None
        media = await turn.fetch_media(url)
        if media.status == _RENDERING or not media.mime.startswith("image/"):
            return None
        return await _url(self.options.delivery, media.data, media.mime, inline=not self.options.bucket)


async def _url(
    delivery: MediaDelivery | None, data: bytes, mime: str, *, inline: bool, suffix: str | None = None
) -> str:
    if inline:
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    if delivery is None:
        raise InvalidRequest("url delivery is not configured on this gateway.", param=DELIVERY_FIELD)
    return await delivery.url_for(data, mime, suffix=suffix or "." + mime.split("/")[-1])


class _ShapedTurn(DelegatingTurn):
    def __init__(self, turn: BackendTurn, shape: _Shape) -> None:
        super().__init__(turn)
        self._shape = shape

    async def _snapshots(self) -> AsyncIterator[TurnSnapshot]:
        last: TurnSnapshot | None = None
        async for snapshot in self._turn:
            last = snapshot
            yield self._shape.during(snapshot)
        if last is not None and not last.failed:
            async with contextlib.aclosing(self._shape.finish(self._turn, last)) as shaped:
                async for snapshot in shaped:
                    yield snapshot


class _ShapedBackend(BackendWrapper):
    """The backend whose turns' snapshots are reshaped for the model's output; the rest passes on."""

    def __init__(self, inner: Backend, shape: _Shape) -> None:
        super().__init__(inner)
        self.shape = shape

    @asynccontextmanager
    async def _turn(self, spec: TurnRequest) -> AsyncIterator[BackendTurn]:
        async with self.inner.turn(spec) as turn:
            yield _ShapedTurn(turn, self.shape)

    def turn(self, request: TurnRequest) -> AbstractAsyncContextManager[BackendTurn]:
        return self._turn(request)


def shaped_backend(inner: Backend, shape: _Shape) -> Backend:
    """``inner`` with its turns' snapshots reshaped by ``shape`` (``during`` each, ``finish`` after
    the last): how another output kind (service.chat.music) reuses the chat serving."""
    return _ShapedBackend(inner, shape)


class ShapedChat:
    """Chat completions for the canvas, storybook or video models: the chat serving, its turns on
    the backend with their snapshots reshaped for ``kind``. Built once; the request's fields are
    checked before any stream starts, so that request errors are real HTTP statuses."""

    opens_early = False  # the first chunk (the role) comes at once

    def __init__(self, chat: ChatService, kind: OutputKind, options: LongrunOptions) -> None:
        assert kind in (OutputKind.DOCUMENT, OutputKind.STORY, OutputKind.VIDEO)
        self.chat = chat
        self.kind = kind
        self.options = options

    def _shaped(self, request: ChatCompletionRequest) -> Backend:
        model = self.chat.options.catalog.find(request.model)
        assert model is not None and model.output is self.kind
        check_accounts(model, self.chat.backend.accounts())
        extra: dict[str, Any] = dict(request.model_extra or {})
        if CONFIRM_FIELD in extra:
            raise InvalidRequest(f"{CONFIRM_FIELD} applies to the deepsearch models.", param=CONFIRM_FIELD)
        shape: _Shape
        if self.kind is OutputKind.STORY:
            delivery = extra.get(DELIVERY_FIELD, "url")
            if delivery not in ("url", "data_url"):
                raise InvalidRequest(f"{DELIVERY_FIELD} must be 'url' or 'data_url'.", param=DELIVERY_FIELD)
            shape = _Storybook(self.options.delivery, inline=delivery == "data_url")
        else:
            refuse_delivery(extra)
            shape = _Canvas() if self.kind is OutputKind.DOCUMENT else _Video(self.options, self.chat.backend)
        return _ShapedBackend(self.chat.backend, shape)

    async def ready(self, request: ChatCompletionRequest, identity: str) -> None:
        """Nothing to look up before a stream opens."""

    async def create(self, request: ChatCompletionRequest, identity: str) -> ChatCompletionResponse:
        return await self.chat.create(request, identity, backend=self._shaped(request))

    def stream(self, request: ChatCompletionRequest, identity: str) -> AsyncIterator[ChatCompletionChunk]:
        return self.chat.stream(request, identity, backend=self._shaped(request))


@dataclass(frozen=True)
class ResearchOptions:
    registry: ResearchLog  # confirmed researches by history (collected, not run again)
    max_wait: float  # a non-stream request's wait for the report
    stream_max_wait: float
    poll_interval: float


class ResearchChat:
    """Chat completions for the deep research models: the chat serving, its turn the research
    exchange (``service.chat.longrun_research.ResearchBackend``) keyed by the request's history."""

    opens_early = True  # planned and confirmed before the first chunk: keep-alives meanwhile

    def __init__(self, chat: ChatService, options: ResearchOptions) -> None:
        self.chat = chat
        self.options = options

    def _key(self, request: ChatCompletionRequest, identity: str) -> str:
        """The history's key: what a confirmed research is recorded by."""
        model = self.chat.options.catalog.find(request.model)
        assert model is not None and model.output is OutputKind.REPORT
        return conversation_key(identity, model.family.value, request.messages)

    async def ready(self, request: ChatCompletionRequest, identity: str) -> None:
        """A research confirmed before is collected from its account's page: when another replica
        drives that account, the stream goes there before it opens (``Redirected``), for this one
        opens early (keep-alives while a new research is planned)."""
        known = await self.options.registry.find(self._key(request, identity))
        if known is not None:
            collect_where_driven(known, self.chat.backend.accounts())

    def _exchange(self, request: ChatCompletionRequest, identity: str) -> Backend:
        model = self.chat.options.catalog.find(request.model)
        assert model is not None and model.output is OutputKind.REPORT
        if self.chat.options.temporary(request.temporary):
            raise InvalidRequest(
                "Deep research continues its chat (the plan, then the report), so it cannot run in a "
                "temporary chat; send temporary: false.",
                param="temporary",
                code="temporary_not_supported",
            )
        check_accounts(model, self.chat.backend.accounts())
        extra: dict[str, Any] = dict(request.model_extra or {})
        refuse_delivery(extra)
        options = self.options
        ctx = ResearchContext(
            options.registry,
            self._key(request, identity),
            options.stream_max_wait if request.stream else options.max_wait,
            options.poll_interval,
            self.chat.affinity.janitor,
        )
        return ResearchBackend(self.chat.backend, ctx, confirm=wants_confirm(extra))

    async def create(self, request: ChatCompletionRequest, identity: str) -> ChatCompletionResponse:
        return await self.chat.create(request, identity, backend=self._exchange(request, identity))

    def stream(self, request: ChatCompletionRequest, identity: str) -> AsyncIterator[ChatCompletionChunk]:
        return self.chat.stream(request, identity, backend=self._exchange(request, identity))


def refuse_delivery(extra: dict[str, Any]) -> None:
    """``image_delivery`` is the storybook models' field (and the imagen models')."""
    if DELIVERY_FIELD in extra:
        raise InvalidRequest(f"{DELIVERY_FIELD} applies to the storybook models.", param=DELIVERY_FIELD)


def check_accounts(model: ModelSpec, accounts: Sequence[AccountInfo]) -> None:
    if not can_serve(model, accounts):
        to_model_server(model)  # another replica's accounts serve it: answered there
        raise unservable(model, accounts)
