"""MUAZcd: the metadata follow-up of a chat's video turn,
``[null, [["unread_metadata"]], [cid, null×5, [[cid, rid], 0]]]``.

Answer (our layout): ``[[cid, rid], [[thumbnail url, video url], state]]`` with state 1 while the
video renders (its download answers 206) and 2 once it is ready.
"""

from __future__ import annotations

from typing import Any

from simulator.rpcs.base import INVALID_ARGUMENT, NOT_FOUND, Rejected, RpcContext, at
from simulator.rpcs.chats import video_token

RENDERING = 1
READY = 2


def answer(ctx: RpcContext, payload: Any) -> object:
    cid, rid = at(payload, 2, 0), at(payload, 2, 6, 0, 1)
    if not isinstance(cid, str) or not isinstance(rid, str):
        return Rejected(INVALID_ARGUMENT, "MUAZcd payload has no [cid, ..., [[cid, rid], 0]]")
    chat = ctx.state.chats.get(cid, ctx.account.public_id)
    turn = next((t for t in chat.turns if t.rid == rid), None) if chat else None
    if turn is None or turn.video is None:
        return Rejected(NOT_FOUND, "no video turn with these ids for this account")
    thumbnail, url = turn.video
    job = ctx.state.videos.get(video_token(url))
    ready = job is not None and ctx.state.video_ready(job)
    return [[cid, rid], [[thumbnail, url], READY if ready else RENDERING]]
