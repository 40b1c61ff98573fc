"""Write a planned answer as a paced ``rt=c`` body, applying the one-shot test behaviour if any.

The locator frame goes out at once; content frames follow after ``first_token_delay``, one every
``frame_interval``, each revealing ``snapshot_chars`` more characters (thoughts first, then text).
The request-log entry is updated as frames go out and says how the stream ended.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncGenerator, Iterator
from typing import Any

from simulator import payloads
from simulator.control import (
    Behaviour,
    DropBehaviour,
    ErrorBehaviour,
    FormatDriftBehaviour,
    SlowFirstTokenBehaviour,
    StallBehaviour,
    UsageLimitBehaviour,
)
from simulator.encoder import BodyWriter, error_envelope, result_envelope
from simulator.payloads import CandidateView
from simulator.settings import SimulatorSettings
from simulator.turns import AnswerPlan, ErrorPlan
from simulator.usage import quota_payload

ANON_TRAILING_CODE = 1096  # anonymous turns end with a 1096 envelope after the content (protocol.md §5)


class ConnectionDropped(Exception):
    """Raised inside the body iterator so the server aborts the connection mid-body."""


def behaviour_error(behaviour: Behaviour | None, model_hex: str) -> ErrorPlan | None:
    """Behaviours that replace the whole answer with an error body."""
    if isinstance(behaviour, ErrorBehaviour):
        status = behaviour.status if behaviour.status is not None else (8 if behaviour.code == 1037 else 13)
        return ErrorPlan(status, behaviour.code)
    if isinstance(behaviour, UsageLimitBehaviour):
        reset = time.time() + behaviour.reset_seconds
        return ErrorPlan(8, 1037, [payloads.exhausted_quota(None, "", model_hex, reset)])
    return None


def trace_id(seed: str) -> str:
    """The stats frame's trace id: a signed 60-bit number derived from ``seed``."""
    return str(int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16) - 2**59)


def _stats(writer: BodyWriter, started: float, seed: str) -> bytes:
    elapsed = int((time.monotonic() - started) * 1000)
    return writer.frame(payloads.stats(elapsed, trace_id(seed), writer.items))


def error_body(plan: ErrorPlan, seed: str) -> tuple[bytes, int]:
    """An error-only body (HTTP 200) and its frame count: leading payloads, envelope, stats, trailer."""
    writer = BodyWriter()
    started = time.monotonic()
    parts = [writer.guard()]
    parts += [writer.frame([result_envelope(payload)]) for payload in plan.before]
    parts.append(writer.frame([error_envelope(plan.status, plan.code)]))
    parts.append(_stats(writer, started, seed))
    parts.append(writer.trailer())
    return b"".join(parts), writer.frames


def snapshots(plan: AnswerPlan, step: int) -> Iterator[CandidateView]:
    """Growing views: thoughts first, then the text; artefacts join once the text is complete."""
    answer = plan.answer
    step = max(1, step)
    pending = plan.answer.video_job if plan.video is not None else None
    for end in range(step, len(answer.thoughts) + step, step):
        yield CandidateView(plan.rcid, thoughts=answer.thoughts[:end])
    for end in range(step, len(answer.text) + step, step):
        done = end >= len(answer.text)
        yield CandidateView(
            plan.rcid,
            text=answer.text[:end],
            thoughts=answer.thoughts,
            images=plan.images if done else [],
            web_images=plan.web_images if done else [],
            video_pending_job=pending,
            canvas=_canvas(plan) if done else None,
            research=answer.research if done else None,
        )


def final_view(plan: AnswerPlan) -> CandidateView:
    """The complete answer. A polled video's final frame still shows only its job chip (J1)."""
    return CandidateView(
        plan.rcid,
        text=plan.answer.text,
        thoughts=plan.answer.thoughts,
        images=plan.images,
        web_images=plan.web_images,
        video_pending_job=plan.answer.video_job if plan.video is not None else None,
        video=plan.video if plan.video_in_stream else None,
        music=plan.music,
        canvas=_canvas(plan),
        research=plan.answer.research,
    )


def _canvas(plan: AnswerPlan) -> tuple[str, str, str] | None:
    if plan.answer.canvas is None:
        return None
    title, document = plan.answer.canvas
    return (f"canvas_{plan.rcid[3:]}", title, document)


def answer_frames(
    plan: AnswerPlan, settings: SimulatorSettings, *, drift: bool = False
) -> Iterator[list[object]]:
    """Every item list of the answer after the locator, up to (not including) stats and trailer."""
    for view in snapshots(plan, settings.snapshot_chars):
        yield [result_envelope(_content(plan, view, False, None, drift))]
    yield from closing_frames(plan, drift=drift)


def closing_frames(plan: AnswerPlan, *, drift: bool = False) -> Iterator[list[object]]:
    """The final content (with the served-model echo), then quota and context (or the anonymous 1096)."""
    echo = (plan.model.hex, plan.model.label)
    yield [result_envelope(_content(plan, final_view(plan), True, echo, drift))]
    if plan.persisted:
        if plan.quota:
            yield [result_envelope(quota_payload(plan.cid, plan.rid, plan.model.hex, plan.quota))]
        else:
            reset = time.time() + 5 * 3600
            yield [result_envelope(payloads.quota(plan.cid, plan.rid, plan.model.hex, reset))]
        yield [result_envelope(payloads.context(plan.cid, plan.rid, plan.context_token))]
    else:
        yield [error_envelope(13, ANON_TRAILING_CODE)]


def _content(
    plan: AnswerPlan, view: CandidateView, final: bool, echo: tuple[str, str] | None, drift: bool
) -> list[object]:
    inner = payloads.content(plan.cid, plan.rid, view, final, echo)
    return payloads.drifted(inner) if drift else inner


async def answer_body(
    plan: AnswerPlan, settings: SimulatorSettings, behaviour: Behaviour | None, log: dict[str, Any]
) -> AsyncGenerator[bytes, None]:
    """The paced body; ``log`` gets ``frames`` and ``outcome`` as the stream goes."""
    writer = BodyWriter()
    started = time.monotonic()
    stall_after = behaviour.after_frames if isinstance(behaviour, StallBehaviour) else None
    drop_after = behaviour.after_frames if isinstance(behaviour, DropBehaviour) else None
    first_delay = (
        behaviour.seconds if isinstance(behaviour, SlowFirstTokenBehaviour) else settings.first_token_delay
    )
    log["outcome"] = "streaming"
    log["frames"] = 0
    log["frame_times"] = []
    # A Create-music turn's final frame waits for the track (protocol.md §3.3: Lyria ~30 s).
    rendering_at = sum(1 for _ in snapshots(plan, settings.snapshot_chars)) if plan.music else -1
    try:
        locator = payloads.locator(plan.rid, plan.locator_token, plan.video is not None)
        # The locator's write time, so pacing tests can measure the first-token delay from it.
        log["locator_time"] = time.time()
        yield writer.guard() + writer.frame([result_envelope(locator)])
        log["frames"] = writer.frames
        drift = isinstance(behaviour, FormatDriftBehaviour)
        for index, items in enumerate(answer_frames(plan, settings, drift=drift)):
            if writer.frames == stall_after:
                log["stalled"] = True
                await asyncio.sleep(settings.max_stall_seconds)
                log["outcome"] = "stalled"
                return
            if writer.frames == drop_after:
                log["outcome"] = "dropped"
                raise ConnectionDropped(f"dropped after {writer.frames} frames")
            await asyncio.sleep(first_delay if index == 0 else settings.frame_interval)
            if index == rendering_at:
                await asyncio.sleep(settings.music_render_seconds)
            # Wall-clock write time of each frame after the locator (content frames first), so a
            # benchmark can measure how long the gateway takes to relay a frame to its client.
            log["frame_times"].append(time.time())
            yield writer.frame(items)
            log["frames"] = writer.frames
        yield _stats(writer, started, plan.rid) + writer.trailer()
        log["frames"] = writer.frames
        log["outcome"] = "completed"
    finally:
        if log["outcome"] == "streaming":
            log["outcome"] = "client_disconnected"
        log["ended"] = time.time()
