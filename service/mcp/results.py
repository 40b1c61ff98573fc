"""The tools' answers as MCP results: text a model reads first, the same facts as structured
content for programs, images as ``ImageContent`` (base64 with its MIME type), a finished video as a
``ResourceLink`` (and, when small or asked for, an embedded base64 blob). A failure is a result with
``isError`` and the gateway's own message, never a traceback."""

from __future__ import annotations

import base64
import json
from typing import Any

from mcp.types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
)

from service.chat.protocol import AudioOutput
from service.errors import ServiceError, status_and_type
from service.images.protocol import ImagesResponse
from service.videos.store import VideoRecord

__all__ = [
    "chat_answer",
    "failure",
    "images",
    "model_list",
    "music",
    "report",
    "unexpected",
    "video_done",
    "video_progress",
    "video_started",
]


MUSIC_MIME = "audio/mpeg"
VIDEO_MIME = "video/mp4"


def _text(text: str) -> TextContent:
    return TextContent(type="text", text=text)


def chat_answer(body: dict[str, Any], conversation_id: str | None) -> CallToolResult:
    """A Responses body (``service.responses``) as the chat tool's answer; a temporary chat has no
    ``conversation_id`` (it cannot be continued)."""
    text = "".join(
        part["text"]
        for item in body.get("output", [])
        if item.get("type") == "message"
        for part in item.get("content", [])
        if part.get("type") == "output_text"
    )
    if conversation_id is None:
        note = "A temporary chat: kept nowhere, it cannot be continued."
    else:
        note = f"conversation_id: {conversation_id} (pass it to chat to continue this conversation)"
    return CallToolResult(
        content=[_text(text), _text(note)],
        structured_content={
            "text": text,
            "conversation_id": conversation_id,
            "temporary": conversation_id is None,
            "model": body.get("model"),
        },
    )


def images(response: ImagesResponse, mime: str) -> CallToolResult:
    content: list[ContentBlock] = []
    revised = []
    for item in response.data:
        if item.b64_json is None:  # the tools ask for b64_json: a URL here is our bug
            raise RuntimeError("the images service answered without image data")
        content.append(ImageContent(type="image", data=item.b64_json, mime_type=mime))
        if item.revised_prompt:
            revised.append(item.revised_prompt)
    if revised:
        content.append(_text("Gemini said: " + "\n".join(revised)))
    return CallToolResult(
        content=content, structured_content={"count": len(response.data), "mime_type": mime}
    )


def _video_state(record: VideoRecord) -> dict[str, Any]:
    state: dict[str, Any] = {"job_id": record.id, "status": record.status, "progress": record.progress}
    if record.status == "failed":
        state["error"] = {
            "code": record.error_code or "upstream_error",
            "message": record.error_message or "",
        }
    return state


def video_started(record: VideoRecord) -> CallToolResult:
    text = (
        f"Video job {record.id} started ({record.status}). Videos take minutes: call video_status "
        f"with job_id {record.id} to follow it and get the video."
    )
    return CallToolResult(content=[_text(text)], structured_content=_video_state(record))


def video_progress(record: VideoRecord) -> CallToolResult:
    state = _video_state(record)
    if record.status == "failed":
        error = state["error"]
        text = f"Video job {record.id} failed: {error['message'] or error['code']}"
        return CallToolResult(content=[_text(text)], structured_content=state, is_error=True)
    text = f"Video job {record.id} is {record.status} ({record.progress}%). Call video_status again later."
    return CallToolResult(content=[_text(text)], structured_content=state)


def video_done(record: VideoRecord, link: str, data: bytes | None) -> CallToolResult:
    state = _video_state(record) | {"url": link, "mime_type": "video/mp4"}
    content: list[ContentBlock] = [
        _text(f"Video job {record.id} is completed: {link}"),
        ResourceLink(type="resource_link", uri=link, name=f"{record.id}.mp4", mime_type=VIDEO_MIME),
    ]
    if data is not None:
        blob = BlobResourceContents(
            uri=link, blob=base64.b64encode(data).decode("ascii"), mime_type=VIDEO_MIME
        )
        content.append(EmbeddedResource(type="resource", resource=blob))
    return CallToolResult(content=content, structured_content=state)


def music(audio: AudioOutput, link: str | None, model: str, video_link: str | None = None) -> CallToolResult:
    """The track as ``AudioContent`` (base64 MP3), Gemini's words about it, and its delivered link
    (a ``ResourceLink``, working until ``expires_at``) when the gateway delivers media; the track's
    MP4 (with its cover image) as a second link when Gemini's answer named one."""
    said = audio.transcript or "The track is ready."
    shown = "\n".join(url for url in (link, video_link) if url)
    content: list[ContentBlock] = [_text(f"{said}\n\n{shown}" if shown else said)]
    content.append(AudioContent(type="audio", data=audio.data, mime_type=MUSIC_MIME))
    if link:
        content.append(ResourceLink(type="resource_link", uri=link, name="track.mp3", mime_type=MUSIC_MIME))
    if video_link:
        content.append(
            ResourceLink(type="resource_link", uri=video_link, name="track.mp4", mime_type=VIDEO_MIME)
        )
    state = {
        "mime_type": MUSIC_MIME,
        "url": link,
        "video_url": video_link,
        "expires_at": audio.expires_at,
        "transcript": audio.transcript,
        "model": model,
    }
    return CallToolResult(content=content, structured_content=state)


def report(text: str, model: str) -> CallToolResult:
    return CallToolResult(content=[_text(text)], structured_content={"report": text, "model": model})


def model_list(cards: list[dict[str, Any]]) -> CallToolResult:
    return CallToolResult(content=[_text(json.dumps(cards, indent=1))], structured_content={"models": cards})


def failure(exc: ServiceError) -> CallToolResult:
    """A refusal or failure of the gateway, in its own words: its status type and code say what kind
    (``invalid_request_error``, ``permission_error``, ``upstream_error`` ...)."""
    status, kind = status_and_type(exc)
    about = f" (argument: {exc.param})" if exc.param else ""
    text = f"{exc.message}{about}"
    error = {"type": kind, "code": exc.code, "status": status, "message": exc.message, "param": exc.param}
    return CallToolResult(content=[_text(text)], structured_content={"error": error}, is_error=True)


def invalid(message: str) -> CallToolResult:
    error = {"type": "invalid_request_error", "code": "invalid_arguments", "status": 400, "message": message}
    return CallToolResult(content=[_text(message)], structured_content={"error": error}, is_error=True)


def unexpected() -> CallToolResult:
    """A bug of ours: the caller learns that it failed, never how (the log has the traceback)."""
    message = "The gateway failed on this call (an internal error; its log has the details)."
    error = {"type": "server_error", "code": "internal_error", "status": 500, "message": message}
    return CallToolResult(content=[_text(message)], structured_content={"error": error}, is_error=True)
