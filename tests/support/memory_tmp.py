"""The fast tier's temporary files on a memory file system, when there is one with room.

Every gateway a service test starts opens its SQLite stores (WAL, synchronous commits), and on a
disk each open, migration, commit and close waits for fsync: 0.2 s per gateway on a busy disk,
0.01 s on tmpfs, for some 600 gateways in ``make test-fast``. Nothing a test checks depends on the
disk.

Only the fast tier (``TEST_TIER=fast``, no Chromium): the whole suite tried it once and two of three
full runs lost a relaunched profile's freshly set cookie (a Chromium profile on tmpfs; see
docs/development.md). A ``TMPDIR`` the developer set, or ``--basetemp``, wins; a small ``/dev/shm``
(Docker's 64 MB) is not used."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping

MEMORY_TMP = "/dev/shm"
ROOM = 4 * 1024**3  # bytes free, at least


def chosen(
    environ: Mapping[str, str], basetemp: object, place: str = MEMORY_TMP, room: int = ROOM
) -> str | None:
    """The directory to use, or None to leave the temporary files where they are."""
    if "TMPDIR" in environ or basetemp or not os.path.isdir(place):
        return None
    try:
        free = os.statvfs(place)
    except OSError:
        return None
    if free.f_bavail * free.f_frsize < room or not os.access(place, os.W_OK | os.X_OK):
        return None
    return place


def use(basetemp: object) -> None:
    """Point ``TMPDIR`` (inherited by xdist's workers) and this process's ``tempfile`` at memory."""
    place = chosen(os.environ, basetemp)
    if place is not None:
        os.environ["TMPDIR"] = place
        tempfile.tempdir = None  # gettempdir() reads TMPDIR again
