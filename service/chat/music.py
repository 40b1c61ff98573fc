"""The music model through chat completions: the page's "Create music" tool (Lyria), its track as
OpenAI's audio output.

The turn runs on the ordinary chat serving (conversation reuse, streaming, disconnects) over a
backend whose snapshots are reshaped (``service.chat.longrun.shaped_backend``): nothing is shown
while Gemini composes (a reasoning line says so; keep-alives fill the wait, Lyria takes ~30 s),
then the track's MP3 is downloaded through the account's page session and the answer is

- ``message.audio = {id, data (base64 MP3), expires_at, transcript}`` (OpenAI's audio output;
  ``transcript`` is Gemini's text about the track), and
- ``message.content``: that text and a link to the MP3 through the media delivery (a signed link
  of the gateway, or the bucket's URL), which stops working at ``expires_at``; and, when Gemini's
  answer names one (``c[12][86][1]``, protocol.md §6), a link to its MP4 (the track with its cover
  image) delivered the same way. OpenAI's audio output has no place for a video: the MP4 is a link
  only. An MP4 that cannot be downloaded leaves the answer with the MP3 alone (logged).

A stream sends the content as it comes, then the audio as ``delta.audio`` pieces (id and
transcript, the data in slices, expires_at) before the finish chunk.

Request fields: ``audio.format`` must be ``mp3`` (the only format Gemini delivers; no transcoding
here), ``modalities`` when sent must ask for audio, ``audio.voice`` is accepted and ignored (the OpenAI
SDK's type requires it, but a track's vocals are described in the prompt; the guide says so).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from browser import Media, TurnSnapshot
from service.backend import Backend, BackendTurn
from service.catalog import OutputKind
from service.chat.longrun import LongrunOptions, check_accounts, refuse_delivery, shaped_backend
from service.chat.protocol import (
    AudioDelta,
    AudioOutput,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChunkChoice,
    Delta,
)
from service.chat.serving import ChatService
from service.errors import InvalidRequest, ServiceError, UpstreamFailed

log = logging.getLogger(__name__)

__all__ = ["AUDIO_FORMAT", "MusicChat", "audio_wanted"]

AUDIO_FORMAT = "mp3"
_MIME = "audio/mpeg"
_VIDEO_MIME = "video/mp4"
_RENDERING = 206
_DATA_SLICE = 65_536  # base64 characters per streamed ``delta.audio.data`` piece
COMPOSING = "Composing the track (Lyria takes about 30 s)…\n"


def audio_wanted(extra: dict[str, Any]) -> None:
    """Check ``modalities`` and ``audio`` (400 naming the field): the answer is an MP3 track."""
    modalities = extra.get("modalities")
    if modalities is not None and (
        not isinstance(modalities, list)
        or "audio" not in modalities
        or not set(modalities) <= {"text", "audio"}
    ):
        raise InvalidRequest(
            'The music model answers with audio: modalities must be ["text", "audio"] or ["audio"].',
            param="modalities",
        )
    audio = extra.get("audio")
    if audio is None:
        return
    if not isinstance(audio, dict):
        raise InvalidRequest('audio must be an object such as {"format": "mp3"}.', param="audio")
    unknown = sorted(set(audio) - {"format", "voice"})
    if unknown:
        raise InvalidRequest(f"audio.{unknown[0]} is not a field the music model knows.", param="audio")
    if "voice" in audio and not isinstance(audio["voice"], str):
        raise InvalidRequest(
            "audio.voice must be a string (it is ignored by the music model).", param="audio.voice"
        )
    fmt = audio.get("format", AUDIO_FORMAT)
    if fmt != AUDIO_FORMAT:
        raise InvalidRequest(
            f"audio.format {fmt!r} is not available: Gemini delivers music as MP3 only; ask for 'mp3'.",
            param="audio.format",
        )


@dataclass
class _Track:
    """What one request's finished turn delivered, read after the chat serving is done with it."""

    data: bytes = b""
    transcript: str = ""
    link: str | None = None  # the delivered MP3's URL, when delivery is configured
    video_link: str | None = None  # the delivered MP4's (the track with its cover), when named


class _Music:
    """The reshaping: a reasoning line while Gemini composes, then the track fetched and linked."""

    def __init__(self, options: LongrunOptions, track: _Track) -> None:
        self.options = options
        self.track = track

    def during(self, snapshot: TurnSnapshot) -> TurnSnapshot:
        thoughts = snapshot.thoughts
        if snapshot.text:  # Gemini has spoken; the track comes with its last frame
            thoughts += ("\n\n" if thoughts else "") + COMPOSING
        return replace(snapshot, text="", thoughts=thoughts)

    async def finish(self, turn: BackendTurn, last: TurnSnapshot) -> AsyncGenerator[TurnSnapshot, None]:
        thoughts = last.thoughts + ("\n\n" if last.thoughts else "") + COMPOSING
        info = last.music
        if info is None or info.mp3_url is None:
            said = last.text.strip()[:300] or "nothing"
            raise UpstreamFailed(f"Gemini answered without a track: {said}", code="no_music")
        fetched: list[Media] = []
        async for line in self._rendered(turn, info.mp3_url, "track", fetched):
            thoughts += line
            yield replace(last, text="", thoughts=thoughts)
        media = fetched[-1]
        if not media.data or not media.mime.startswith("audio/"):
            raise UpstreamFailed(f"Gemini's track download gave {media.mime or 'no type'}.", code="no_music")
        self.track.data, self.track.transcript = media.data, last.text.strip()
        links: list[str] = []
        delivery = self.options.delivery
        if delivery is not None:
            self.track.link = await delivery.url_for(media.data, _MIME, suffix=".mp3")
            links.append(f"[track.mp3]({self.track.link})")
        if delivery is not None and info.mp4_url is not None:
            try:
                async for line in self._rendered(turn, info.mp4_url, "track's video", fetched):
                    thoughts += line
                    yield replace(last, text="", thoughts=thoughts)
                video = fetched[-1]
                if not video.data or not video.mime.startswith("video/mp4"):
                    raise UpstreamFailed(f"the download gave {video.mime or 'no type'}")
                self.track.video_link = await delivery.url_for(video.data, _VIDEO_MIME, suffix=".mp4")
                links.append(f"[track.mp4]({self.track.video_link}) (the track with its cover)")
            except ServiceError as exc:  # the MP3 is the answer; its video is a bonus
                log.warning("the music track's MP4 was not delivered: %s", exc.code or type(exc).__name__)
        text = "\n\n".join(part for part in (self.track.transcript, *links) if part)
        yield replace(last, text=text, thoughts=thoughts + "The track is ready.\n")

    async def _rendered(
        self, turn: BackendTurn, url: str, what: str, fetched: list[Media]
    ) -> AsyncGenerator[str, None]:
        """Download ``url`` through the account's page session, again every
        ``video_poll_interval`` while it still renders (206, up to ``video_max_wait``): a reasoning
        line for each wait; the download ends up last in ``fetched``."""
        started = time.monotonic()
        while True:
            media: Media = await turn.fetch_media(url)
            if media.status != _RENDERING:
                fetched.append(media)
                return
            waited = time.monotonic() - started
            if waited >= self.options.video_max_wait:
                raise UpstreamFailed(
                    f"The {what} was still rendering after {self.options.video_max_wait:.0f}s.",
                    code="music_timeout",
                )
            yield f"Rendering the {what}… {waited:.0f}s\n"
            await asyncio.sleep(self.options.video_poll_interval)


class MusicChat:
    """Chat completions for the music model; see the module docstring."""

    opens_early = False  # the role chunk at once; keep-alives while the track is composed

    def __init__(self, chat: ChatService, options: LongrunOptions, *, audio_ttl: float) -> None:
        self.chat = chat
        self.options = options
        self.audio_ttl = audio_ttl  # how long the delivered link lives: ``expires_at``

    def _shaped(self, request: ChatCompletionRequest) -> tuple[Backend, _Track]:
        model = self.chat.options.catalog.find(request.model)
        assert model is not None and model.output is OutputKind.MUSIC
        extra: dict[str, Any] = dict(request.model_extra or {})
        audio_wanted(extra)
        refuse_delivery(extra)
        check_accounts(model, self.chat.backend.accounts())
        track = _Track()
        return shaped_backend(self.chat.backend, _Music(self.options, track)), track

    def _audio(self, track: _Track) -> AudioOutput:
        return AudioOutput(
            id=f"audio_{uuid.uuid4().hex}",
            data=base64.b64encode(track.data).decode("ascii"),
            expires_at=int(time.time() + self.audio_ttl),
            transcript=track.transcript,
        )

    async def ready(self, request: ChatCompletionRequest, identity: str) -> None:
        """Nothing to look up before a stream opens."""

    async def create(self, request: ChatCompletionRequest, identity: str) -> ChatCompletionResponse:
        backend, track = self._shaped(request)
        response = await self.chat.create(request, identity, backend=backend)
        response.choices[0].message.audio = self._audio(track)
        return response

    async def compose(
        self, request: ChatCompletionRequest, identity: str, progress: Callable[[str], Awaitable[None]]
    ) -> tuple[AudioOutput, str | None, str | None]:
        """The track, its delivered link and its MP4's (when named) apart, for the MCP ``make_music``
        tool: streamed inside, each line of the wait (composing, rendering) handed to ``progress``."""
        backend, track = self._shaped(request)
        chunks = self.chat.stream(request, identity, backend=backend)
        async with contextlib.aclosing(chunks):  # type: ignore[type-var]
            async for chunk in chunks:
                for choice in chunk.choices:
                    for line in (choice.delta.reasoning_content or "").splitlines():
                        if line.strip():
                            await progress(line.strip())
        return self._audio(track), track.link, track.video_link

    async def stream(
        self, request: ChatCompletionRequest, identity: str
    ) -> AsyncIterator[ChatCompletionChunk]:
        backend, track = self._shaped(request)
        async for chunk in self.chat.stream(request, identity, backend=backend):
            if chunk.choices and chunk.choices[0].finish_reason is not None:
                for delta in _audio_deltas(self._audio(track)):
                    yield chunk.model_copy(update={"choices": [ChunkChoice(delta=Delta(audio=delta))]})
            yield chunk


def _audio_deltas(audio: AudioOutput) -> list[AudioDelta]:
    """Id and transcript first, the data in slices, then expires_at (OpenAI's order of pieces)."""
    pieces = [AudioDelta(id=audio.id, transcript=audio.transcript)]
    pieces += [
        AudioDelta(id=audio.id, data=audio.data[start : start + _DATA_SLICE])
        for start in range(0, len(audio.data), _DATA_SLICE)
    ]
    pieces.append(AudioDelta(id=audio.id, expires_at=audio.expires_at))
    return pieces
