"""The suite's tiers, as markers given at collection, in one place.

- ``browser``: the test drives Chromium (a browser directory, or a Chromium fixture in its closure);
- ``subprocess``: it starts a process (the gateway's CLI, mkdocs, a Playwright server, node);
- ``check``: a packaging check (the Docker install replay, hadolint, the lock, the benchmarks' smoke
  runs, the schema fuzzer): ``make check`` runs these, ``make test`` everything else.

``make test-fast`` runs what has none of the three. It also watches that promise: with
``TEST_TIER=fast`` a test that starts a process anyway fails, naming this file, so a new test that
needs Chromium or a subprocess is marked here instead of slowing the inner loop unnoticed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from typing import Any

import pytest

from tests.support.schedule import module_of

BROWSER_DIRS = ("tests/browser/", "tests/simulator_page/", "tests/e2e/")
BROWSER_FIXTURES = frozenset({"playwright", "chromium", "new_context", "lender", "pool_of"})
BROWSER_MODULES = frozenset(
    {
        "tests/service/test_admin_docker.py",
        "tests/service/test_cluster_e2e.py",
        "tests/service/test_cluster_failover.py",
        "tests/service/test_doctor.py",
        "tests/service/test_doctor_presentation.py",
        "tests/service/test_playwright_pin.py",
        "tests/service/test_secrets_profiles.py",
        "tests/service/test_stop_timeout.py",
        "tests/service/test_watermark_e2e.py",
        "tests/test_no_orphans.py",
    }
)
SUBPROCESS_MODULES = frozenset(
    {
        "tests/service/test_cluster_failover.py",
        "tests/service/test_cookie_file_import.py",
        "tests/service/test_accounts_import_profile.py",
        "tests/service/test_doctor.py",
        "tests/service/test_playwright_pin.py",
        "tests/service/test_service_cli_supervision.py",
        "tests/service/test_watermark.py",
        "tests/service/test_watermark_e2e.py",
        "tests/test_docs.py",
        "tests/test_no_orphans.py",
        "tests/test_support_schedule.py",
    }
)
# A real server started by a fixture (tests/support/redis.py).
SUBPROCESS_FIXTURES = frozenset({"redis_server", "redis_url", "durable_redis"})
CHECK_MODULES = frozenset(
    {
        "tests/test_docker_install.py",
        "tests/test_hadolint.py",
        "tests/test_lock.py",
        "tests/test_bench_smoke.py",
        "tests/test_bench_load_smoke.py",
        "tests/test_bench_cluster_smoke.py",
        "tests/service/test_service_schemathesis.py",
    }
)
FAST_ENV = "TEST_TIER"
# platform.processor() runs `uname -p` (the openai client's platform headers ask it once).
_HARMLESS = frozenset({"uname"})


def outside_fast(relative: str) -> bool:
    """Whether none of a file's or directory's tests (path relative to the root, a directory's
    ending in ``/``) can be in the fast tier, so that the fast tier need not even import it: the
    browser directories' modules (anthropic, google-genai, langchain) and the listed modules cost
    each worker about a second of its collection."""
    return (
        relative.startswith(BROWSER_DIRS) or relative in BROWSER_MODULES | SUBPROCESS_MODULES | CHECK_MODULES
    )


def mark(items: list[pytest.Item]) -> None:
    for item in items:
        module = module_of(item.nodeid)
        if module in CHECK_MODULES:
            item.add_marker(pytest.mark.check)
        if (
            module.startswith(BROWSER_DIRS)
            or module in BROWSER_MODULES
            or BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        ):
            item.add_marker(pytest.mark.browser)
        if (
            module.startswith("tests/e2e/")
            or module in SUBPROCESS_MODULES | CHECK_MODULES
            or SUBPROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        ):
            item.add_marker(pytest.mark.subprocess)


class SpawnWatch:
    """In the fast tier, a test that starts a process fails (an audit hook sees every
    ``subprocess.Popen``, which asyncio's subprocesses and Playwright's driver go through too)."""

    def __init__(self) -> None:
        self.spawned: list[str] = []
        sys.addaudithook(self._audit)

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event in {"subprocess.Popen", "os.posix_spawn"} and str(args[0]) not in _HARMLESS:
            self.spawned.append(str(args[0]))

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if self.spawned and report.when == "teardown":
            started, self.spawned = self.spawned, []
            report.outcome = "failed"
            report.longrepr = (
                f"{item.nodeid} started a process in the fast tier ({started[0]}); "
                "mark it in tests/support/tiers.py"
            )


def watching(config: pytest.Config) -> bool:
    return os.environ.get(FAST_ENV) == "fast"
