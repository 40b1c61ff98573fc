"""OpenAI's ``size`` turned into an aspect ratio Gemini's image models accept.

Gemini takes no pixel size; the ratio is written into the prompt ("Aspect ratio 16:9."), the way a
user asks the web app. ``auto`` leaves the shape to Gemini. Any ``WxH`` maps to the nearest ratio
of the table (by the logarithm of width/height, so 2:1 and 1:2 are equally far from 1:1).
"""

from __future__ import annotations

import math
import re

from service.errors import InvalidRequest

__all__ = ["ASPECT_RATIOS", "aspect_ratio", "ratio_prompt"]

# The ratios Gemini's image models (Nano Banana, Nano Banana Pro) accept.
ASPECT_RATIOS: tuple[tuple[int, int], ...] = (
    (1, 1),
    (2, 3),
    (3, 2),
    (3, 4),
    (4, 3),
    (4, 5),
    (5, 4),
    (9, 16),
    (16, 9),
    (21, 9),
)
_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")


def aspect_ratio(size: str | None) -> str | None:
    """``"1536x1024"`` → ``"3:2"``; ``None`` for ``auto`` (or no size). Anything else is a 400."""
    if size is None or size.strip().lower() == "auto":
        return None
    match = _SIZE.match(size)
    if match is None or int(match[1]) == 0 or int(match[2]) == 0:
        raise InvalidRequest(
            f"Invalid size {size!r}: use 'auto' or WIDTHxHEIGHT (e.g. 1024x1024).", param="size"
        )
    wanted = math.log(int(match[1]) / int(match[2]))
    wide, tall = min(ASPECT_RATIOS, key=lambda ratio: abs(math.log(ratio[0] / ratio[1]) - wanted))
    return f"{wide}:{tall}"


def ratio_prompt(prompt: str, ratio: str | None) -> str:
    """The prompt as typed into the page: the ratio asked for in words after the user's text."""
    return prompt if ratio is None else f"{prompt}\n\nAspect ratio {ratio}."
