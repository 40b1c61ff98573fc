"""kwDCne: the state of a task by its id, ``[task_id]``: a deep research or a Create-video job.

The page polls both through it (H8: GA and DRX for researches, VID and VJOB for video jobs, a
generic "GetTask"). Answer (our layout around what the sources read):

``[task_id, [state, null, null, [cid, rid], [title, query]], …]`` — ``[1][3][0]`` the chat and
``[1][4]`` title and query, where GA's ``extract_deep_research_status_payload`` reads them. Then:

- a research: ``…, marker]`` where the marker is
  ``http://googleusercontent.com/deep_research_confirmation_content/0`` (state 1) while the plan
  awaits "Start research", ``http://googleusercontent.com/immersive_entry_chip/0`` (state 3) once the
  report was delivered, ``null`` (state 2) while a confirmed research runs (``research_seconds``);
- a video job: ``…, [created secs, nanos]]`` (state 2) while it renders, and
  ``…, [created], [finished], 1]`` (state 3) once rendered (VID ``poll_done``: a pending answer ends
  with one timestamp pair, a finished one with a second pair and a trailing 1). The video itself is
  read from the chat's history (``hNvQHb``, field 60) afterwards.
"""

from __future__ import annotations

from typing import Any

from simulator.chats import Chat, Turn
from simulator.rpcs.base import INVALID_ARGUMENT, NOT_FOUND, Rejected, RpcContext, at, timestamp
from simulator.rpcs.chats import video_token

AWAITING_CONFIRMATION = 1
RUNNING = 2  # a confirmed research whose report is not ready, or a video still rendering
DONE = 3
FINISHED = 1  # the trailing flag of a finished video job
AWAITING_MARKER = "http://googleusercontent.com/deep_research_confirmation_content/0"
DONE_MARKER = "http://googleusercontent.com/immersive_entry_chip/0"


def _task(state: int, chat: Chat, turn: Turn, title: str) -> list[object]:
    return [state, None, None, [chat.cid, turn.rid], [title, turn.prompt]]


def answer(ctx: RpcContext, payload: Any) -> object:
    task_id = at(payload, 0)
    if not isinstance(task_id, str) or not task_id:
        return Rejected(INVALID_ARGUMENT, "kwDCne payload is not [task_id]")
    owner = ctx.account.public_id
    found = ctx.state.chats.find_research(task_id, owner)
    if found is not None:
        return _research(ctx, task_id, *found)
    video = ctx.state.chats.find_video(task_id, owner)
    if video is not None:
        return _video(ctx, task_id, *video)
    return Rejected(NOT_FOUND, "no such research or video job for this account")


def _research(ctx: RpcContext, research_id: str, chat: Chat, state: str) -> object:
    plan_turn = next(turn for turn in chat.turns if turn.research_id == research_id)
    run = ctx.state.research_runs.get(research_id)
    if state == "running" and run is not None and run.done:
        chat.research[research_id] = state = "done"
    title = f"Research: {plan_turn.prompt[:80]}"
    if state == "running":
        return [research_id, _task(RUNNING, chat, plan_turn, title), None]
    if state == "done":
        return [research_id, _task(DONE, chat, plan_turn, title), DONE_MARKER]
    return [research_id, _task(AWAITING_CONFIRMATION, chat, plan_turn, title), AWAITING_MARKER]


def _video(ctx: RpcContext, job_id: str, chat: Chat, turn: Turn) -> object:
    assert turn.video is not None
    job = ctx.state.videos.get(video_token(turn.video[1]))
    created = timestamp(turn.created)
    title = f"Video: {turn.prompt[:80]}"
    if job is None or not ctx.state.video_ready(job):
        return [job_id, _task(RUNNING, chat, turn, title), created]
    finished = timestamp(turn.created + ctx.state.settings.video_render_seconds)
    return [job_id, _task(DONE, chat, turn, title), created, finished, FINISHED]
