"""The Makefile's xdist flags keep each module on one worker (tests/support/schedule.py): run on two
small modules with a module-scoped fixture each, every module's tests run on one worker and its
fixture is built once. Under pytest 9.2, ``--dist loadgroup`` with an ``xdist_group`` per module (the
old flags, the conftest below marking as the suite's did) splits the modules: this test then fails."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.support.paths import ROOT

MODULE = """
import json, os
from pathlib import Path

import pytest

LOG = Path(os.environ["SCHEDULE_LOG"])


def note(event: str) -> None:
    with LOG.open("a") as log:
        log.write(json.dumps([__name__, os.environ["PYTEST_XDIST_WORKER"], event]) + "\\n")


@pytest.fixture(scope="module")
def stack():
    note("built")
    yield


@pytest.mark.parametrize("n", range(6))
def test_one(stack, n):
    note("ran")
"""

# As the suite's conftest marked modules before (one group per module, given before xdist looks).
CONFTEST = """
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
"""


def makefile_flags() -> list[str]:
    """The xdist flags of the Makefile's ``PYTEST`` (after ``-m pytest``)."""
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("PYTEST :="))
    return shlex.split(line.split("-m pytest", 1)[1])


def test_the_makefiles_flags_keep_each_module_on_one_worker(tmp_path: Path) -> None:
    flags = makefile_flags()
    assert "-n" in flags and "--dist" in flags, flags
    for name in ("test_alpha.py", "test_beta.py"):
        (tmp_path / name).write_text(MODULE)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    log = tmp_path / "log.jsonl"
    # Only xdist: the installed plugins (Playwright's, the SDKs') would cost each process seconds.
    env = {**os.environ, "SCHEDULE_LOG": str(log), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "xdist.plugin", *flags, "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    workers: dict[str, set[str]] = defaultdict(set)
    built: dict[str, int] = defaultdict(int)
    ran = 0
    for line in log.read_text().splitlines():
        module, worker, event = json.loads(line)
        workers[module].add(worker)
        built[module] += event == "built"
        ran += event == "ran"
    assert ran == 12, "every test ran: the check means something"
    assert all(len(seen) == 1 for seen in workers.values()), f"a module's tests were split: {dict(workers)}"
    assert dict(built) == {"test_alpha": 1, "test_beta": 1}, "each module's fixture is built once"
