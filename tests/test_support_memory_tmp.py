"""The fast tier's choice of a memory file system for temporary files (tests/support/memory_tmp.py)."""

from __future__ import annotations

from pathlib import Path

from tests.support import memory_tmp


def test_a_place_with_room_is_chosen(tmp_path: Path) -> None:
    assert memory_tmp.chosen({}, None, str(tmp_path), room=0) == str(tmp_path)


def test_what_the_developer_chose_wins(tmp_path: Path) -> None:
    assert memory_tmp.chosen({"TMPDIR": "/var/tmp"}, None, str(tmp_path), room=0) is None
    assert memory_tmp.chosen({}, tmp_path / "base", str(tmp_path), room=0) is None


def test_a_small_or_missing_place_is_not_used(tmp_path: Path) -> None:
    assert memory_tmp.chosen({}, None, str(tmp_path), room=1 << 62) is None
    assert memory_tmp.chosen({}, None, str(tmp_path / "absent"), room=0) is None
