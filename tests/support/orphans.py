"""Which processes started by this test session are still alive (Linux ``/proc``).

Every process the tests start inherits ``TAG_VARIABLE`` from the test process, including orphans
reparented away from it (``playwright run-server`` is a Python wrapper whose Node child outlived
it), so a scan of ``/proc/<pid>/environ`` finds them where a walk of the process tree would not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

TAG_VARIABLE = "GEMINI_GATEWAY_TEST_SESSION"
_PROC = Path("/proc")


@dataclass(frozen=True)
class Survivor:
    pid: int
    command: str

    def __str__(self) -> str:
        return f"{self.pid}: {self.command}"


def tag_session() -> str:
    """Mark this process (and so everything it starts from now on) as belonging to this session.

    Always a fresh tag, never one inherited: pytest-xdist's workers inherit the controller's
    environment, and with a shared tag each worker's end-of-session check would find (and kill)
    the other worker and its Chromium while they still run. ``/proc/<pid>/environ`` keeps the
    environment a process was started with, so a worker itself shows the controller's tag, and its
    children show the worker's."""
    tag = uuid.uuid4().hex
    os.environ[TAG_VARIABLE] = tag
    return tag


def _state(pid: str) -> str:
    stat = (_PROC / pid / "stat").read_text()
    return stat[stat.rindex(")") + 2 :].split(" ", 1)[0]


def survivors(tag: str) -> list[Survivor]:
    """Live processes (zombies excluded) other than this one that carry ``tag``."""
    needle = f"{TAG_VARIABLE}={tag}".encode()
    found: list[Survivor] = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0") or _state(entry.name) == "Z":
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ValueError):  # gone meanwhile, or another user's process
            continue
        found.append(Survivor(int(entry.name), command.strip()[:200]))
    return found


def wait_for_none(tag: str, *, timeout: float) -> list[Survivor]:
    """Survivors once ``timeout`` has passed without all of them exiting (processes stopped just
    before may need a moment)."""
    deadline = time.monotonic() + timeout
    left = survivors(tag)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = survivors(tag)
    return left


def kill(found: list[Survivor]) -> None:
    for survivor in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(survivor.pid, signal.SIGKILL)


def group_members(pgid: int) -> list[int]:
    """Live processes in process group ``pgid``."""
    members: list[int] = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split(" ")
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members
