"""The adapter translates browser errors at the boundary and passes the browser's own requests on."""

from __future__ import annotations

import pytest

from browser import (
    Attachment,
    ModeFamily,
    NoCapacity,
    NoEligibleAccount,
    ProtocolError,
    TargetClosed,
    ThinkingLevel,
    Tool,
    TurnRequest,
    UpstreamRejected,
    UpstreamTimeout,
)
from service.errors import (
    CapacityExhausted,
    NoHealthyAccount,
    ServiceError,
    UpstreamFailed,
    UpstreamTimedOut,
)
from service.pool_adapter import BrowserBackend, map_browser_errors
from tests.service.scripted_pool import ScriptedPool


@pytest.mark.parametrize(
    ("error", "expected", "code"),
    [
        (NoCapacity("busy", retry_after=3), CapacityExhausted, "no_capacity"),
        (NoEligibleAccount("none"), NoHealthyAccount, "no_healthy_account"),
        (UpstreamRejected(1037, 8), UpstreamFailed, "gemini_1037"),
        (UpstreamTimeout("stalled"), UpstreamTimedOut, "upstream_timeout"),
        (TargetClosed("page crashed"), UpstreamFailed, "upstream_error"),
        (ProtocolError("bad frame"), UpstreamFailed, "upstream_error"),
    ],
)
def test_browser_errors_become_service_errors(
    error: Exception, expected: type[ServiceError], code: str
) -> None:
    with pytest.raises(expected) as info, map_browser_errors():
        raise error
    assert info.value.code == code and info.value.__cause__ is error


def test_a_usage_limit_the_pool_could_not_move_says_so() -> None:
    with pytest.raises(UpstreamFailed) as info, map_browser_errors():
        raise UpstreamRejected(1037, 8)
    assert info.value.gemini_code == 1037 and "usage limit" in info.value.message


def test_retry_after_is_carried() -> None:
    with pytest.raises(CapacityExhausted) as info, map_browser_errors():
        raise NoCapacity("busy", retry_after=12.5)
    assert info.value.retry_after == 12.5


async def test_the_request_reaches_the_pool_as_built() -> None:
    # One port: the service builds the browser's TurnRequest and the adapter hands it on untouched.
    pool = ScriptedPool()
    request = TurnRequest(
        prompt="p",
        mode=ModeFamily.PRO,
        thinking=ThinkingLevel.HIGH,
        tool=Tool.DEEP_RESEARCH,
        attachments=(Attachment("a.png", "image/png", b"x"),),
        account_id="acct-1",
        chat_id="c_1",
    )
    async with BrowserBackend(pool).turn(request) as turn:
        texts = [snapshot.text async for snapshot in turn]
    assert pool.requests == [request] and pool.requests[0] is request
    assert texts[-1] == "You said: p"
