"""Memory of the Chromium process tree under a process, read from ``/proc`` (Linux only).

RSS is what the brief asks for; it counts pages shared between Chromium's processes once per
process, so PSS (shared pages split between their users) is reported beside it as the fairer sum,
and USS (pages private to the process: what its exit would free) as the floor. "Shared clean" is the
part of RSS that is unmodified pages shared with other processes: for a renderer, mostly the Chromium
binary's code, the same pages in every process, which no switch of ours can take out of its RSS.
"""

from __future__ import annotations

import contextlib
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "ProcessMemory",
    "TreeMemory",
    "chromium_memory",
    "chromium_processes",
    "median_of_runs",
    "side_by_side",
]

_PROC = Path("/proc")
_PRIVATE = ("Private_Clean", "Private_Dirty")
_TYPE = re.compile(rb"--type=([a-z-]+)")


@dataclass(frozen=True)
class ProcessMemory:
    pid: int
    kind: str  # Chromium's ``--type=`` (renderer, gpu-process, utility, ...) or "browser"
    rss_kib: int
    pss_kib: int
    uss_kib: int
    shared_clean_kib: int


@dataclass(frozen=True)
class TreeMemory:
    processes: int
    renderers: int
    rss_kib: int
    pss_kib: int
    uss_kib: int
    shared_clean_kib: int


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


def _kind(pid: int) -> str:
    # Chromium rewrites its child processes' argv into one space-separated string.
    with contextlib.suppress(OSError):
        found = _TYPE.search((_PROC / str(pid) / "cmdline").read_bytes())
        if found is not None:
            return found.group(1).decode("utf-8", "replace")
    return "browser"


def chromium_processes(root: int) -> list[ProcessMemory]:
    """Every Chromium process below ``root`` (the browser and all its children), with its memory."""
    return [
        ProcessMemory(
            pid=pid,
            kind=_kind(pid),
            rss_kib=_field_kib(_PROC / str(pid) / "status", "VmRSS"),
            pss_kib=_field_kib(_PROC / str(pid) / "smaps_rollup", "Pss"),
            uss_kib=sum(_field_kib(_PROC / str(pid) / "smaps_rollup", name) for name in _PRIVATE),
            shared_clean_kib=_field_kib(_PROC / str(pid) / "smaps_rollup", "Shared_Clean"),
        )
        for pid in _descendants(root, _parents())
        if _is_chromium(pid)
    ]


def chromium_memory(root: int) -> TreeMemory:
    """Sum over every Chromium process below ``root``."""
    processes = chromium_processes(root)
    return TreeMemory(
        processes=len(processes),
        renderers=sum(process.kind == "renderer" for process in processes),
        rss_kib=sum(process.rss_kib for process in processes),
        pss_kib=sum(process.pss_kib for process in processes),
        uss_kib=sum(process.uss_kib for process in processes),
        shared_clean_kib=sum(process.shared_clean_kib for process in processes),
    )


_PER_ACCOUNT = ("rss", "pss", "uss", "shared_clean")


def median_of_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One variant measured several times (``bench.measure.measure_memory`` results): each
    per-account figure is the median over the runs; ``low``/``high`` are those of the run with the
    median RSS per account; the runs are kept under ``runs`` when there are several."""
    ordered = sorted(runs, key=lambda run: float(run["per_account_rss_mib"]))
    result = dict(ordered[(len(ordered) - 1) // 2])
    for key in [f"per_account_{name}_mib" for name in _PER_ACCOUNT] + ["per_account_renderers"]:
        result[key] = round(statistics.median(float(run[key]) for run in runs), 1)
    if len(runs) > 1:
        result["runs"] = runs
    return result


def side_by_side(variants: dict[str, dict[str, Any]]) -> str:
    """A Markdown table, one row per launch variant: what each additional warm account costs."""
    lines = [
        "| variant | RSS / account | PSS / account | USS / account | shared clean / account "
        "| processes / account | renderers / account | runs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, memory in variants.items():
        low, high = memory["low"], memory["high"]
        processes = (high["processes"] - low["processes"]) / (high["accounts"] - low["accounts"])
        figures = " | ".join(f"{memory[f'per_account_{key}_mib']} MiB" for key in _PER_ACCOUNT)
        runs = len(memory.get("runs", [memory]))
        lines.append(f"| {name} | {figures} | {processes:.1f} | {memory['per_account_renderers']} | {runs} |")
    return "\n".join(lines)
