"""Answers to a StreamGenerate sent without ``rt=c``: the guard, then one JSON array on one line.

protocol.md §3.1: before 2026-02 clients sent no ``rt=c`` and read ``)]}'\\n\\n<one JSON array>``
(``response.text.split("\\n")[2]``), looking for the ``wrb.fr`` item whose payload has candidates.
Which items Google puts in that array is not recorded; our choice is the chunked answer's items
without the growing snapshots and without the ``e`` trailer (it closes the chunked framing only):
locator, final content, quota and context (or the anonymous 1096), ``di`` and ``af.httprm``.
"""

from __future__ import annotations

from simulator import payloads
from simulator.encoder import GUARD, dumps, error_envelope, result_envelope
from simulator.stream import closing_frames, trace_id
from simulator.turns import AnswerPlan, ErrorPlan


def _body(items: list[object], elapsed_ms: int, seed: str) -> bytes:
    items = [*items, *payloads.stats(elapsed_ms, trace_id(seed), len(items))]
    return (GUARD + dumps(items) + "\n").encode("utf-8")


def answer_array(plan: AnswerPlan, elapsed_ms: int) -> bytes:
    """The whole answer as one array (no pacing: the body is written at once)."""
    tail = [item for frame in closing_frames(plan) for item in frame]
    locator = result_envelope(payloads.locator(plan.rid, plan.locator_token, plan.video is not None))
    return _body([locator, *tail], elapsed_ms, plan.rid)


def error_array(plan: ErrorPlan, seed: str) -> bytes:
    """An error answer as one array: leading payloads, the BardErrorInfo envelope, stats."""
    items: list[object] = [result_envelope(payload) for payload in plan.before]
    return _body([*items, error_envelope(plan.status, plan.code)], 0, seed)
