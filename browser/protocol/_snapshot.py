"""The state of one answer as its frames arrive: ``TurnSnapshot`` and how each payload updates it.

Content frames are cumulative (every frame carries the whole text so far), so text, thoughts and
media are taken from the latest content frame. Values that only some frames carry (ids, served
model, quota, context token, video job id, canvas) are kept from earlier frames. Layout:
docs/architecture/wire-protocol.md (#frames, #payload).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from browser.errors import ProtocolError
from browser.protocol._jspb import jspb_get
from browser.protocol._quota import QuotaInfo, parse_quota
from browser.protocol._rich import (
    GeneratedImage,
    MusicInfo,
    ResearchInfo,
    VideoInfo,
    WebImage,
    canvas_document,
    generated_images,
    music_info,
    research_plan,
    video_info,
    web_images,
)

__all__ = ["TurnSnapshot", "answer_text", "apply_error", "apply_payload", "apply_xsrf", "clean_text"]

# Where rich blocks render in the markdown; GA strips them with the newlines that follow.
# Kinds may have two segments (``image_collection/image_retrieval/<n>``, fidelity.md F20).
_PLACEHOLDER = re.compile(r"http://googleusercontent\.com/\w+(?:/\w+)*?/\d+\n*")
_CARD = "http://googleusercontent.com/card_content/"
_COMPLETED = 2


@dataclass(frozen=True)
class TurnSnapshot:
    """Everything decoded so far about one StreamGenerate answer (its first candidate).

    ``text`` has the ``http://googleusercontent.com/<kind>/<n>`` placeholders removed; ``raw_text``
    is the candidate text as sent. An answer that streamed content and then got an error envelope
    (anonymous turns end with 1096) keeps ``error_code`` but is not ``failed``.
    """

    cid: str | None = None
    rid: str | None = None
    rcid: str | None = None
    text: str = ""
    raw_text: str = ""
    thoughts: str = ""
    images: tuple[GeneratedImage, ...] = ()
    web_images: tuple[WebImage, ...] = ()
    video: VideoInfo | None = None
    music: MusicInfo | None = None
    research: ResearchInfo | None = None
    canvas: str | None = None
    served_model_id: str | None = None
    served_model_label: str | None = None
    completed: bool = False
    context_token: str | None = None
    quota: QuotaInfo | None = None
    error_code: int | None = None
    error_status: int | None = None
    xsrf_rejected: bool = False
    xsrf_token: str | None = field(default=None, repr=False)
    frames: int = 0

    @property
    def has_content(self) -> bool:
        """At least one content frame arrived: the success criterion (protocol.md §5)."""
        return self.frames > 0

    @property
    def failed(self) -> bool:
        """An error (BardErrorInfo, short-form status, or xsrf 400) and no content at all."""
        errored = self.error_code is not None or self.error_status is not None or self.xsrf_rejected
        return errored and not self.has_content


def clean_text(raw: str) -> str:
    """``raw`` without placeholder tokens (and the newlines right after each)."""
    return _PLACEHOLDER.sub("", raw)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _answer_text(candidate: list[Any]) -> tuple[str, str]:
    raw = _str(jspb_get(candidate, 1, 0)) or ""
    card = _str(jspb_get(candidate, 22, 0))
    source = card if raw.startswith(_CARD) and card is not None else raw
    return raw, clean_text(source)


def answer_text(candidate: list[Any]) -> str:
    """A candidate's text as a reader sees it: the card's text when the text is only its
    placeholder, placeholders removed."""
    return _answer_text(candidate)[1]


def _ids(payload: list[Any]) -> dict[str, Any]:
    cid = _str(jspb_get(payload, 1, 0))
    rid = _str(jspb_get(payload, 1, 1)) or _str(jspb_get(payload, "18"))
    changes: dict[str, Any] = {}
    if cid is not None:
        changes["cid"] = cid
    if rid is not None:
        changes["rid"] = rid
    return changes


def _candidate(snapshot: TurnSnapshot, candidate: list[Any]) -> dict[str, Any]:
    raw, text = _answer_text(candidate)
    video = video_info(candidate)
    if video is not None and video.job_id is None and snapshot.video is not None:
        # The rendered video's frame no longer carries the job chip; keep the job id seen before.
        video = replace(video, job_id=snapshot.video.job_id)
    canvas = canvas_document(candidate)
    if canvas is None or (snapshot.canvas is not None and len(snapshot.canvas) > len(canvas)):
        canvas = snapshot.canvas
    return {
        "rcid": _str(jspb_get(candidate, 0)) or snapshot.rcid,
        "raw_text": raw,
        "text": text,
        "thoughts": _str(jspb_get(candidate, 37, 0, 0)) or "",
        "images": generated_images(candidate) or snapshot.images,
        "web_images": web_images(candidate) or snapshot.web_images,
        "video": video or snapshot.video,
        "music": music_info(candidate) or snapshot.music,
        "research": research_plan(candidate) or snapshot.research,
        "canvas": canvas,
        "completed": jspb_get(candidate, 8, 0) == _COMPLETED,
        "frames": snapshot.frames + 1,
    }


def _tail(payload: list[Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    served_id = _str(jspb_get(payload, 39))
    served_label = _str(jspb_get(payload, 42))
    token = _str(jspb_get(payload, 25))
    quota = parse_quota(jspb_get(payload, 27))
    if served_id is not None:
        changes["served_model_id"] = served_id
    if served_label is not None:
        changes["served_model_label"] = served_label
    if token is not None:
        changes["context_token"] = token
    if quota is not None:
        changes["quota"] = quota
    return changes


def apply_payload(snapshot: TurnSnapshot, payload: Any) -> TurnSnapshot:
    """The snapshot after one StreamGenerate result payload (locator, content or tail frame)."""
    if not isinstance(payload, list):
        raise ProtocolError(f"StreamGenerate payload is a JSON {type(payload).__name__}, not a list")
    changes = _ids(payload)
    candidate = jspb_get(payload, 4, 0)
    if isinstance(candidate, list):
        changes.update(_candidate(snapshot, candidate))
    changes.update(_tail(payload))
    return replace(snapshot, **changes) if changes else snapshot


def apply_error(snapshot: TurnSnapshot, status: int | None, code: int | None) -> TurnSnapshot:
    """The snapshot after a BardErrorInfo envelope; the latest error wins."""
    return replace(snapshot, error_status=status, error_code=code)


def apply_xsrf(snapshot: TurnSnapshot, token: str | None) -> TurnSnapshot:
    """The snapshot after the ``er`` body of an HTTP 400 for a missing or stale ``at`` token."""
    return replace(snapshot, xsrf_rejected=True, xsrf_token=token)
