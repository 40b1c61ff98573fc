"""No raw Playwright error leaves the browser layer: page steps fail with ``browser.errors`` types,
and an account whose start fails for any reason ends FAILED, never stuck in STARTING."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright._impl._errors import TargetClosedError
from playwright.async_api import Error as PlaywrightError

from browser._accounts import Account, AccountState
from browser._cookies import from_session
from browser._driver import PageDriver, PageState
from browser._playwright_errors import is_closed_error, map_playwright_errors
from browser._requests import Attachment, ModeFamily, Tool
from browser._settings import PoolSettings
from browser._store import CookieStore
from browser.errors import DriverError, StepTimeout, TargetClosed
from tests.browser.conftest import Sim, cookie
from tests.browser.test_browser_driver import _driver, _page
from tests.conftest import NewContext

FILE = Attachment("notes.txt", "text/plain", b"some notes\n")

# Every public step of the driver, run on a page that has gone away.
STEPS: dict[str, Callable[[PageDriver], Awaitable[object]]] = {
    "detect": lambda d: d.detect(),
    "capabilities": lambda d: d.capabilities(PageState.READY),
    "current_mode_label": lambda d: d.current_mode_label(),
    "choose_mode": lambda d: d.choose_mode(ModeFamily.PRO),
    "choose_tool": lambda d: d.choose_tool(Tool.IMAGE),
    "attach": lambda d: d.attach((FILE,)),
    "wait_uploads": lambda d: d.wait_uploads(1),
    "insert_prompt": lambda d: d.insert_prompt("hello"),
    "response_count": lambda d: d.response_count(),
    "send": lambda d: d.send(),
    "stop": lambda d: d.stop(),
    "read_answer": lambda d: d.read_answer(),
}


@pytest.mark.browser
@pytest.mark.parametrize("step", sorted(STEPS))
async def test_every_step_on_a_closed_page_is_target_closed(
    new_context: NewContext, simulators: dict[str, str], step: str
) -> None:
    url = simulators["oct2026"]
    page = await _page(new_context, url, cookie("paid"))
    driver = _driver(page, url)
    assert await driver.open("/app") is PageState.READY
    await page.close()
    with pytest.raises(TargetClosed):
        await asyncio.wait_for(STEPS[step](driver), 10)


@pytest.mark.browser
async def test_closing_the_page_while_choose_mode_waits_is_target_closed(
    new_context: NewContext, sim_url: str
) -> None:
    page = await _page(new_context, sim_url, cookie("paid"))
    # The step's own timeout (60 s) is far past the bound below: only the close can end the wait.
    driver = _driver(page, sim_url, ui_timeout=60)
    assert await driver.open("/app") is PageState.READY
    # A picker that never becomes visible keeps choose_mode waiting inside its step.
    await page.add_style_tag(content="bard-mode-switcher button { visibility: hidden !important; }")
    choosing = asyncio.create_task(driver.choose_mode(ModeFamily.PRO))
    # A round trip on the same connection, after the task has sent its first command.
    await asyncio.sleep(0)
    await page.evaluate("1")
    assert not choosing.done()
    await page.close()
    with pytest.raises(TargetClosed):
        await asyncio.wait_for(choosing, 10)  # the close ends the wait, not the step's timeout


@pytest.mark.browser
async def test_an_upload_slower_than_its_timeout_is_a_step_timeout_naming_the_step(
    new_context: NewContext, sim_url: str, sim: Sim
) -> None:
    sim.config(upload_delay=4.0)
    page = await _page(new_context, sim_url, cookie("paid"))
    driver = _driver(page, sim_url, upload_timeout=1.0)
    assert await driver.open("/app") is PageState.READY
    with pytest.raises(StepTimeout) as caught:
        # Bounded well below the upload's 4 s: the step's own timeout must end it.
        await asyncio.wait_for(driver.attach((FILE,)), 3.5)
    assert caught.value.step == "wait for uploads"
    assert "wait for uploads" in str(caught.value)


def test_playwright_target_closed_is_known_by_its_class() -> None:
    # Whatever its message says (a close reason the page gave): the class decides, not the text.
    with pytest.raises(TargetClosed), map_playwright_errors("click send"):
        raise TargetClosedError("the operator closed the window")
    assert is_closed_error(TargetClosedError())
    assert not is_closed_error(PlaywrightError("element is not visible"))


def test_playwright_errors_map_to_the_tree() -> None:
    with pytest.raises(TargetClosed), map_playwright_errors("x"):
        raise PlaywrightError("Target page, context or browser has been closed")
    with pytest.raises(DriverError) as caught, map_playwright_errors("read"):
        raise PlaywrightError("")  # an empty message must not break the mapping itself
    assert caught.value.step == "read"
    with pytest.raises(StepTimeout) as timed_out, map_playwright_errors("count answers"):
        raise TimeoutError  # asyncio.timeout around a call that has no timeout of its own
    assert timed_out.value.step == "count answers"


class _BrokenLauncher:
    """Fails the way nothing in the browser layer expects (not a ``BrowserError``)."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.entered = asyncio.Event()

    async def account_context(self, account_id: str, proxy: str | None, *, profile: bool = False) -> object:
        self.entered.set()
        if self.error is not None:
            raise self.error
        await asyncio.Event().wait()  # hangs until cancelled
        raise AssertionError("unreachable")


def _account(tmp_path: Path, launcher: _BrokenLauncher) -> Account:
    settings = PoolSettings(data_dir=tmp_path)
    psid = cookie("paid")
    return Account(
        "acct",
        "acct",
        from_session(psid),
        None,
        settings,
        launcher,  # type: ignore[arg-type]
        CookieStore(tmp_path),
    )


async def test_an_unexpected_start_error_ends_failed_without_its_message(tmp_path: Path) -> None:
    secret = "__Secure-1PSID=paid-very-secret-value"
    account = _account(tmp_path, _BrokenLauncher(RuntimeError(f"rejected {secret}")))
    await account.start()
    info = account.info()
    assert info.state is AccountState.FAILED
    assert info.last_error is not None and "RuntimeError" in info.last_error
    assert "secret" not in info.last_error


async def test_a_raw_playwright_error_at_start_ends_failed(tmp_path: Path) -> None:
    account = _account(tmp_path, _BrokenLauncher(PlaywrightError("Protocol error (Target.createTarget)")))
    await account.start()
    assert account.state is AccountState.FAILED
    assert account.last_error is not None and "Error" in account.last_error


async def test_a_cancelled_start_ends_failed(tmp_path: Path) -> None:
    launcher = _BrokenLauncher()
    account = _account(tmp_path, launcher)
    starting = asyncio.create_task(account.start())
    await asyncio.wait_for(launcher.entered.wait(), 5)
    assert account.state is AccountState.STARTING
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert account.state is AccountState.FAILED
    assert account.last_error == "start interrupted"
