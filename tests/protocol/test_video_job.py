"""kwDCne's word on a Create-video job (docs/architecture/evidence.md#j1, VID 2026-08-03): a pending answer
ends with one ``[seconds, nanos]`` pair, a finished one with a second pair and a trailing 1."""

from __future__ import annotations

from typing import Any

import pytest

from browser._videos import job_finished

JOB = "e3136f2f-29f4-4f33-9223-271d4697c60a"
SUBMITTED = [1785802995, 985455000]
DONE_AT = [1785803072, 120000000]


@pytest.mark.parametrize(
    ("payload", "finished"),
    [
        ([[JOB, ["c_98256aabc450ff93", "r_931fae4dfff02e00"], 1, SUBMITTED]], False),
        ([[JOB, ["c_98256aabc450ff93", "r_931fae4dfff02e00"], 2, SUBMITTED, DONE_AT, 1]], True),
        ([JOB, SUBMITTED, DONE_AT, 1], True),
        ([JOB, {"4": [SUBMITTED, DONE_AT, 1]}], True),
        ([JOB, "running"], None),
        ([], None),
        # A small number is not a time: it says nothing.
        ([JOB, [3, 4], [5, 6], 1], None),
    ],
)
def test_job_finished(payload: Any, finished: bool | None) -> None:
    assert job_finished(payload) is finished
