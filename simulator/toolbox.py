"""The tools each plan's "Upload and tools" menu offers, with their request codes (``inner[49]``).

Sources (docs/architecture/evidence.md): D3/ZHT labels and icon names (``image_create``, ``movie``,
``canvas``, ``deep_research``, ``music`` behind "More tools"), D8/FREE what the free tier gets
(image generation, Canvas, Deep Research; no video), G6/VID the video code 11 (``inner[49]=11``,
HAR 2026-08-03), protocol.md §3.3 the codes 1 (Deep Research), 2 (Canvas), 14 (image), 21 (music).
Nothing in otAQ7b names tools (G6): the page gets this list from the server that rendered it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

TOOL_DEEP_RESEARCH = 1
TOOL_CANVAS = 2
TOOL_IMAGE = 14
TOOL_VIDEO = 11
TOOL_MUSIC = 21

_EVERYONE = frozenset({"paid", "plus", "free"})
_PAID = frozenset({"paid", "plus"})


@dataclass(frozen=True)
class Tool:
    """One toolbox-drawer row. ``code`` is inner[49] (None: Guided learning sends null).
    ``promoted`` rows show at once; the others sit behind "More tools" (not in early 2026)."""

    key: str
    label: str
    chip: str
    placeholder: str
    code: int | None
    icon: str
    promoted: bool
    plans: frozenset[str]


# ZHT's order of the main list; Guided learning (page.md 2026-02) and Create music behind More tools.
_TOOLS = (
    Tool(
        "image", "Create image", "Image", "Describe your image", TOOL_IMAGE, "image_create", True, _EVERYONE
    ),
    Tool("video", "Create video", "Video", "Describe your video", TOOL_VIDEO, "movie", True, _PAID),
    Tool(
        "canvas", "Canvas", "Canvas", "Let's write or build together", TOOL_CANVAS, "canvas", True, _EVERYONE
    ),
    Tool(
        "deep_research",
        "Deep Research",
        "Deep Research",
        "What do you want to research?",
        TOOL_DEEP_RESEARCH,
        "deep_research",
        True,
        _EVERYONE,
    ),
    Tool(
        "guided_learning",
        "Guided learning",
        "Guided learning",
        "What do you want to learn?",
        None,
        "school",
        False,
        _EVERYONE,
    ),
    Tool("music", "Create music", "Music", "Describe your song", TOOL_MUSIC, "music", False, _EVERYONE),
)
# Early 2026 (page.md): one flat "Tools" drawer, the video row names its model, no music yet.
_EARLY_ORDER = ("canvas", "image", "video", "deep_research", "guided_learning")
_EARLY_LABELS = {"video": "Create video (Veo 3.1)"}


def tools_for(ui: str, plan: str) -> tuple[Tool, ...]:
    """The tools a signed-in plan's menu lists; signed-out visitors get none."""
    offered = [tool for tool in _TOOLS if plan in tool.plans]
    if ui != "early2026":
        return tuple(offered)
    by_key = {tool.key: tool for tool in offered}
    return tuple(
        replace(by_key[key], label=_EARLY_LABELS.get(key, by_key[key].label), promoted=True)
        for key in _EARLY_ORDER
        if key in by_key
    )


def tool_codes(plan: str) -> set[int]:
    """The request codes the server honours for a plan (any UI generation): others are ignored."""
    return {tool.code for tool in _TOOLS if plan in tool.plans and tool.code is not None}
