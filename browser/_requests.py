"""What a caller asks for: a turn's prompt, mode family, tool, gem and attachments."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class ModeFamily(enum.StrEnum):
    """Model families as the page groups them, whatever their current labels."""

    FLASH = "flash"
    PRO = "pro"
    THINKING = "thinking"


class Tool(enum.StrEnum):
    """Tools of the composer's toolbox drawer."""

    IMAGE = "image"
    VIDEO = "video"
    CANVAS = "canvas"
    DEEP_RESEARCH = "deep_research"


@dataclass(frozen=True)
class Attachment:
    """One file to upload with the prompt."""

    name: str
    mime: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class TurnRequest:
    """One prompt to type into the page. ``chat_id`` continues ``/app/<cid>`` and needs ``account_id``."""

    prompt: str
    mode: ModeFamily = ModeFamily.FLASH
    tool: Tool | None = None
    gem: str | None = None
    attachments: tuple[Attachment, ...] = ()
    account_id: str | None = None
    chat_id: str | None = None
    # Only a paid account may serve it (the caller's rule, e.g. a model sold as paid-tier only).
    paid_only: bool = False

    def __post_init__(self) -> None:
        if self.chat_id is not None and self.account_id is None:
            raise ValueError("chat_id requires account_id: a chat lives in one account")
