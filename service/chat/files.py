"""Non-image attachments in chat messages: ``file`` parts (``file_data`` as a data URL or bare
base64, with ``filename``) and ``input_audio`` parts, uploaded to the page like images.

Types are what Gemini's web app takes as uploads (documents, code and text, audio, video); the size
limit is the image limit (``max_image_bytes``). Each part is replaced in the prompt text by a
``[file <name>]`` marker, so Gemini can tell which upload a sentence refers to.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import re
from collections.abc import Sequence

from browser import Attachment
from service.chat.protocol import AudioPart, ChatMessage, FilePart
from service.errors import InvalidRequest, PayloadTooLarge

__all__ = ["AUDIO_FORMATS", "FILE_TYPES", "attached_files", "file_label", "load_file"]

FILE_TYPES = frozenset(
    {
        "application/pdf",
        "text/plain",
        "text/markdown",
        "text/csv",
        "text/html",
        "text/css",
        "text/javascript",
        "text/x-python",
        "application/json",
        "application/xml",
        "application/rtf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "audio/wav",
        "audio/mpeg",
        "audio/ogg",
        "audio/flac",
        "audio/aac",
        "audio/mp4",
        "audio/webm",
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "video/mpeg",
    }
)
# input_audio.format -> MIME type
AUDIO_FORMATS = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "aac": "audio/aac",
    "m4a": "audio/mp4",
    "webm": "audio/webm",
}
_ALIASES = {
    "audio/x-wav": "audio/wav",
    "audio/wave": "audio/wav",
    "audio/mp3": "audio/mpeg",
    "text/x-markdown": "text/markdown",
}
_EXTENSIONS = {
    ".md": "text/markdown",
    ".py": "text/x-python",
    ".csv": "text/csv",
    ".json": "application/json",
}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def file_label(part: FilePart | AudioPart) -> str:
    """The name a part has in the prompt text and on the page."""
    if isinstance(part, AudioPart):
        return f"audio.{part.input_audio.format}"
    name = (part.file.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return _SAFE_NAME.sub("_", name).strip() or "file"


def load_file(part: FilePart | AudioPart, *, max_bytes: int) -> Attachment:
    """The part's bytes as an upload, within the type and size limits."""
    if isinstance(part, AudioPart):
        mime = AUDIO_FORMATS.get(part.input_audio.format.lower())
        if mime is None:
            raise InvalidRequest(
                f"Unsupported input_audio format {part.input_audio.format!r} "
                f"(use one of {', '.join(AUDIO_FORMATS)}).",
                param="messages",
            )
        data = _base64(part.input_audio.data, max_bytes)
        return Attachment(
            name=f"audio-{hashlib.sha256(data).hexdigest()[:12]}.{part.input_audio.format}",
            mime=mime,
            data=data,
        )
    if part.file.file_id is not None and part.file.file_data is None:
        raise InvalidRequest(
            "file_id is not supported here: send the file itself as file_data.", param="messages"
        )
    if not part.file.file_data:
        raise InvalidRequest("A file part needs file_data.", param="messages")
    payload, declared = part.file.file_data, ""
    if payload.startswith("data:"):
        header, comma, payload = payload.partition(",")
        if not comma or not header.endswith(";base64"):
            raise InvalidRequest("file_data must be data:<type>;base64,<data> or base64.", param="messages")
        declared = header[len("data:") : -len(";base64")].lower()
    name = file_label(part)
    guessed = _EXTENSIONS.get("." + name.rsplit(".", 1)[-1].lower()) if "." in name else None
    mime = _ALIASES.get(declared, declared) or guessed or (mimetypes.guess_type(name)[0] or "")
    if mime not in FILE_TYPES:
        raise InvalidRequest(
            f"Unsupported file type {mime or 'unknown'!r} for {name}: Gemini takes documents (PDF, text, "
            "office), audio and video.",
            param="messages",
        )
    return Attachment(name=name, mime=mime, data=_base64(payload, max_bytes))


def attached_files(messages: Sequence[ChatMessage], *, max_bytes: int) -> list[Attachment]:
    """Every file and audio part of ``messages``, in order, loaded."""
    parts = [
        part
        for message in messages
        if isinstance(message.content, list)
        for part in message.content
        if isinstance(part, FilePart | AudioPart)
    ]
    return [load_file(part, max_bytes=max_bytes) for part in parts]


def _base64(payload: str, max_bytes: int) -> bytes:
    if len(payload) > (max_bytes * 4) // 3 + 4:
        raise PayloadTooLarge(f"A file exceeds the limit of {max_bytes} bytes.", param="messages")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("A file's data is not valid base64.", param="messages") from None
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"A file exceeds the limit of {max_bytes} bytes.", param="messages")
    return data
