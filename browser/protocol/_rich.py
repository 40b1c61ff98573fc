"""Rich content of a candidate: generated and web images, video, deep-research plan, canvas.

Paths follow docs/architecture/wire-protocol.md#candidate (candidate ``c = inner[4][0]``). Each function
reads one
candidate of one frame; carrying values across frames is the snapshot's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from browser.protocol._jspb import jspb_get

__all__ = [
    "GeneratedImage",
    "MusicInfo",
    "ResearchInfo",
    "ResearchStep",
    "VideoInfo",
    "WebImage",
    "canvas_document",
    "generated_images",
    "music_info",
    "research_plan",
    "video_info",
    "web_images",
]

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# What distinguishes a canvas document from the id and title strings beside it.
_DOCUMENT_MARKERS = ("\n", "```", "<!doctype")


@dataclass(frozen=True)
class GeneratedImage:
    """An image the model made; ``image_id`` is its placeholder URL (what c8o8Fe wants)."""

    url: str
    image_id: str | None
    alt: str | None


@dataclass(frozen=True)
class WebImage:
    """An image found on the web and shown with the answer."""

    url: str
    alt: str | None
    title: str | None


@dataclass(frozen=True)
class VideoInfo:
    """A generated video: ``pending`` while only the job chip is known, URLs once it is rendered."""

    thumbnail_url: str | None
    video_url: str | None
    job_id: str | None
    pending: bool


@dataclass(frozen=True)
class MusicInfo:
    """A Create-music track: the MP3 and the MP4 (the track with its cover), each with its cover
    image's URL; the URLs download with the account's cookies."""

    mp3_url: str | None
    mp3_thumbnail_url: str | None
    mp4_url: str | None
    mp4_thumbnail_url: str | None


@dataclass(frozen=True)
class ResearchStep:
    """One step of a deep-research plan."""

    label: str | None
    body: str | None


@dataclass(frozen=True)
class ResearchInfo:
    """A deep-research plan (field 56 or 57) with its integer ``state`` (field 70)."""

    title: str | None
    steps: tuple[ResearchStep, ...]
    eta: str | None
    state: int | None
    research_id: str | None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _rich_field(candidate: list[Any], number: int, *rest: int) -> Any:
    """Field ``number`` of the rich-content message c[12], dense or in its field object.

    Clients read image edits at c[12][0]["8"] and the video chip at c[12][0]["65"]: that is the
    same field 8 / 65 with c[12] sent as a lone field object, which ``jspb_get`` resolves; the
    literal path is tried too in case the object is not the last element.
    """
    value = jspb_get(candidate, 12, number - 1, *rest)
    return value if value is not None else jspb_get(candidate, 12, 0, str(number), *rest)


def generated_images(candidate: list[Any]) -> tuple[GeneratedImage, ...]:
    """Generated or edited images: field 8 of c[12] (c[12][7][0] dense, c[12][0]["8"][0])."""
    entries = _rich_field(candidate, 8, 0)
    images: list[GeneratedImage] = []
    for entry in entries if isinstance(entries, list) else []:
        url = _str(jspb_get(entry, 0, 3, 3))
        if url is not None:
            images.append(GeneratedImage(url, _str(jspb_get(entry, 1, 0)), _str(jspb_get(entry, 0, 3, 2))))
    return tuple(images)


def web_images(candidate: list[Any]) -> tuple[WebImage, ...]:
    """Web images at c[12][1]: url [0][0][0], alt [0][4], title [7][0]."""
    entries = _rich_field(candidate, 2)
    if not isinstance(entries, list):
        return ()
    images: list[WebImage] = []
    for entry in entries:
        url = _str(jspb_get(entry, 0, 0, 0))
        if url is not None:
            images.append(WebImage(url, _str(jspb_get(entry, 0, 4)), _str(jspb_get(entry, 7, 0))))
    return tuple(images)


def video_info(candidate: list[Any]) -> VideoInfo | None:
    """The rendered video (c[12][59][0][0][0][0][7]) or the pending job chip (c[12] field 65)."""
    chip = _rich_field(candidate, 65)
    job_id = _str(jspb_get(chip, 1))
    urls = _rich_field(candidate, 60, 0, 0, 0, 0, 7)
    if isinstance(urls, list) and len(urls) >= 2:
        return VideoInfo(_str(urls[0]), _str(urls[1]), job_id, pending=False)
    if chip is not None:
        return VideoInfo(None, None, job_id, pending=True)
    return None


def music_info(candidate: list[Any]) -> MusicInfo | None:
    """The track at field 87 of c[12] (``c[12][86]``): ``[0][1][7] = [mp3 thumbnail, mp3 url]``,
    ``[1][1][7] = [mp4 thumbnail, mp4 url]`` (wire-protocol.md, GA 2026-03)."""
    mp3 = _rich_field(candidate, 87, 0, 1, 7)
    mp4 = _rich_field(candidate, 87, 1, 1, 7)
    pairs = [pair if isinstance(pair, list) and len(pair) >= 2 else [None, None] for pair in (mp3, mp4)]
    (mp3_thumb, mp3_url), (mp4_thumb, mp4_url) = (pair[:2] for pair in pairs)
    if _str(mp3_url) is None and _str(mp4_url) is None:
        return None
    return MusicInfo(_str(mp3_url), _str(mp3_thumb), _str(mp4_url), _str(mp4_thumb))


def _walk(value: Any) -> Iterator[Any]:
    yield value
    if isinstance(value, list):
        for child in value:
            yield from _walk(child)
    elif isinstance(value, dict):
        for child in value.values():
            yield from _walk(child)


def research_plan(candidate: list[Any]) -> ResearchInfo | None:
    """The first object holding field 56 or 57 (the plan) anywhere in the candidate."""
    for node in _walk(candidate):
        if isinstance(node, dict) and ("56" in node or "57" in node):
            return _research(node, candidate)
    return None


def _research(node: dict[str, Any], candidate: list[Any]) -> ResearchInfo:
    plan = node.get("56") if node.get("56") is not None else node.get("57")
    steps = jspb_get(plan, 1)
    state = node.get("70")
    return ResearchInfo(
        title=_str(jspb_get(plan, 0)),
        steps=tuple(
            ResearchStep(_str(jspb_get(step, 1)), _str(jspb_get(step, 2)))
            for step in (steps if isinstance(steps, list) else [])
        ),
        eta=_str(jspb_get(plan, 2)),
        state=state if isinstance(state, int) and not isinstance(state, bool) else None,
        research_id=_str(node.get("71")) or _first_uuid(candidate),
    )


def _first_uuid(candidate: list[Any]) -> str | None:
    for node in _walk(candidate):
        if isinstance(node, str) and _UUID.match(node):
            return node
    return None


def canvas_document(candidate: list[Any]) -> str | None:
    """The longest string under c[30] that looks like a document (not the id or title beside it)."""
    documents = [
        node
        for node in _walk(jspb_get(candidate, 30))
        if isinstance(node, str) and any(marker in node.lower() for marker in _DOCUMENT_MARKERS)
    ]
    return max(documents, key=len, default=None)
