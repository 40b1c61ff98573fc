"""How the suite is spread over xdist's workers: one module at a time, longest first.

``make``'s test targets run ``--dist loadfile``: each module is one unit of work, so a module-scoped
fixture (an end-to-end stack with its Chromium, a pool, simulators) is built on one worker only.
``--dist loadgroup`` with an ``xdist_group`` per module was meant to do the same, but pytest 9.2
builds node ids from a structured id and no longer reads the ``_nodeid`` that pytest-xdist 3.8
rewrites to carry the group (pytest-dev/pytest-xdist#1386, unfixed in a release): every test went
to whichever worker was free, and both workers built most modules' stacks.
``tests/test_support_schedule.py`` runs the Makefile's flags on two modules and fails if a module's
tests are split again.

The order is set here, at collection (the same on every worker, so the collections agree): the
longest module first (the times measured in ``tests/durations.json``), so the last units handed
out are short and both workers finish together; ``--no-loadscope-reorder`` keeps it. A module
missing from the file counts as short; a stale file costs balance, never correctness.

``UPDATE_DURATIONS=1 make test`` rewrites the file from the run (each module's setup, call and
teardown seconds, summed); ``python -m tests.support.schedule RUN.xml`` rewrites it from a run's
``--junitxml`` report (whose times are the same sums), so a timed run need not be repeated."""

from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

import pytest

DURATIONS = Path(__file__).resolve().parents[1] / "durations.json"
_UNKNOWN = 1.0  # seconds assumed for a module the file does not list yet


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].split("@", 1)[0]


def _recorded() -> dict[str, float]:
    try:
        loaded = json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return {}
    return {str(name): float(seconds) for name, seconds in loaded.items()}


def arrange(items: list[pytest.Item]) -> None:
    """Sort every item longest module first (stable: a module's tests keep their order)."""
    seconds = _recorded()
    items.sort(key=lambda item: -seconds.get(module_of(item.nodeid), _UNKNOWN))


class Recorder:
    """A plugin summing each module's test seconds from the reports (on the controller under
    xdist) and writing them when the session ends."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[module_of(report.nodeid)] += report.duration

    def pytest_sessionfinish(self) -> None:
        write(self.seconds)


def write(seconds: Counter[str]) -> None:
    ordered = {name: round(value, 1) for name, value in sorted(seconds.items())}
    DURATIONS.write_text(json.dumps(ordered, indent=1) + "\n")


def from_junit(path: Path) -> Counter[str]:
    """Each module's seconds from a ``--junitxml`` report (a test case's time is its setup, call and
    teardown, pytest's default ``junit_duration_report``)."""
    seconds: Counter[str] = Counter()
    for case in ElementTree.parse(path).iter("testcase"):
        module = case.get("classname", "")
        # classname is the dotted module (and class): tests.browser.test_x[.TestClass]
        parts = module.split(".")
        while parts and not parts[-1].startswith("test_"):
            parts.pop()
        if parts:
            seconds["/".join(parts) + ".py"] += float(case.get("time") or 0.0)
    return seconds


def recording(config: pytest.Config) -> bool:
    """Whether this process writes the file: asked for, and not an xdist worker."""
    return os.environ.get("UPDATE_DURATIONS") == "1" and not hasattr(config, "workerinput")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.support.schedule RUN.xml  (a pytest --junitxml report)")
    measured = from_junit(Path(sys.argv[1]))
    if not measured:
        sys.exit(f"{sys.argv[1]} has no test cases")
    write(measured)
    print(f"wrote {DURATIONS} ({len(measured)} modules, {sum(measured.values()):.0f} s)")
