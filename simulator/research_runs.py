"""Deep research that runs after its "Start research" turn, as Google's does (``research_seconds``).

With ``research_seconds`` at 0 the confirming turn answers with the report at once. Above 0 that
turn answers with a stub ("I'm on it…") instead; the research runs for that many seconds, during
which ``kwDCne`` says it is running, and then the report belongs to the stub turn: ``hNvQHb`` reads
it there as the turn's text (``research_report`` "text", K5: GA's ``fetch_latest_chat_response``) or
as its document (``c[30]``, "immersive"), as the web app finds it when it opens the chat again.
The run goes on whatever the client does: the stream ending or being cancelled changes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from simulator.answers import Answer

__all__ = ["RUNNING_TEXT", "ResearchRun", "ResearchRuns"]

RUNNING_TEXT = (
    "I'm on it. Starting research… The report will be ready in a few minutes; "
    "you can leave this chat and come back to it."
)


@dataclass
class ResearchRun:
    research_id: str
    cid: str
    rid: str
    title: str
    document: str
    seconds: float
    slot: str = "text"  # research_report when the run began: "text" or "immersive"
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> bool:
        return time.monotonic() - self.started >= self.seconds


class ResearchRuns:
    """Running and finished researches by id."""

    def __init__(self) -> None:
        self._runs: dict[str, ResearchRun] = {}

    def clear(self) -> None:
        self._runs.clear()

    def begin(
        self, answer: Answer, *, research_id: str, cid: str, rid: str, seconds: float, slot: str
    ) -> None:
        """Turn the confirming answer into the running stub; the report waits in the run."""
        assert answer.report is not None
        title, document = answer.report
        self._runs[research_id] = ResearchRun(research_id, cid, rid, title, document, seconds, slot)
        answer.canvas = answer.report = None
        answer.text = answer.preamble + "\n\n" + RUNNING_TEXT

    def get(self, research_id: str) -> ResearchRun | None:
        return self._runs.get(research_id)

    def report_of(self, cid: str, rid: str) -> ResearchRun | None:
        """The finished run whose report belongs to the turn ``rid`` of chat ``cid``."""
        for run in self._runs.values():
            if run.cid == cid and run.rid == rid and run.done:
                return run
        return None
