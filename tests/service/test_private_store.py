"""The one lifecycle every SQLite store shares (``PrivateStore``): opening twice keeps one
connection, a closed store names itself in its error, and ``with`` closes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.videos.store import VideoStore


def test_a_store_opened_at_construction_is_not_opened_again(tmp_path: Path) -> None:
    store = VideoStore(tmp_path)
    first = store._conn()
    with store:  # ``with`` on a store already open adds no second connection
        assert store._conn() is first
    with pytest.raises(RuntimeError, match="the video store is not open"):
        store.get("video_1")
