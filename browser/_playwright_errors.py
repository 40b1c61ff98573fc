"""Translate Playwright's exceptions into the browser layer's tree, at the boundary.

A closed page, context or browser is told by Playwright's own class, ``TargetClosedError``, before
any message is read; the message is matched only for what Playwright raises as a plain ``Error``
(a CDP session's answer after its target went, a dropped connection, a crashed renderer).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

# The class Playwright raises for closed targets; 1.65 defines it beside Error and TimeoutError but
# does not re-export it from ``async_api``, so it comes from where the public errors are defined.
from playwright._impl._errors import TargetClosedError
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from browser.errors import BrowserError, DriverError, NavigationFailed, StepTimeout, TargetClosed

# What the plain errors say when their target is gone (CDP sessions, the connection, crashes).
_CLOSED_MARKERS = (
    "target closed",
    "has been closed",
    "browser has been closed",
    "target crashed",
    "page crashed",
    "connection closed",
    "browser closed",
    "context or browser has been closed",
    "websocket closed",
    "session closed",
    "not connected",
)


def is_closed_error(exc: BaseException) -> bool:
    if isinstance(exc, TargetClosedError):
        return True
    text = str(exc).lower()
    return any(marker in text for marker in _CLOSED_MARKERS)


@contextmanager
def map_playwright_errors(step: str, *, navigation: bool = False) -> Iterator[None]:
    """Run a block whose Playwright failures become ``StepTimeout``/``TargetClosed``/``DriverError``.

    A builtin ``TimeoutError`` (a call with no timeout of its own, bounded by ``asyncio.timeout``)
    is a ``StepTimeout`` too.

    Only the first line of Playwright's message is kept: its call logs can quote page content.
    """
    try:
        yield
    except BrowserError:
        raise
    except (PlaywrightTimeoutError, TimeoutError):
        raise StepTimeout(f"step {step!r} timed out", step=step) from None
    except PlaywrightError as exc:
        first_line = next(iter((exc.message or str(exc)).splitlines()), type(exc).__name__)[:200]
        if is_closed_error(exc):
            raise TargetClosed(f"{step}: {first_line}") from None
        if navigation:
            raise NavigationFailed(f"{step}: {first_line}", step=step) from None
        raise DriverError(f"{step}: {first_line}", step=step) from None
