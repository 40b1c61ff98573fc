"""Everything one simulator instance remembers; ``reset`` returns it to a fresh start."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from simulator.answers import ImageSpec
from simulator.chats import ChatStore
from simulator.control import Control
from simulator.research_runs import ResearchRuns
from simulator.settings import SimulatorSettings
from simulator.uploads import UploadSessions, UploadStore
from simulator.usage import UsageBook


@dataclass(frozen=True)
class VideoJob:
    token: str
    created: float
    owner: str


class SimState:
    def __init__(self, settings: SimulatorSettings) -> None:
        self._initial = settings.model_copy()
        self.settings = settings.model_copy()
        self.chats = ChatStore()
        self.control = Control()
        self.uploads = UploadStore()
        self.upload_sessions = UploadSessions()  # not cleared by reset (simulator/uploads.py)
        self.usage = UsageBook()
        self.images: dict[str, ImageSpec] = {}
        self.videos: dict[str, VideoJob] = {}
        self.research_runs = ResearchRuns()
        self.request_counter = itertools.count(1)

    def reset(self) -> None:
        self.settings = self._initial.model_copy()
        self.chats.clear()
        self.control.clear()
        self.uploads.clear()
        self.usage.clear()
        self.images.clear()
        self.videos.clear()
        self.research_runs.clear()
        self.request_counter = itertools.count(1)

    def video_ready(self, job: VideoJob) -> bool:
        return time.monotonic() - job.created >= self.settings.video_render_seconds
