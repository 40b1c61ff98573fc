"""The chat list (MaZiqc), reading a chat as history (hNvQHb) and deleting it (GzXR5e, qWymEb).

Only the account's own chats exist for it; another account's cid is ``NOT_FOUND`` like an unknown
one. Layouts follow protocol.md §8; slots it does not name stay ``null`` or are left out.
"""

from __future__ import annotations

import base64
from typing import Any

from simulator import payloads
from simulator.chats import Chat, Turn
from simulator.music import music_field
from simulator.rpcs.base import INVALID_ARGUMENT, NOT_FOUND, Rejected, RpcContext, at, timestamp

DEFAULT_PAGE_SIZE = 13
MAX_PAGE_SIZE = 100
PINNED_ONLY = 1  # MaZiqc payload [2][0]: 1 = pinned chats (the simulator pins none), 0 = the others
_TOKEN_PREFIX = "sim-chats:"


def video_token(url: str) -> str:
    """The download token (``c=``) of a video URL, which keys its render job."""
    return url.split("c=", 1)[1].split("&", 1)[0]


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_TOKEN_PREFIX}{offset}".encode()).decode()


def _offset(token: Any) -> int | None:
    """The list offset a paging token stands for; None when the token is not one of ours."""
    if token is None or token == "":
        return 0
    if not isinstance(token, str):
        return None
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        return None
    digits = text.removeprefix(_TOKEN_PREFIX)
    return int(digits) if text.startswith(_TOKEN_PREFIX) and digits.isdigit() else None


def _list_entry(chat: Chat) -> list[object]:
    last = chat.turns[-1]
    return [chat.cid, chat.title, False, None, None, timestamp(chat.updated), [[chat.cid, last.rid], 1]]


def list_chats(ctx: RpcContext, payload: Any) -> object:
    """``[size, token, [pinned?, null, 1]]`` → ``[null, next token, [entries, newest first]]``."""
    size = at(payload, 0) if at(payload, 0) is not None else DEFAULT_PAGE_SIZE
    offset = _offset(at(payload, 1))
    if not isinstance(size, int) or isinstance(size, bool) or size < 1 or offset is None:
        return Rejected(INVALID_ARGUMENT, "MaZiqc payload is not [size, token, [kind, null, 1]]")
    if at(payload, 2, 0) == PINNED_ONLY:
        return [None, None, []]
    chats = ctx.state.chats.owned_by(ctx.account.public_id)
    page = chats[offset : offset + min(size, MAX_PAGE_SIZE)]
    end = offset + len(page)
    token = _page_token(end) if end < len(chats) else None
    return [None, token, [_list_entry(chat) for chat in page]]


def _owned(ctx: RpcContext, cid: Any) -> Chat | None:
    return ctx.state.chats.get(cid, ctx.account.public_id) if isinstance(cid, str) else None


def _image_entry(url: str, index: int, prompt: str) -> list[object]:
    return [
        [None, None, None, [None, 1, f"image_{index}.png", url, None, None]],
        [f"http://googleusercontent.com/image_generation_content/{index}"],
        None,
        [index, prompt],
    ]


def _video(ctx: RpcContext, chat: Chat, turn: Turn) -> list[object] | None:
    """c[12] of a video turn. A streamed video shows its URL at once (dense ``c[12][59]``); a polled
    one shows only the job chip until it rendered, then field 60 (J1, VID "key 60"): sparse
    ``[null, {"60": …}]`` for the chat's odd-numbered turns, dense for even ones (VJOB shows both
    encoder forms; which form when is not recorded, so the turn's parity picking it is our choice)."""
    assert turn.video is not None
    if turn.video_flow != "poll":
        return payloads.finished_video(*turn.video, sparse=False)
    job = ctx.state.videos.get(video_token(turn.video[1]))
    if job is None or not ctx.state.video_ready(job):
        return payloads.pending_video(turn.video_job)
    number = chat.turns.index(turn) + 1
    return payloads.finished_video(*turn.video, sparse=number % 2 == 1)


def _candidate(ctx: RpcContext, chat: Chat, turn: Turn) -> list[object]:
    """The turn's answer in the StreamGenerate candidate layout (complete: ``[8] = [2]``)."""
    cand: list[object] = [None] * 44
    cand[0] = turn.rcid
    cand[1] = [turn.text]
    cand[8] = [2]
    if turn.video:
        cand[12] = _video(ctx, chat, turn)
    elif turn.music:  # the track at c[12][86], as the answer's final frame has it (hNvQHb, ZX)
        music: list[object] = [None] * 87
        music[86] = music_field(*turn.music)
        cand[12] = music
    elif turn.images or turn.web_images:
        rich: list[object] = [None] * 60
        if turn.web_images:
            rich[1] = [payloads.web_image_entry(image) for image in turn.web_images]
        if turn.images:
            rich[7] = [[_image_entry(url, i, turn.prompt) for i, url in enumerate(turn.images)]]
        cand[12] = rich
    if turn.thoughts:
        cand[37] = [[turn.thoughts]]
    return cand


def _history_turn(ctx: RpcContext, chat: Chat, turn: Turn) -> list[object]:
    candidate = _candidate(ctx, chat, turn)
    run = ctx.state.research_runs.report_of(chat.cid, turn.rid)
    if run is not None:  # a research that ran on after its turn: its report belongs to that turn
        if run.slot == "text":
            candidate[1] = [run.document]
        else:
            candidate[30] = [[f"research_{run.research_id[:8]}", run.title, run.document]]
    return [
        [chat.cid, turn.rid],
        [chat.cid, turn.rid, turn.rcid],
        [[turn.prompt, 0, None, None, None, None, 0]],
        [[candidate]],
        timestamp(turn.created),
    ]


def read_chat(ctx: RpcContext, payload: Any) -> object:
    """``[cid, limit, null, 1, [1], [4], null, 1]`` → ``[[turns, newest first]]`` (at most ``limit``)."""
    limit = at(payload, 1)
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        return Rejected(INVALID_ARGUMENT, "hNvQHb limit is not a positive integer")
    chat = _owned(ctx, at(payload, 0))
    if chat is None:
        return Rejected(NOT_FOUND, "no such chat for this account")
    turns = list(reversed(chat.turns))[: limit or len(chat.turns)]
    return [[_history_turn(ctx, chat, turn) for turn in turns]]


def delete_chat(ctx: RpcContext, payload: Any) -> object:
    """GzXR5e ``[cid]`` and qWymEb ``[cid, [1, null, 0, 1]]``: the chat is gone; answers ``[]``."""
    cid = at(payload, 0)
    if not isinstance(cid, str) or not cid:
        return Rejected(INVALID_ARGUMENT, "delete payload has no cid")
    if not ctx.state.chats.delete(cid, ctx.account.public_id):
        return Rejected(NOT_FOUND, "no such chat for this account")
    return []
