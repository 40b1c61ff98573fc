"""What a caller asks for: a turn's prompt, model family, thinking level, tool, gem and attachments."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class ModeFamily(enum.StrEnum):
    """Model families as the page groups them, whatever their current labels.

    There is no thinking family: since mid-2026 thinking is a level applied to the chosen model
    (docs/architecture/page-model.md#thinking-levels); an early-2026 "Thinking" model counts as a Flash that
    thinks.
    """

    FLASH = "flash"
    PRO = "pro"


class ThinkingLevel(enum.StrEnum):
    """How hard the chosen model thinks, in the gateway's words. Each page form maps onto it:
    Low/Medium/High rows (October 2026), Standard/Extended (a submenu or an "Extended thinking"
    row, mid-2026: LOW and MEDIUM are Standard), a "Thinking" model (early 2026: MEDIUM and HIGH)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Tool(enum.StrEnum):
    """Tools of the composer's toolbox drawer."""

    IMAGE = "image"
    VIDEO = "video"
    CANVAS = "canvas"
    DEEP_RESEARCH = "deep_research"
    MUSIC = "music"  # "Create music" (Lyria), behind "More tools" (D4)


@dataclass(frozen=True)
class Attachment:
    """One file to upload with the prompt."""

    name: str
    mime: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class TurnRequest:
    """One prompt to type into the page. ``chat_id`` continues ``/app/<cid>`` (``/gem/<id>/<cid>``
    with a Gem) and needs ``account_id``.

    ``thinking`` None leaves the page's thinking control as it is. ``temporary``: a new chat turned
    into a temporary one with the page's own button before the prompt is typed (kept out of the
    account's history; ``browser._temporary``); such a chat is never continued."""

    prompt: str
    mode: ModeFamily = ModeFamily.FLASH
    tool: Tool | None = None
    gem: str | None = None
    attachments: tuple[Attachment, ...] = ()
    account_id: str | None = None
    chat_id: str | None = None
    thinking: ThinkingLevel | None = None
    # A custom Gem lives in one account under that account's own id: account id → Gem id. The turn
    # goes to one of these accounts, on its Gem (``gem`` is one id for every account: a premade Gem).
    gem_by_account: Mapping[str, str] | None = field(default=None, hash=False)
    temporary: bool = False

    def __post_init__(self) -> None:
        if self.chat_id is not None and self.account_id is None:
            raise ValueError("chat_id requires account_id: a chat lives in one account")
        if self.gem_by_account is not None and (self.gem is not None or not self.gem_by_account):
            raise ValueError("gem_by_account names at least one account, and excludes gem")
        if self.temporary and self.chat_id is not None:
            raise ValueError("a temporary chat is never continued: temporary needs a new chat (no chat_id)")

    def gem_for(self, account_id: str) -> str | None:
        """The Gem the turn uses on ``account_id`` (None: no Gem, or the account has not this one)."""
        if self.gem_by_account is not None:
            return self.gem_by_account.get(account_id)
        return self.gem

    @property
    def quota(self) -> str:
        """The usage quota the turn draws on: the tool's (images, videos and research have their
        own limits, on free accounts small ones) or the model family's."""
        return self.tool.value if self.tool is not None else self.mode.value


def chat_path(chat_id: str) -> str:
    """The page of a chat: ``/app/<hex>``. The wire names chats ``c_<hex>``; the page's URLs never
    carry the prefix (docs/architecture/evidence.md#a3)."""
    return f"/app/{chat_id.removeprefix('c_')}"
