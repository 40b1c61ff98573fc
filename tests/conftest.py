"""Session-wide fixtures: one Playwright, one Chromium, one simulator per test session."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Playwright, async_playwright

from browser._launcher import PLAYWRIGHT_DISABLED_FEATURES
from browser._settings import DEFAULT_DISABLED_FEATURES
from tests.support import memory_tmp, orphans, schedule, tiers, tls
from tests.support.pacing import PACING
from tests.support.redis import async_redis, durable_redis, redis_server, redis_url  # noqa: F401 (fixtures for every test)
from tests.support.servers import serve
from tests.support.state_backends import state_backend  # noqa: F401 (sqlite and redis, parametrized)

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    # As the pool launches it: no omnibox popup preloaded in a renderer of its own for every context
    # (each test's context paid that process's start), no spare renderer. Chromium reads only the
    # last --disable-features, so Playwright's own are repeated.
    "--disable-features=" + ",".join((*PLAYWRIGHT_DISABLED_FEATURES, *DEFAULT_DISABLED_FEATURES)),
]

# Before any test makes an HTTP client: one CA bundle loaded per process, not one per client.
tls.share_default_context()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Tag the session's processes (see tests/support/orphans.py) before any test starts one."""
    session.config.stash[_SESSION_TAG] = orphans.tag_session()


def pytest_configure(config: pytest.Config) -> None:
    if schedule.recording(config):
        config.pluginmanager.register(schedule.Recorder(), "durations-recorder")
    if tiers.watching(config):
        config.pluginmanager.register(tiers.SpawnWatch(), "spawn-watch")
        memory_tmp.use(config.option.basetemp)  # before xdist's workers start: they inherit it


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The fast tier does not import what it would deselect anyway."""
    if not tiers.watching(config) or not collection_path.is_relative_to(config.rootpath):
        return None
    relative = collection_path.relative_to(config.rootpath).as_posix()
    return True if tiers.outside_fast(relative + "/" * collection_path.is_dir()) else None


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[object]:
    """Collect without the cyclic garbage collector, then freeze what collection made.

    Collection imports the service, the SDKs and every test module: hundreds of thousands of
    objects that live until the session ends. With the collector on, each import triggered passes
    over all of them, and after it every full collection during the tests traversed them again
    (about 20% of the CPU of a service and simulator sample). Frozen, they are left out of every
    later pass; what the tests create is collected as before."""
    gc.disable()
    try:
        return (yield)
    finally:
        gc.freeze()
        gc.enable()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tiers.mark(items)
    schedule.arrange(items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a process a test started (Chromium, Node, a server) is still alive."""
    tag = session.config.stash.get(_SESSION_TAG, None)
    left = orphans.wait_for_none(tag, timeout=10) if tag else []
    if left:
        orphans.kill(left)
        listing = "\n  ".join(str(survivor) for survivor in left)
        session.config.get_terminal_writer().line(
            f"\nERROR: {len(left)} process(es) started by the tests outlived the session (killed now):"
            f"\n  {listing}",
            red=True,
            bold=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_SESSION_TAG = pytest.StashKey[str]()


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's proxy and gateway settings out of the tests."""
    for name in list(os.environ):
        if name.lower() in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"} or name.startswith(
            ("GATEWAY_", "SIM_")
        ):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as pw:
        yield pw


def _chromium_installed() -> bool:
    return os.path.exists(CHROMIUM_PATH)


@pytest.fixture(scope="session")
async def chromium(playwright: Playwright) -> AsyncIterator[Browser]:
    """One headless Debian Chromium for the whole session."""
    if not _chromium_installed():
        pytest.fail(f"Chromium not found at {CHROMIUM_PATH}; run `make test` (it installs it)")
    browser = await playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        await browser.close()


NewContext = Callable[..., Awaitable[BrowserContext]]


@pytest.fixture
async def new_context(chromium: Browser) -> AsyncIterator[NewContext]:
    """Factory for browser contexts; every context it made is closed after the test."""
    made: list[BrowserContext] = []

    async def factory(**kwargs: object) -> BrowserContext:
        context = await chromium.new_context(**kwargs)  # type: ignore[arg-type]
        made.append(context)
        return context

    try:
        yield factory
    finally:
        for context in made:
            await context.close()


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    """A simulator of gemini.google.com on loopback with the tests' pacing."""
    from simulator.app import create_app
    from simulator.settings import SimulatorSettings

    settings = SimulatorSettings.model_validate(PACING)
    with serve(create_app(settings)) as url:
        yield url
