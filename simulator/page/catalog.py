"""Which modes and tools each UI generation and account tier offers, with their wire codes.

The page's JavaScript reads this table (embedded as JSON) instead of holding its own copy, so the
picker, the request headers and the server's expectations come from one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

UI_GENERATIONS = ("mid2026", "early2026")
TIERS = ("paid", "free", "anon")

FLASH_HEX = "56fdd199312815e2"
THINKING_HEX = "e051ce1aa80aa576"
PRO_HEX = "e6fa609c3fa255c0"
FLASH_LITE_HEX = "8c46e95b1a07cecc"

# MODE_CATEGORY enum of the web app (protocol.md §2.1).
CATEGORY_FAST = 1
CATEGORY_THINKING = 2
CATEGORY_PRO = 3
CATEGORY_FLASH_LITE = 6


@dataclass(frozen=True)
class Mode:
    """One choice in the mode picker. ``parent`` names the sub-menu item that holds it (mid2026)."""

    key: str
    label: str
    sublabel: str
    hex: str
    category: int
    thinking: int
    test_id: str = ""
    parent: str = ""


@dataclass(frozen=True)
class Tool:
    """One toolbox-drawer item. ``code`` is inner[49] of the request (None: sent as null)."""

    key: str
    label: str
    chip: str
    placeholder: str
    code: int | None
    icon: str
    promoted: bool


_EARLY_MODES = (
    Mode("flash", "Fast", "Answers quickly", FLASH_HEX, CATEGORY_FAST, 1, "bard-mode-option-fast"),
    Mode(
        "thinking",
        "Thinking",
        "Solves complex problems",
        THINKING_HEX,
        CATEGORY_THINKING,
        1,
        "bard-mode-option-thinking",
    ),
    Mode(
        "pro",
        "Pro",
        "Thinks longer for advanced math & code",
        PRO_HEX,
        CATEGORY_PRO,
        1,
        "bard-mode-option-pro",
    ),
)

_MID_MODES = (
    Mode("flash", "3.5 Flash", "All-around help", FLASH_HEX, CATEGORY_FAST, 1),
    Mode("flash_lite", "3.1 Flash-Lite", "Fastest answers", FLASH_LITE_HEX, CATEGORY_FLASH_LITE, 1),
    Mode("pro", "3.1 Pro", "Advanced math and code", PRO_HEX, CATEGORY_PRO, 1),
    Mode(
        "thinking",
        "Standard",
        "Thinks before answering",
        THINKING_HEX,
        CATEGORY_THINKING,
        1,
        parent="Thinking",
    ),
    Mode(
        "thinking_extended",
        "Extended thinking",
        "Thinks longer for harder problems",
        THINKING_HEX,
        CATEGORY_THINKING,
        2,
        parent="Thinking",
    ),
)

_TOOLS = (
    Tool("canvas", "Canvas", "Canvas", "Let's write or build together", 2, "note_stack_add", True),
    Tool("image", "Create image", "Image", "Describe your image", 14, "photo_prints", True),
    Tool("video", "Create video", "Video", "Describe your video", 15, "movie", True),
    Tool(
        "deep_research",
        "Deep Research",
        "Deep Research",
        "What do you want to research?",
        1,
        "travel_explore",
        False,
    ),
    Tool(
        "guided_learning",
        "Guided learning",
        "Guided learning",
        "What do you want to learn?",
        None,
        "school",
        False,
    ),
)

_EARLY_TOOL_LABELS = {"video": "Create video (Veo 3.1)"}


def modes_for(ui: str, tier: str) -> tuple[Mode, ...]:
    """The picker's items: free accounts get no Pro, signed-out visitors only the light model."""
    modes = _EARLY_MODES if ui == "early2026" else _MID_MODES
    if tier == "anon":
        keep = {"flash"} if ui == "early2026" else {"flash_lite"}
        return tuple(mode for mode in modes if mode.key in keep)
    if tier == "free":
        return tuple(mode for mode in modes if mode.key != "pro")
    return modes


def tools_for(ui: str, tier: str) -> tuple[Tool, ...]:
    """Tools appear only for paid accounts; early-2026 labels the video tool with its model."""
    if tier != "paid":
        return ()
    if ui != "early2026":
        return _TOOLS
    return tuple(
        Tool(t.key, _EARLY_TOOL_LABELS.get(t.key, t.label), t.chip, t.placeholder, t.code, t.icon, True)
        for t in _TOOLS
    )


def default_mode(ui: str, tier: str) -> Mode:
    return modes_for(ui, tier)[0]


def catalog_json(ui: str, tier: str) -> dict[str, object]:
    """The part of the page configuration that the picker and the request builder read.

    ``catalogue`` is the UI generation's full list (labels, test ids, codes); the page keeps what the
    account status RPC (otAQ7b) offers. ``modes``/``tools`` (the tier's) are its fallback when that
    answer is missing or lists no models.
    """
    return {
        "modes": [asdict(mode) for mode in modes_for(ui, tier)],
        "tools": [asdict(tool) for tool in tools_for(ui, tier)],
        "catalogue": {
            "modes": [asdict(mode) for mode in modes_for(ui, "paid")],
            "tools": [asdict(tool) for tool in tools_for(ui, "paid")],
        },
        "capacity": {"paid": 2, "free": 1}.get(tier, 1),
    }
