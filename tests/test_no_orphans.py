"""The session-end orphan check sees what it exists for: a tagged process reparented away from us."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.support import orphans

# A child that starts a long sleeper in its own session and exits at once: the sleeper is an
# orphan, no longer a descendant of the test process, like ``playwright run-server``'s Node child.
_SPAWN_ORPHAN = (
    "import subprocess, sys;"
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True,"
    " stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
    "print(p.pid, flush=True)"
)


def test_an_orphan_of_the_session_is_found_and_killed() -> None:
    tag = os.environ[orphans.TAG_VARIABLE]  # set by tests/conftest.py at session start
    out = subprocess.run([sys.executable, "-c", _SPAWN_ORPHAN], capture_output=True, text=True, check=True)
    pid = int(out.stdout)
    try:
        assert pid in {survivor.pid for survivor in orphans.survivors(tag)}
        assert os.getppid() != pid  # not ours: only the tag finds it
    finally:
        orphans.kill([orphans.Survivor(pid, "sleeper")])
    deadline = time.monotonic() + 10
    while pid in {s.pid for s in orphans.survivors(tag)} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid not in {s.pid for s in orphans.survivors(tag)}
