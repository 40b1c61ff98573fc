"""Media files kept by the gateway in ``<data_dir>/media`` (0700; files 0600), under two limits:

- ``max_age``: a file older than this (by its mtime) is deleted by the periodic sweep and before
  every write;
- ``max_bytes``: before a write, the oldest files are evicted until the new one fits.

Writes go to a hidden temporary file that is renamed into place, so a reader (or a crash) never
sees half a file. Every method is blocking; ``MediaDelivery`` runs them in a worker thread, and
one lock serialises the accounting of writes and sweeps.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from service.media.naming import NAME_PATTERN

log = logging.getLogger(__name__)

__all__ = ["LocalMediaStore", "StoredFile"]


@dataclass(frozen=True)
class StoredFile:
    name: str
    size: int
    mtime: float


class LocalMediaStore:
    """The media directory; names are ``service.media.naming`` names, nothing else is served."""

    def __init__(
        self, directory: Path, *, max_bytes: int, max_age: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)  # tightened when it already existed with a looser mode

    def files(self) -> list[StoredFile]:
        """The stored media, oldest first."""
        found: list[StoredFile] = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if not NAME_PATTERN.match(entry.name):
                    continue
                try:
                    stat = entry.stat()
                except FileNotFoundError:  # evicted meanwhile
                    continue
                found.append(StoredFile(entry.name, stat.st_size, stat.st_mtime))
        return sorted(found, key=lambda item: (item.mtime, item.name))

    def write(self, name: str, data: bytes) -> None:
        """Store ``data`` as ``name``, after purging expired files and evicting the oldest to fit."""
        if not NAME_PATTERN.match(name):
            raise ValueError("not a media name")
        if len(data) > self.max_bytes:
            raise ValueError(f"{len(data)} bytes exceed media.max_bytes ({self.max_bytes})")
        with self._lock:
            self._purge_locked()
            kept = self.files()
            used = sum(item.size for item in kept)
            for item in kept:
                if used + len(data) <= self.max_bytes:
                    break
                self._remove(item.name)
                used -= item.size
                log.info("media %s evicted (size limit)", item.name)
            self._write_file(name, data)

    def purge(self) -> int:
        """Delete expired files (and temporary files a crash left behind); how many went."""
        with self._lock:
            return self._purge_locked()

    def open(self, name: str) -> BinaryIO | None:
        """The open file for a name, or None when it is not (or no longer) kept."""
        if not NAME_PATTERN.match(name):
            return None
        path = self.directory / name
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return None
        if os.fstat(handle.fileno()).st_mtime <= self._clock() - self.max_age:
            handle.close()
            return None
        return handle

    def _purge_locked(self) -> int:
        cutoff = self._clock() - self.max_age
        removed = 0
        with os.scandir(self.directory) as entries:
            for entry in entries:
                is_media = bool(NAME_PATTERN.match(entry.name))
                if not (is_media or entry.name.startswith(".tmp-")):
                    continue
                try:
                    expired = entry.stat().st_mtime <= cutoff
                except FileNotFoundError:
                    continue
                if expired:
                    self._remove(entry.name)
                    removed += 1
        return removed

    def _write_file(self, name: str, data: bytes) -> None:
        temporary = self.directory / f".tmp-{secrets.token_hex(8)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, self.directory / name)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def _remove(self, name: str) -> None:
        (self.directory / name).unlink(missing_ok=True)
