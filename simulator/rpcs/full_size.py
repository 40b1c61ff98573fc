"""c8o8Fe: the full-size URL of a generated image (interface I4).

Payload ``[[[null,null,null,[null×5,""]],[image_id,0],null,[19,""],null×5,""],[rid,rcid,cid,null,""],1,0,1]``;
the turn is found by cid/rid/rcid and the image by the index in its placeholder
(``http://googleusercontent.com/image_generation_content/<n>``). Answer ``["<origin>/gg-dl/<token>"]``
(no size option; the client appends ``=d-I?alr=yes``). Anything not found: rejection 13 (F4).
"""

from __future__ import annotations

import re
from typing import Any

from simulator.rpcs.base import INTERNAL, Rejected, RpcContext, at

_PLACEHOLDER = re.compile(r"http://googleusercontent\.com/image_generation_content/(\d+)(?:_\d+)?")


def answer(ctx: RpcContext, payload: Any) -> object:
    image_id, ids = at(payload, 0, 1, 0), at(payload, 1)
    rid, rcid, cid = at(ids, 0), at(ids, 1), at(ids, 2)
    match = _PLACEHOLDER.fullmatch(image_id) if isinstance(image_id, str) else None
    if match is None or not all(isinstance(v, str) for v in (rid, rcid, cid)):
        return Rejected(INTERNAL, "c8o8Fe payload has no image placeholder or turn ids")
    chat = ctx.state.chats.get(cid, ctx.account.public_id)
    turn = next((t for t in chat.turns if t.rid == rid and t.rcid == rcid), None) if chat else None
    index = int(match.group(1))
    if turn is None or index >= len(turn.images):
        return Rejected(INTERNAL, "no such image in this account's chats")
    # Stored preview URLs are ``<origin>/gg-dl/<token>=s1024-rj``: the original drops the size option.
    return [turn.images[index].rpartition("=")[0]]
