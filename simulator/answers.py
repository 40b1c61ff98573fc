"""What the simulated model says: a deterministic function of the prompt, files and chat history.

The text names the turn and digests what was received, so a test can prove the whole prompt and the
right chat state arrived (docs/simulator-contract.md "Answers").
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field

from simulator.gems import Gem
from simulator.models import NORMAL, ServedModel
from simulator.payloads import (
    IMAGE_PLACEHOLDER,
    IMMERSIVE_CHIP,
    VIDEO_CHIP,
    WEB_IMAGE_PLACEHOLDER,
    ResearchPlan,
)
from simulator.tool_answers import tool_or_json_answer
from simulator.toolbox import TOOL_CANVAS, TOOL_DEEP_RESEARCH, TOOL_IMAGE, TOOL_MUSIC, TOOL_VIDEO

STORYBOOK_GEM = "storybook"

# Fixed closing sentences: long enough to stream over several frames, with an astral emoji and CJK
# so UTF-16 framing bugs show.
CLOSING = (
    "\n\nThis is the Gemini simulator answering offline. 😄 "
    "It streams the answer in growing snapshots, exactly like the real app does. "
    "你好，世界！ The same prompt and chat state always produce the same answer."
)

# Originals of the standard class have a 2048 px long side, so the page's ``=s1024-rj`` preview and
# the original differ in pixel size; without an aspect ratio in the prompt the digest picks square or
# landscape. 0.5K-class outputs (docs/guides/images.md#where-the-mark-sits) carry the small 48 px mark; a
# prompt asks for
# them by containing ``SMALL_IMAGE_KEYWORD`` (any case), so tests can drive the small-mark branch.
STANDARD_LONG_SIDE = 2048
SMALL_LONG_SIDE = 688
DEFAULT_RATIOS = ((1, 1), (16, 9))
# The 0.5K class as Gemini's catalogue lists it; other ratios are scaled to ``SMALL_LONG_SIDE``.
SMALL_IMAGE_SIZES = {(1, 1): (512, 512), (16, 9): (688, 384), (9, 16): (384, 688)}
SMALL_IMAGE_KEYWORD = "0.5k"
# "aspect ratio 16:9" (also "aspect-ratio 16x9") anywhere in the prompt sets the output's shape.
ASPECT_RATIO = re.compile(r"aspect[ -]ratio\D{0,3}(\d{1,2})\s*[:x]\s*(\d{1,2})", re.IGNORECASE)
# A prompt containing this keyword (any case) gets images without the visible mark (the clean case:
# Google says some tiers receive unmarked images).
CLEAN_IMAGE_KEYWORD = "unmarked"
# A plain prompt containing this (any case) gets web images: the two-segment placeholder
# ``image_collection/image_retrieval/<n>`` in the text (F20, PWA) and the images at c[12][1] (I2).
WEB_IMAGES_KEYWORD = "web images"
WEB_IMAGE_COUNT = 2
# What a Create-video turn says while its job renders (the Rust test body's sentence, in English).
VIDEO_PENDING_TEXT = (
    "I'm generating your video. This can take a few minutes, so check back to see when it's ready."
)
VIDEO_READY_TEXT = "Your video is ready."
# What a Create-music turn says above its track (our wording: the real sentence is not captured).
MUSIC_TEXT = "Here's a 30-second track for you, made with Lyria."


@dataclass(frozen=True)
class ReceivedFile:
    name: str
    mime: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ImageSpec:
    """One image to generate: the PNG is derived from ``seed`` at ``width`` x ``height``; ``marked``
    stamps the visible mark; ``edited`` lays it out as an image-to-image result (c[12][0]["8"])."""

    seed: str
    width: int
    height: int
    prompt: str
    marked: bool = True
    edited: bool = False


@dataclass(frozen=True)
class WebImage:
    """An image found on the web (c[12][1]): its placeholder, alt text and pixel seed."""

    placeholder: str
    alt: str
    seed: str


@dataclass
class Answer:
    """The full answer of one turn; the stream reveals it in prefixes. ``preamble`` is the turn's
    own opening (what a research stub keeps); ``report`` the (title, document) a finished research
    delivers, as text or as the ``canvas`` document depending on ``research_report``."""

    text: str
    thoughts: str = ""
    preamble: str = ""
    images: list[ImageSpec] = field(default_factory=list)
    web_images: list[WebImage] = field(default_factory=list)
    video: bool = False
    video_job: str = ""
    music: bool = False  # a Create-music turn: the track joins the final frame (simulator/music.py)
    canvas: tuple[str, str] | None = None  # (title, document)
    report: tuple[str, str] | None = None
    research: ResearchPlan | None = None


def sha16(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def history_digest(earlier_prompts: list[str]) -> str:
    """First 16 hex of sha256 over the earlier prompts joined by U+001E, or ``none``."""
    if not earlier_prompts:
        return "none"
    return sha16("\x1e".join(earlier_prompts))


def base_text(turn: int, cid: str, prompt: str, earlier_prompts: list[str]) -> str:
    return (
        f"Turn {turn} of chat {cid}. I received {len(prompt)} characters (sha256 {sha16(prompt)}).\n"
        f"Earlier turns seen: {turn - 1} (digest {history_digest(earlier_prompts)}).\n"
        f"Echo: {prompt[:200]}"
    )


def files_text(files: list[ReceivedFile]) -> str:
    if not files:
        return ""
    lines = []
    for item in files:
        lines.append(f"- {item.name} ({item.mime}, {item.size} bytes, sha256 {item.sha256[:16]})")
    return "\n\nFiles received:\n" + "\n".join(lines)


def thoughts_for(model: ServedModel, prompt: str, turn: int) -> str:
    if not model.thinks:
        return ""
    thoughts = (
        f"**Reading the request**\n\nTurn {turn}: the prompt has {len(prompt)} characters "
        f"(sha256 {sha16(prompt)}). I will answer with the simulator's fixed reply."
    )
    if model.level != NORMAL:
        thoughts += (
            f"\n\n**Thinking longer**\n\nThinking level {model.level} was requested, so I double-check "
            "the digest."
        )
    return thoughts


def image_count(prompt: str) -> int:
    """One or two images, decided by the prompt's digest."""
    return 1 + int(sha16(prompt)[0], 16) % 2


def aspect_ratio(prompt: str) -> tuple[int, int] | None:
    match = ASPECT_RATIO.search(prompt)
    if match is None or int(match[1]) == 0 or int(match[2]) == 0:
        return None
    return int(match[1]), int(match[2])


def _scaled(ratio: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The ratio at ``long_side`` px, the short side rounded to a multiple of 16."""
    wide, tall = ratio
    short = max(16, round(long_side * min(wide, tall) / max(wide, tall) / 16) * 16)
    return (long_side, short) if wide >= tall else (short, long_side)


def image_size(prompt: str) -> tuple[int, int]:
    """The original's pixel size: the prompt's aspect ratio (else square or 16:9 by the digest), at
    the standard class's long side, or the 0.5K class when the prompt asks for it."""
    ratio = aspect_ratio(prompt) or DEFAULT_RATIOS[int(sha16(prompt)[1], 16) % len(DEFAULT_RATIOS)]
    if SMALL_IMAGE_KEYWORD in prompt.lower():
        return SMALL_IMAGE_SIZES.get(ratio) or _scaled(ratio, SMALL_LONG_SIDE)
    return _scaled(ratio, STANDARD_LONG_SIDE)


def image_specs(prompt: str, count: int, cid: str, turn: int) -> list[ImageSpec]:
    size = image_size(prompt)
    marked = CLEAN_IMAGE_KEYWORD not in prompt.lower()
    return [ImageSpec(f"{cid}:{turn}:{i}:{prompt}", size[0], size[1], prompt, marked) for i in range(count)]


def edit_seed(prompt: str, files: list[ReceivedFile]) -> str:
    """An edit's seed: the prompt and every input's full sha256 in order, without the chat, so a test
    can recompute the result from what it sent."""
    return "edit:" + prompt + ":" + ",".join(item.sha256 for item in files)


def edit_specs(prompt: str, files: list[ReceivedFile]) -> list[ImageSpec]:
    """One image-to-image result whose pixels depend on the prompt and the input images' bytes."""
    width, height = image_size(prompt)
    marked = CLEAN_IMAGE_KEYWORD not in prompt.lower()
    return [ImageSpec(edit_seed(prompt, files), width, height, prompt, marked, edited=True)]


def web_images(prompt: str, cid: str, turn: int) -> list[WebImage]:
    """Two web images whose placeholder number derives from the turn (real ones are ~20 digits)."""
    number = int(sha16(f"web:{cid}:{turn}:{prompt}"), 16)
    return [
        WebImage(
            WEB_IMAGE_PLACEHOLDER.format(n=number, i=i),
            f"Web image {i + 1} for {prompt[:40]}",
            f"{number}_{i}",
        )
        for i in range(WEB_IMAGE_COUNT)
    ]


def compose(
    *,
    turn: int,
    cid: str,
    prompt: str,
    earlier_prompts: list[str],
    files: list[ReceivedFile],
    model: ServedModel,
    tool: int | None,
    gem: str | None,
    signed_in: bool,
    gem_used: Gem | None = None,
    research_topic: str | None = None,
    video_flow: str = "poll",
    research_report_slot: str = "text",
) -> Answer:
    """The answer for one turn; tools add their artefacts and placeholders like Gemini's.

    ``research_topic`` is the prompt of the chat's pending research plan: a Deep Research follow-up
    (the page's "Start research") then answers with the finished report, as the turn's text
    (``research_report_slot`` "text") or as a document (``"immersive"``).
    """
    scripted = tool_or_json_answer(prompt, earlier_prompts) if tool is None and gem is None else None
    thoughts = thoughts_for(model, prompt, turn)
    if scripted is not None:  # a tool call or a JSON document, as the prompt asked (tool_answers.py)
        return Answer(text=scripted, thoughts=thoughts)
    preamble = base_text(turn, cid, prompt, earlier_prompts) + files_text(files) + gem_text(gem_used)
    answer = Answer(text=preamble, thoughts=thoughts, preamble=preamble)
    if tool in (TOOL_IMAGE, TOOL_VIDEO) and not signed_in:
        answer.text += "\n\nAre you signed in? Sign in to create images and videos."
    elif tool == TOOL_IMAGE:
        images = [item for item in files if item.mime.startswith("image/")]
        answer.images = (
            edit_specs(prompt, images) if images else image_specs(prompt, image_count(prompt), cid, turn)
        )
        placeholders = "\n".join(IMAGE_PLACEHOLDER.format(n=i) for i in range(len(answer.images)))
        answer.text += f"\n\nHere are the images you asked for.\n\n{placeholders}"
    elif tool == TOOL_VIDEO:
        answer.video = True
        answer.video_job = str(uuid.UUID(hex=hashlib.sha256(f"video:{cid}:{turn}".encode()).hexdigest()[:32]))
        said = VIDEO_PENDING_TEXT if video_flow == "poll" else VIDEO_READY_TEXT
        answer.text += f"\n\n{said}\n\n{VIDEO_CHIP}"
    elif tool == TOOL_MUSIC and signed_in:
        # The track (MP3 and MP4) is named at c[12][86] of the final frame (simulator/music.py).
        answer.music = True
        answer.text += f"\n\n{MUSIC_TEXT}"
    elif tool == TOOL_CANVAS:
        answer.canvas = (f"Canvas for turn {turn}", canvas_document(prompt, turn))
        answer.text += f"\n\nI put the document in Canvas.\n\n{IMMERSIVE_CHIP}"
    elif tool == TOOL_DEEP_RESEARCH and research_topic is not None:
        answer.report = (f"Research report: {research_topic[:80]}", research_report(research_topic))
        if research_report_slot == "text":
            answer.text = answer.report[1]  # GA reads the report as the turn's text (K5)
            return answer
        answer.canvas = answer.report
        answer.text += f"\n\nI've completed your research.\n\n{IMMERSIVE_CHIP}"
    elif tool == TOOL_DEEP_RESEARCH:
        answer.research = research_plan(prompt, cid, turn)
        answer.text += "\n\nHere's a research plan. Edit it or start the research."
    elif gem == STORYBOOK_GEM:
        answer.images = image_specs(prompt, 2, cid, turn)
        answer.text += (
            f"\n\n# {storybook_title(prompt)}\n\n"
            "**Page 1.** Once upon a time a small robot read a prompt.\n\n"
            f"{IMAGE_PLACEHOLDER.format(n=0)}\n\n"
            "**Page 2.** It answered, and everyone smiled.\n\n"
            f"{IMAGE_PLACEHOLDER.format(n=1)}"
        )
    elif WEB_IMAGES_KEYWORD in prompt.lower():
        answer.web_images = web_images(prompt, cid, turn)
        placeholders = "\n".join(image.placeholder for image in answer.web_images)
        answer.text += f"\n\nHere are some images from the web.\n\n{placeholders}"
    answer.text += CLOSING
    return answer


def gem_text(gem: Gem | None) -> str:
    """A Gem's answer names it and echoes its instructions, so a test sees which Gem answered (our
    choice: the real model follows the instructions silently)."""
    if gem is None:
        return ""
    return f"\n\nAnswering as the Gem \u201c{gem.name}\u201d ({gem.id}); its instructions: {gem.prompt[:200]}"


def storybook_title(prompt: str) -> str:
    """The book's title, a heading before its first page (our choice: the real layout is unknown)."""
    words = " ".join(prompt.split()[:6]).replace("#", "")
    return f"The Storybook of {words}"


def canvas_document(prompt: str, turn: int) -> str:
    title = prompt[:60].replace("<", "").replace(">", "")
    return (
        "```html\n<!DOCTYPE html>\n<html>\n<head><title>"
        f"{title}</title></head>\n<body>\n<h1>Canvas turn {turn}</h1>\n"
        f"<p>sha256 {sha16(prompt)}</p>\n</body>\n</html>\n```"
    )


def research_report(topic: str) -> str:
    """The report cites its sources inline, as Gemini's do; the source list is the reader's job."""
    digest = sha16(topic)
    return (
        f"# Research report: {topic[:80]}\n\n## Summary\n\nThe simulator researched the topic "
        f"(sha256 {digest}) and found what it always finds, as [the first source]"
        f"(https://sources.example/{digest}/first) says and [the second source]"
        f"(https://sources.example/{digest}/second) confirms."
    )


def research_plan(prompt: str, cid: str, turn: int) -> ResearchPlan:
    research_id = str(uuid.UUID(hex=hashlib.sha256(f"research:{cid}:{turn}".encode()).hexdigest()[:32]))
    return ResearchPlan(
        research_id=research_id,
        title=f"Research: {prompt[:80]}",
        steps=[
            ("Research websites", f"Look for sources about: {prompt[:80]}"),
            ("Analyze results", "Compare what the sources say."),
            ("Create report", "Write a report with citations."),
        ],
        eta="Ready in a few mins",
        state=1,
    )
