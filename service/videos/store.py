"""The video jobs' table (SQLite in the data directory) and the files of finished videos.

Every row belongs to one caller identity (a digest of the API key, ``service.auth.Caller``): reads,
lists and deletes are scoped to it, so another key's job id is simply not found.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from service.private_sqlite import Migration, PrivateStore

__all__ = ["VideoFiles", "VideoRecord", "VideoStore"]

_FIRST = """
CREATE TABLE IF NOT EXISTS videos (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    typed TEXT NOT NULL,
    seconds TEXT NOT NULL,
    size TEXT NOT NULL,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    completed_at INTEGER,
    expires_at INTEGER,
    error_code TEXT,
    error_message TEXT,
    account_id TEXT,
    chat_id TEXT,
    video_url TEXT,
    thumbnail_url TEXT,
    seq INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class VideoRecord:
    id: str
    owner: str
    model: str
    prompt: str
    typed: str  # what the page was given (the prompt with the aspect ratio in words)
    seconds: str
    size: str
    status: str  # queued | in_progress | completed | failed
    progress: int
    created_at: int
    completed_at: int | None = None
    expires_at: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    account_id: str | None = None
    chat_id: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    seq: int = 0

    @property
    def running(self) -> bool:
        return self.status in ("queued", "in_progress")


_COLUMNS = [item.name for item in fields(VideoRecord)]


class VideoFiles:
    """The finished videos' files in ``<data_dir>/videos/`` (0700, files 0600), whichever store
    keeps the rows."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.dir = data_dir / "videos"
        self.dir.mkdir(mode=0o700, exist_ok=True)

    def file(self, video_id: str, variant: str) -> Path:
        return self.dir / f"{video_id}.{'mp4' if variant == 'video' else 'jpg'}"

    def save(self, video_id: str, variant: str, data: bytes) -> None:
        path = self.file(video_id, variant)
        partial = path.with_suffix(path.suffix + ".part")
        partial.touch(mode=0o600, exist_ok=True)
        partial.write_bytes(data)
        partial.replace(path)

    def remove_files(self, video_id: str) -> None:
        for variant in ("video", "thumbnail"):
            self.file(video_id, variant).unlink(missing_ok=True)


class VideoStore(VideoFiles, PrivateStore):
    """Rows in ``<data_dir>/videos.sqlite3``, files in ``<data_dir>/videos/``."""

    _what = "the video store"
    schema = (Migration(_FIRST),)

    def __init__(self, data_dir: Path) -> None:
        PrivateStore.__init__(self, data_dir / "videos.sqlite3")
        self.open()  # creates data_dir 0700 first
        VideoFiles.__init__(self, data_dir)

    def insert(self, record: VideoRecord) -> VideoRecord:
        with self._locked() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM videos").fetchone()[0]
            record = replace(record, seq=seq)
            values = [getattr(record, name) for name in _COLUMNS]
            db.execute(f"INSERT INTO videos VALUES ({','.join('?' * len(_COLUMNS))})", values)
        return record

    def update(self, video_id: str, **changes: Any) -> None:
        sets = ", ".join(f"{name} = ?" for name in changes)
        with self._locked() as db:
            db.execute(f"UPDATE videos SET {sets} WHERE id = ?", [*changes.values(), video_id])

    def get(self, video_id: str, owner: str | None = None) -> VideoRecord | None:
        query, args = "SELECT * FROM videos WHERE id = ?", [video_id]
        if owner is not None:
            query, args = query + " AND owner = ?", [*args, owner]
        with self._locked() as db:
            row = db.execute(query, args).fetchone()
        return VideoRecord(*row) if row else None

    def page(self, owner: str, *, after: str | None, limit: int, ascending: bool) -> list[VideoRecord]:
        op, order = (">", "ASC") if ascending else ("<", "DESC")
        query, args = "SELECT * FROM videos WHERE owner = ?", [owner]
        if after is not None:
            query += f" AND seq {op} COALESCE((SELECT seq FROM videos WHERE id = ? AND owner = ?), seq)"
            args += [after, owner]
        query += f" ORDER BY seq {order} LIMIT ?"
        with self._locked() as db:
            rows = db.execute(query, [*args, limit]).fetchall()
        return [VideoRecord(*row) for row in rows]

    def running(self, accounts: Collection[str] | None = None) -> list[VideoRecord]:
        with self._locked() as db:
            rows = db.execute(
                "SELECT * FROM videos WHERE status IN ('queued', 'in_progress') ORDER BY seq"
            ).fetchall()
        records = [VideoRecord(*row) for row in rows]
        if accounts is None:
            return records
        return [record for record in records if record.account_id is None or record.account_id in accounts]

    def delete(self, video_id: str, owner: str) -> bool:
        with self._locked() as db:
            gone = db.execute("DELETE FROM videos WHERE id = ? AND owner = ?", [video_id, owner]).rowcount
        if gone:
            self.remove_files(video_id)
        return bool(gone)


def now() -> int:
    return int(time.time())
