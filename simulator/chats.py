"""In-memory conversations: ids derived from a counter and a hash, turns, context tokens.

A follow-up names its chat by cid/rid/rcid (protocol.md §6.4). An unknown cid starts a new chat (the
request log says so); signed-out visitors get no history, so every turn of theirs is a new chat.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass, field


@dataclass
class Turn:
    prompt: str
    text: str
    thoughts: str
    images: list[str]
    rid: str
    rcid: str
    research_plan: bool = False


@dataclass
class Chat:
    cid: str
    turns: list[Turn] = field(default_factory=list)
    context_token: str = ""

    @property
    def prompts(self) -> list[str]:
        return [turn.prompt for turn in self.turns]

    @property
    def pending_research(self) -> str | None:
        """The prompt of the research plan the last turn proposed, if it did."""
        last = self.turns[-1] if self.turns else None
        return last.prompt if last is not None and last.research_plan else None

    def page_view(self) -> dict[str, object]:
        """What ``/app/<cid>`` hands the page renderer."""
        last = self.turns[-1] if self.turns else None
        return {
            "cid": self.cid,
            "rid": last.rid if last else "",
            "rcid": last.rcid if last else "",
            "context_token": self.context_token,
            "turns": [
                {"prompt": t.prompt, "text": t.text, "thoughts": t.thoughts, "images": t.images}
                for t in self.turns
            ],
        }


def _hex16(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


class ChatStore:
    """All chats of the simulator, keyed by cid (``c_<16hex>``)."""

    def __init__(self) -> None:
        self._chats: dict[str, Chat] = {}
        self._counter = itertools.count(1)

    def clear(self) -> None:
        self._chats.clear()
        self._counter = itertools.count(1)

    def get(self, cid: str) -> Chat | None:
        return self._chats.get(cid)

    def resolve(self, cid: str, rid: str, rcid: str, persist: bool) -> tuple[Chat, str]:
        """The chat a request continues, and how it was found: new, continued, unknown_cid, stale_ids."""
        if cid:
            chat = self._chats.get(cid)
            if chat is not None and persist:
                last = chat.turns[-1] if chat.turns else None
                fresh = last is None or (last.rid == rid and last.rcid == rcid)
                return chat, "continued" if fresh else "stale_ids"
        status = "unknown_cid" if cid else "new"
        chat = Chat(cid=f"c_{_hex16('cid', next(self._counter), cid, rid)}")
        if persist:
            self._chats[chat.cid] = chat
        return chat, status

    def next_ids(self, chat: Chat, prompt: str) -> tuple[str, str]:
        """rid and rcid of the chat's next turn."""
        n = len(chat.turns) + 1
        rid = f"r_{_hex16('rid', chat.cid, n, prompt)}"
        rcid = f"rc_{_hex16('rcid', chat.cid, n, prompt)}"
        return rid, rcid

    @staticmethod
    def context_token(chat: Chat, turns: int) -> str:
        digest = hashlib.sha256(f"ctx:{chat.cid}:{turns}".encode()).digest()[:15]
        return "AwAAAAAAAAAQ" + base64.urlsafe_b64encode(digest).decode().rstrip("=")
