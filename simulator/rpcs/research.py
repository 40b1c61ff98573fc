"""kwDCne: the state of a deep research by its id, ``[research_id]``.

Answer (our layout; protocol.md §8 only says which strings mark the states):
``[research_id, state, [cid, rid], "<marker>"]`` with state 1 and the marker
``http://googleusercontent.com/deep_research_confirmation_content/0`` while the plan awaits
confirmation, state 3 and ``http://googleusercontent.com/immersive_entry_chip/0`` once the report
was delivered; with ``research_seconds`` above 0, state 2 (no marker) while the confirmed research
runs (simulator/research_runs.py).
"""

from __future__ import annotations

from typing import Any

from simulator.rpcs.base import INVALID_ARGUMENT, NOT_FOUND, Rejected, RpcContext, at

AWAITING_CONFIRMATION = 1
RUNNING = 2  # confirmed, report not ready yet (only with research_seconds > 0)
DONE = 3
AWAITING_MARKER = "http://googleusercontent.com/deep_research_confirmation_content/0"
DONE_MARKER = "http://googleusercontent.com/immersive_entry_chip/0"


def answer(ctx: RpcContext, payload: Any) -> object:
    research_id = at(payload, 0)
    if not isinstance(research_id, str) or not research_id:
        return Rejected(INVALID_ARGUMENT, "kwDCne payload is not [research_id]")
    found = ctx.state.chats.find_research(research_id, ctx.account.public_id)
    if found is None:
        return Rejected(NOT_FOUND, "no such research for this account")
    chat, state = found
    plan_turn = next(turn for turn in chat.turns if turn.research_id == research_id)
    run = ctx.state.research_runs.get(research_id)
    if state == "running" and run is not None and run.done:
        chat.research[research_id] = state = "done"
    if state == "running":
        return [research_id, RUNNING, [chat.cid, plan_turn.rid], None]
    if state == "done":
        return [research_id, DONE, [chat.cid, plan_turn.rid], DONE_MARKER]
    return [research_id, AWAITING_CONFIRMATION, [chat.cid, plan_turn.rid], AWAITING_MARKER]
