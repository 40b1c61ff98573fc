"""In-memory conversations: ids derived from a counter and a hash, turns, context tokens.

A follow-up names its chat by cid/rid/rcid (protocol.md §6.4). An unknown cid starts a new chat (the
request log says so); signed-out visitors get no history, so every turn of theirs is a new chat.
A temporary chat (inner[45] = 1) is kept only so that its own page can go on with it: it is in no
chat list and no chat page (page.md §1.13; docs/simulator-contract.md#temporary-chats).
Every chat belongs to the account that started it (its public id): only that account lists, reads,
continues or deletes it. A deleted chat is gone: its cid is unknown from then on.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import time
from dataclasses import dataclass, field

from simulator.payloads import WebImageRef

TITLE_WORDS = 6
TITLE_CHARS = 40


@dataclass
class Turn:
    prompt: str
    text: str
    thoughts: str
    images: list[str]
    rid: str
    rcid: str
    research_plan: bool = False
    research_id: str = ""  # the plan's research id (research_plan turns only)
    video: tuple[str, str] | None = None  # (thumbnail url, video url)
    video_job: str = ""  # the Create-video job's uuid (the chip's, kwDCne's)
    music: tuple[str, str, str, str] | None = None  # a Create-music turn's track (simulator/music.py)
    video_flow: str = ""  # "poll" | "stream": how the answer delivered the video (video_flow)
    web_images: list[WebImageRef] = field(default_factory=list)
    created: float = field(default_factory=time.time)


@dataclass
class Chat:
    cid: str
    owner: str = ""  # Account.public_id of the account that started it
    turns: list[Turn] = field(default_factory=list)
    context_token: str = ""
    created: float = field(default_factory=time.time)
    # research id -> "awaiting" (plan shown) | "done" (report delivered)
    research: dict[str, str] = field(default_factory=dict)
    temporary: bool = False  # started with inner[45] = 1: never listed, never reopened
    started_sim: float = 0.0  # when it started, on the simulator's clock (a temporary chat's age)

    @property
    def updated(self) -> float:
        return self.turns[-1].created if self.turns else self.created

    @property
    def title(self) -> str:
        """The first prompt's first words, as the side nav shows them."""
        words = self.turns[0].prompt.split() if self.turns else []
        title = " ".join(words[:TITLE_WORDS])
        return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"

    @property
    def prompts(self) -> list[str]:
        return [turn.prompt for turn in self.turns]

    @property
    def pending_research(self) -> str | None:
        """The prompt of the research plan the last turn proposed, if it did."""
        last = self.turns[-1] if self.turns else None
        return last.prompt if last is not None and last.research_plan else None

    @property
    def pending_research_id(self) -> str:
        last = self.turns[-1] if self.turns else None
        return last.research_id if last is not None and last.research_plan else ""

    def page_view(self) -> dict[str, object]:
        """What ``/app/<cid>`` hands the page renderer."""
        last = self.turns[-1] if self.turns else None
        return {
            "cid": self.cid,
            "rid": last.rid if last else "",
            "rcid": last.rcid if last else "",
            "context_token": self.context_token,
            "turns": [
                {
                    "prompt": t.prompt,
                    "text": t.text,
                    "thoughts": t.thoughts,
                    "images": t.images,
                    "rid": t.rid,
                    "rcid": t.rcid,
                }
                for t in self.turns
            ],
        }


def _hex16(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:16]


class ChatStore:
    """All chats of the simulator, keyed by cid (``c_<16hex>``)."""

    def __init__(self) -> None:
        self._chats: dict[str, Chat] = {}
        self._deleted: dict[str, str] = {}  # cid -> owner, so a repeated delete still succeeds
        self._counter = itertools.count(1)

    def clear(self) -> None:
        self._chats.clear()
        self._deleted.clear()
        self._counter = itertools.count(1)

    def get(self, cid: str, owner: str | None = None) -> Chat | None:
        """The chat, if it exists and (when ``owner`` is given) belongs to that account."""
        chat = self._chats.get(cid)
        if chat is None or (owner is not None and chat.owner != owner):
            return None
        return chat

    def owned_by(self, owner: str) -> list[Chat]:
        """The account's chats, most recently updated first."""
        chats = [
            chat for chat in self._chats.values() if chat.owner == owner and chat.turns and not chat.temporary
        ]
        return sorted(chats, key=lambda chat: chat.updated, reverse=True)

    def delete(self, cid: str, owner: str) -> bool:
        """Remove the account's chat (again: still True); False when it never was that account's."""
        if self.get(cid, owner) is None:
            return self._deleted.get(cid) == owner
        del self._chats[cid]
        self._deleted[cid] = owner
        return True

    def was_deleted(self, cid: str, owner: str) -> bool:
        return self._deleted.get(cid) == owner

    def find_research(self, research_id: str, owner: str) -> tuple[Chat, str] | None:
        """The chat holding a research and its state (``awaiting`` or ``done``)."""
        for chat in self._chats.values():
            if chat.owner == owner and research_id in chat.research:
                return chat, chat.research[research_id]
        return None

    def find_video(self, job: str, owner: str) -> tuple[Chat, Turn] | None:
        """The account's chat and turn whose Create-video job has this uuid."""
        for chat in self._chats.values():
            if chat.owner != owner:
                continue
            for turn in chat.turns:
                if job and turn.video_job == job:
                    return chat, turn
        return None

    def resolve(
        self,
        cid: str,
        rid: str,
        rcid: str,
        persist: bool,
        owner: str = "",
        *,
        temporary: bool = False,
        now: float = 0.0,
    ) -> tuple[Chat, str]:
        """The chat a request continues, and how it was found: new, continued, unknown_cid, stale_ids.
        A new chat is temporary when the request says so (``now``: its start on the simulated clock);
        a continued one stays what it was started as."""
        if cid:
            chat = self.get(cid, owner)
            if chat is not None and persist:
                last = chat.turns[-1] if chat.turns else None
                fresh = last is None or (last.rid == rid and last.rcid == rcid)
                return chat, "continued" if fresh else "stale_ids"
        status = ("deleted_cid" if self.was_deleted(cid, owner) else "unknown_cid") if cid else "new"
        chat = Chat(
            cid=f"c_{_hex16('cid', next(self._counter), cid, rid)}",
            owner=owner,
            temporary=temporary,
            started_sim=now,
        )
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
