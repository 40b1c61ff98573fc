"""The adapter translates browser errors and requests at the boundary."""

from __future__ import annotations

import pytest

from browser import (
    ModeFamily,
    NoCapacity,
    NoEligibleAccount,
    ProtocolError,
    TargetClosed,
    Tool,
    UpstreamRejected,
    UpstreamTimeout,
)
from service.backend import FileInput, TurnSpec
from service.catalog import Family, ToolName
from service.errors import (
    CapacityExhausted,
    NoHealthyAccount,
    ServiceError,
    UpstreamFailed,
    UpstreamTimedOut,
)
from service.pool_adapter import map_browser_errors, to_turn_request


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


def test_retry_after_is_carried() -> None:
    with pytest.raises(CapacityExhausted) as info, map_browser_errors():
        raise NoCapacity("busy", retry_after=12.5)
    assert info.value.retry_after == 12.5


def test_turn_request_mapping() -> None:
    spec = TurnSpec(
        prompt="p",
        family=Family.PRO,
        tool=ToolName.DEEP_RESEARCH,
        files=(FileInput("a.png", "image/png", b"x"),),
        account_id="acct-1",
        chat_id="c_1",
    )
    request = to_turn_request(spec)
    assert request.mode is ModeFamily.PRO and request.tool is Tool.DEEP_RESEARCH
    assert [(a.name, a.mime, a.data) for a in request.attachments] == [("a.png", "image/png", b"x")]
    assert (request.account_id, request.chat_id) == ("acct-1", "c_1")
