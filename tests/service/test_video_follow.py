"""Following a Create-video job (research/fidelity.md J1): the job's hint (kwDCne), the chat's history
(hNvQHb) as the truth, transient read failures tolerated, and a bound on the wait."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from browser import VideoInfo
from service.errors import UpstreamFailed
from service.videos.follow import VideoProgress, follow_video

READY = VideoInfo("https://v/thumb.jpg", "https://v/video.mp4", None, pending=False)


@dataclass
class Reader:
    """The job is done from poll ``done_at`` on; ``failing`` reads fail first."""

    done_at: int
    failing: int = 0
    hint: bool = True  # False: the job's answer says nothing (None)
    calls: list[str] = field(default_factory=list)

    async def video_job(self, account_id: str, job_id: str, chat_id: str | None) -> bool | None:
        self.calls.append("kwDCne")
        if self.failing:
            self.failing -= 1
            raise UpstreamFailed("the page was reloading")
        if not self.hint:
            return None
        return self.calls.count("kwDCne") > self.done_at

    async def chat_video(self, account_id: str, chat_id: str) -> VideoInfo | None:
        self.calls.append("hNvQHb")
        return READY if self.calls.count("kwDCne") > self.done_at else None


async def _follow(reader: Reader, job_id: str | None = "job", max_wait: float = 60.0) -> list[VideoProgress]:
    return [
        step async for step in follow_video(reader, "acct", "c_1", job_id, max_wait=max_wait, poll_interval=0)
    ]


async def test_the_history_is_read_when_the_job_says_done_and_every_third_poll() -> None:
    reader = Reader(done_at=5)
    steps = await _follow(reader)
    assert steps[-1].video == READY and all(step.video is None for step in steps[:-1])
    # Polls 1-5 pending: the history only on the 3rd; poll 6 done: the history at once.
    assert reader.calls == ["kwDCne", "kwDCne", "kwDCne", "hNvQHb", "kwDCne", "kwDCne", "kwDCne", "hNvQHb"]


async def test_a_job_whose_answer_says_nothing_reads_the_history_each_time() -> None:
    reader = Reader(done_at=2, hint=False)
    await _follow(reader)
    assert reader.calls.count("hNvQHb") == reader.calls.count("kwDCne") == 3


async def test_a_resumed_job_without_its_id_reads_only_the_history() -> None:
    reader = Reader(done_at=0)
    reader.calls.append("kwDCne")  # the render finished before the restart
    steps = await _follow(reader, job_id=None)
    assert steps[-1].video == READY and reader.calls == ["kwDCne", "hNvQHb"]


async def test_a_few_failed_reads_in_a_row_are_tolerated_more_are_not() -> None:
    assert (await _follow(Reader(done_at=0, failing=2)))[-1].video == READY
    with pytest.raises(UpstreamFailed):
        await _follow(Reader(done_at=0, failing=3))


async def test_the_wait_is_bounded() -> None:
    with pytest.raises(UpstreamFailed) as late:
        await _follow(Reader(done_at=10**6), max_wait=0.0)
    assert late.value.code == "video_timeout"
