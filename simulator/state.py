"""Everything one simulator instance remembers; ``reset`` returns it to a fresh start."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from simulator.answers import ImageSpec
from simulator.chats import ChatStore
from simulator.control import Control
from simulator.gems import GemBook
from simulator.music import MusicTrack
from simulator.research_runs import ResearchRuns
from simulator.sessions import SessionBook, SimClock
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
        self.music: dict[str, MusicTrack] = {}
        self.research_runs = ResearchRuns()
        self.gems = GemBook()
        self.request_counter = itertools.count(1)
        self.clock = SimClock(self.settings.time_scale)
        self.sessions = SessionBook(self.clock)

    def configure(self, settings: SimulatorSettings) -> None:
        """Apply new settings; the simulated clock keeps the time it shows and runs at the new scale."""
        self.settings = settings
        self.clock.rescale(settings.time_scale)

    def reset(self) -> None:
        self.configure(self._initial.model_copy())
        self.sessions.clear()
        self.chats.clear()
        self.control.clear()
        self.uploads.clear()
        self.usage.clear()
        self.images.clear()
        self.videos.clear()
        self.music.clear()
        self.research_runs.clear()
        self.gems.clear()
        self.request_counter = itertools.count(1)

    def video_ready(self, job: VideoJob) -> bool:
        return time.monotonic() - job.created >= self.settings.video_render_seconds
