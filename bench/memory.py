"""Memory of the Chromium process tree under a process, read from ``/proc`` (Linux only).

RSS is what the brief asks for; it counts pages shared between Chromium's processes once per
process, so PSS (shared pages split between their users) is reported beside it as the fairer sum.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TreeMemory", "chromium_memory"]

_PROC = Path("/proc")


@dataclass(frozen=True)
class TreeMemory:
    processes: int
    rss_kib: int
    pss_kib: int


def _parents() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command name is in parentheses and may contain spaces: parse after the last ")".
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def _descendants(root: int, parents: dict[int, int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found: list[int] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _is_chromium(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return "chrom" in (_PROC / str(pid) / "comm").read_text().lower()
    return False


def _field_kib(path: Path, name: str) -> int:
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


def chromium_memory(root: int) -> TreeMemory:
    """Sum over every Chromium process below ``root`` (the browser and all its children)."""
    pids = [pid for pid in _descendants(root, _parents()) if _is_chromium(pid)]
    rss = sum(_field_kib(_PROC / str(pid) / "status", "VmRSS") for pid in pids)
    pss = sum(_field_kib(_PROC / str(pid) / "smaps_rollup", "Pss") for pid in pids)
    return TreeMemory(processes=len(pids), rss_kib=rss, pss_kib=pss)
