"""The account's status as the page itself learns it: the ``otAQ7b`` answer it receives on load.

The page calls ``otAQ7b`` once on every load and builds its picker from the answer, so the answer is
the authority on the account's health, tier and models; an expired session (1016) still renders a
signed-in page. It names no tools, and no thinking levels (docs/architecture/evidence.md#g6, #c8): those are
always read from the page's own menus. ``StatusWatch`` captures the answer over CDP (armed before
the navigation), ``judge`` turns it, or its absence, into a ``StatusVerdict``. A capture that fails
in any way only means "read the page's menus for the models too".
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.async_api import Page

from browser import _selectors as S
from browser._capabilities import Capabilities, PageModel, ThinkingControl
from browser._capture import BodyCapture, LoadingFailed
from browser._driver import PageDriver, PageState
from browser._health import VERIFY_REASON, NeedsPerson, needs_person_for
from browser._requests import ModeFamily, Tool
from browser.errors import BrowserError, DriverError
from browser.protocol import (
    ACCOUNT_STATUS_RPC,
    STATUS_AVAILABLE,
    STATUS_LOCATION_UNSUPPORTED,
    STATUS_TERMS_OUTDATED,
    STATUS_TERMS_PENDING,
    STATUS_UNAUTHENTICATED,
    AccountStatusAnswer,
    decode_account_status,
    decode_batchexecute,
)

__all__ = ["StatusOutcome", "StatusSource", "StatusVerdict", "StatusWatch", "Verdict", "judge"]

log = logging.getLogger(__name__)

# The rejection status a signed-out visitor's RPCs get (PERMISSION_DENIED).
_NOT_SIGNED_IN = 7


class StatusSource(enum.StrEnum):
    """Where an account's status and capabilities were read from."""

    NETWORK = "account_status"  # the page's own otAQ7b answer
    PAGE = "page"  # the page's DOM: its URL, session markers, picker and tools menu


class Verdict(enum.StrEnum):
    READY = "ready"
    SIGNED_OUT = "signed_out"
    BLOCKED = "blocked"  # out of rotation until a re-check: captcha, consent, 1060, terms, others


@dataclass(frozen=True)
class StatusOutcome:
    """What the capture got: the decoded ``answer``, a ``rejection`` code, or neither (``missing``
    says why, for the account's reason). ``payload`` is the otAQ7b result as the page got it
    (decoded JSON), kept for the doctor's evidence even when it could not be read."""

    answer: AccountStatusAnswer | None = None
    rejection: int | None = None
    missing: str = ""
    payload: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class StatusVerdict:
    verdict: Verdict
    source: StatusSource
    status_code: int | None
    reason: str | None
    capabilities: Capabilities
    # Why a person must act (None when ready, or when nothing a person can do is known).
    needs_person: NeedsPerson | None = None


def is_account_status_call(url: str) -> bool:
    """A batchexecute POST whose ``rpcids`` include ``otAQ7b``."""
    parts = urlsplit(url)
    if not parts.path.endswith("/batchexecute"):
        return False
    ids = ",".join(parse_qs(parts.query).get("rpcids", []))
    return ACCOUNT_STATUS_RPC in ids.split(",")


class StatusWatch:
    """Arm before navigating (``async with``); ``outcome()`` after the page loaded. Never raises for
    a capture problem: the outcome says what went wrong."""

    def __init__(self, page: Page, timeout: float) -> None:
        self._capture = BodyCapture(page, is_account_status_call)
        self._timeout = timeout
        self._armed = False
        self._arm_error = ""

    async def __aenter__(self) -> StatusWatch:
        try:
            await self._capture.arm()
            self._armed = True
        except BrowserError as exc:
            self._arm_error = f"the capture could not be armed ({type(exc).__name__})"
            await self._capture.close()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._capture.close()

    async def outcome(self) -> StatusOutcome:
        """The page's otAQ7b answer, waited for at most ``timeout`` seconds in all."""
        if not self._armed:
            return StatusOutcome(missing=self._arm_error)
        try:
            async with asyncio.timeout(self._timeout):
                return await self._read()
        except TimeoutError:
            return StatusOutcome(missing=f"none within {self._timeout:.0f}s")

    async def _read(self) -> StatusOutcome:
        capture = self._capture
        await capture.request_seen.wait()
        body = bytearray()
        try:
            async for chunk in capture.chunks(first_timeout=self._timeout, idle_timeout=self._timeout):
                body.extend(chunk)
        except LoadingFailed as exc:
            return StatusOutcome(missing=f"the request failed ({exc})")
        except BrowserError as exc:
            return StatusOutcome(missing=f"the answer was not read ({type(exc).__name__})")
        response = capture.response
        if response is not None and response.status != 200:
            return StatusOutcome(missing=f"the answer was HTTP {response.status}")
        return _decode(bytes(body))


def _decode(body: bytes) -> StatusOutcome:
    try:
        results = decode_batchexecute(body.decode("utf-8"))
        result = next((r for r in results if r.rpc_id == ACCOUNT_STATUS_RPC), None)
        if result is None:
            return StatusOutcome(missing="the answer holds no otAQ7b result")
        if result.error_code is not None:
            return StatusOutcome(rejection=result.error_code)
    except UnicodeDecodeError:
        return StatusOutcome(missing="the answer is not UTF-8")
    except BrowserError as exc:  # ProtocolError: the message names the rule, never page content
        return StatusOutcome(missing=f"the answer could not be decoded ({exc})")
    try:
        return StatusOutcome(answer=decode_account_status(result.payload), payload=result.payload)
    except BrowserError as exc:
        return StatusOutcome(missing=f"the answer could not be decoded ({exc})", payload=result.payload)


# -- judging --


def _status_reason(code: int) -> str:
    if code == STATUS_UNAUTHENTICATED:
        return f"cookies expired (account status {code})"
    if code == STATUS_LOCATION_UNSUPPORTED:
        return f"location not supported (account status {code})"
    if code in (STATUS_TERMS_PENDING, STATUS_TERMS_OUTDATED):
        return f"the Gemini terms of service must be accepted in a browser (account status {code})"
    return f"account unavailable (account status {code})"


def capabilities_of(
    answer: AccountStatusAnswer,
    tools: frozenset[Tool] = frozenset(),
    thinking: ThinkingControl = ThinkingControl.NONE,
) -> Capabilities:
    """Tier and the exact models from the answer (G4, G5), with the tools and the thinking control
    read from the page's menus. The tier comes from the flag sets: paid when they give the account
    more than the free capacity (the free tier also has Pro and tools, D8)."""
    models = tuple(
        PageModel(model.hex, model.label, *_family(model.name or model.label, model.mode_number))
        for model in answer.models
    )
    modes = frozenset(model.family for model in models if model.family)
    tier = "paid" if answer.capacity > 1 else "free"
    return Capabilities(tier=tier, modes=modes, tools=tools, models=models, thinking=thinking)


def _family(label: str, category: int | None) -> tuple[ModeFamily | None, bool]:
    family = S.family_of_label(label)
    thinks = S.thinks_by_label(label)
    if family is None and not S.is_light_label(label) and category is not None:
        family, thinks = S.MODE_CATEGORY_FAMILIES.get(category, (None, False))
    return family, thinks


async def _menus(driver: PageDriver) -> tuple[ThinkingControl, frozenset[Tool], str | None]:
    """The thinking control and the tools, from the page's menus; a menu the table cannot read
    leaves the account serving what the account-status answer says, and the reason names it."""
    unread: list[str] = []
    thinking, tools = ThinkingControl.NONE, frozenset[Tool]()
    try:
        _, thinking = await driver.picker.offer()
    except DriverError as exc:
        unread.append(f"the mode picker could not be read ({exc})")
    try:
        tools = await driver.toolbox.offered()
    except DriverError as exc:
        unread.append(f"the tools menu could not be read ({exc})")
    return thinking, tools, "; ".join(unread) or None


async def judge(driver: PageDriver, page_state: PageState, outcome: StatusOutcome | None) -> StatusVerdict:
    """The account's verdict: from the network answer when there is one, else from the page
    (``outcome`` is None when nothing was awaited: the page left the app for a wall or sign-in),
    with the reason a person is needed read from the same page state and status code."""
    verdict = await _judge(driver, page_state, outcome)
    if verdict.verdict is Verdict.READY:
        return verdict
    needs = needs_person_for(page_state, verdict.status_code)
    if needs is None and verdict.verdict is Verdict.SIGNED_OUT:
        needs = NeedsPerson.SIGNED_OUT  # the otAQ7b call refused as for a signed-out visitor
    return replace(verdict, needs_person=needs)


async def _judge(driver: PageDriver, page_state: PageState, outcome: StatusOutcome | None) -> StatusVerdict:
    if page_state is PageState.VERIFY:
        # fidelity.md A4: a challenge under /v3/signin/challenge; the session is not usable until a
        # person passes it, and a new sign-in is not what is asked.
        return StatusVerdict(Verdict.SIGNED_OUT, StatusSource.PAGE, None, VERIFY_REASON, Capabilities("anon"))
    if page_state in (PageState.CAPTCHA, PageState.CONSENT):
        # A wall replaced the app: there is no app to ask, whatever the capture saw.
        return StatusVerdict(Verdict.BLOCKED, StatusSource.PAGE, None, page_state.value, Capabilities("anon"))
    if outcome is None:
        if page_state is PageState.SIGNED_OUT:
            reason = "signed out (sent to the sign-in page)"
            return StatusVerdict(Verdict.SIGNED_OUT, StatusSource.PAGE, None, reason, Capabilities("anon"))
        outcome = StatusOutcome(missing="it was not awaited")
    answer = outcome.answer
    if answer is not None:
        code = answer.status_code
        if code == STATUS_AVAILABLE:
            thinking, tools, unread = await _menus(driver)
            capabilities = capabilities_of(answer, tools, thinking)
            return StatusVerdict(Verdict.READY, StatusSource.NETWORK, code, unread, capabilities)
        verdict = Verdict.SIGNED_OUT if code == STATUS_UNAUTHENTICATED else Verdict.BLOCKED
        return StatusVerdict(verdict, StatusSource.NETWORK, code, _status_reason(code), Capabilities("anon"))
    if outcome.rejection == _NOT_SIGNED_IN:
        reason = f"signed out (the account-status call was refused with code {_NOT_SIGNED_IN})"
        return StatusVerdict(Verdict.SIGNED_OUT, StatusSource.NETWORK, None, reason, Capabilities("anon"))
    why = outcome.missing or f"the account-status call was refused with code {outcome.rejection}"
    log.info("account status not read from the network (%s); reading the page", why)
    if page_state is PageState.SIGNED_OUT:
        reason = f"signed out (read from the page: no account-status answer: {why})"
        return StatusVerdict(Verdict.SIGNED_OUT, StatusSource.PAGE, None, reason, Capabilities("anon"))
    capabilities = await driver.capabilities(page_state)
    reason = f"capabilities read from the page's menus: no account-status answer ({why})"
    return StatusVerdict(Verdict.READY, StatusSource.PAGE, None, reason, capabilities)
