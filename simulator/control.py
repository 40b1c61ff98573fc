"""Test control: per-account one-shot behaviour queues and the logs exposed under ``/_sim/``."""

from __future__ import annotations

from collections import deque
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

ANY_ACCOUNT = "*"


class ErrorBehaviour(BaseModel):
    kind: Literal["error"]
    code: int = 1013
    status: int | None = None


class StallBehaviour(BaseModel):
    kind: Literal["stall"]
    after_frames: int = 1


class SlowFirstTokenBehaviour(BaseModel):
    kind: Literal["slow_first_token"]
    seconds: float = 5.0


class DropBehaviour(BaseModel):
    kind: Literal["drop"]
    after_frames: int = 1


class UsageLimitBehaviour(BaseModel):
    kind: Literal["usage_limit"]
    reset_seconds: float = 3600.0


class FormatDriftBehaviour(BaseModel):
    """The site changed where the answer lives in the payload and shipped page code that knows it.

    The candidate moves from ``inner[4]`` to ``inner[60]`` (trailing-object form); the simulator's
    page reads both, our decoder only the old place, so the gateway sees frames but no content.
    """

    kind: Literal["format_drift"]


Behaviour = Annotated[
    ErrorBehaviour
    | StallBehaviour
    | SlowFirstTokenBehaviour
    | DropBehaviour
    | UsageLimitBehaviour
    | FormatDriftBehaviour,
    Field(discriminator="kind"),
]


class BehaviourRequest(BaseModel):
    account: str = ANY_ACCOUNT
    behaviours: list[Behaviour]


class Control:
    """Behaviour queues by account key (the ``__Secure-1PSID`` value, ``""`` signed out, or ``*``)."""

    def __init__(self) -> None:
        self.queues: dict[str, deque[Behaviour]] = {}
        self.requests: list[dict[str, Any]] = []
        self.uploads: list[dict[str, Any]] = []
        self.rotations: list[dict[str, Any]] = []
        self.rpcs: list[dict[str, Any]] = []  # one entry per RPC of every batchexecute call

    def clear(self) -> None:
        self.queues.clear()
        self.rpcs.clear()
        self.requests.clear()
        self.uploads.clear()
        self.rotations.clear()

    def enqueue(self, request: BehaviourRequest) -> None:
        self.queues.setdefault(request.account, deque()).extend(request.behaviours)

    def next_behaviour(self, account_key: str) -> Behaviour | None:
        """The account's own queue goes first, then the wildcard queue."""
        for key in (account_key, ANY_ACCOUNT):
            queue = self.queues.get(key)
            if queue:
                return queue.popleft()
        return None
